"""The paper's Figure 2 is a `wambench.figures` provider of the WAM package, declared in pyproject."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report.plots import FigureSpec
from policies.wam.figures import figure2

ROOT = Path(__file__).resolve().parents[3]


def test_figure2_is_a_report_figure() -> None:
    spec = figure2()
    assert isinstance(spec, FigureSpec) and spec.stem == "fig2_analysis"
    left, right = spec.figure.axes
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["lcm", "linear"]
    assert len(right.get_legend().get_texts()) == 3  # video shift 5, action shifts 1 and 0.05


def test_pyproject_declares_the_provider() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    group = config["project"]["entry-points"]["wambench.figures"]
    assert group == {"fig2_analysis": "policies.wam.figures:figure2"}
