"""Plugin figures reach every report through `wambench.figures` providers, in name order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from matplotlib.figure import Figure

from harness.errors import UserError
from harness.report.plots import FigureSpec
from harness.report.providers import figures, provided_figures


def one() -> FigureSpec:
    return FigureSpec("one", "the first", Figure())


def two() -> list[FigureSpec]:
    return [FigureSpec("two_a", "", Figure()), FigureSpec("two_b", "", Figure())]


def not_a_figure() -> str:
    return "nope"


@pytest.fixture
def registered() -> Iterator[list[str]]:
    names = ["b_two", "a_one"]
    figures.register("b_two", "tests.harness.report.test_providers:two")
    figures.register("a_one", "tests.harness.report.test_providers:one")
    yield names
    for name in names:
        figures.unregister(name)


def test_providers_run_in_name_order_and_may_return_several(registered: list[str]) -> None:
    stems = [s.stem for s in provided_figures()]
    assert stems[stems.index("one") :][:3] == ["one", "two_a", "two_b"]


def test_a_provider_returning_no_figure_is_refused(registered: list[str]) -> None:
    figures.register("c_bad", "tests.harness.report.test_providers:not_a_figure")
    try:
        with pytest.raises(UserError, match="figure provider 'c_bad'"):
            provided_figures()
    finally:
        figures.unregister("c_bad")
