"""The default paper's names and numbers (harness/papers/flash-wam), for code that shows one paper.

Everything here is read from the paper definition (paperdef.py); nothing is written down twice. Code
that renders any paper takes a `Paper` instead; these names stay for the figures, the store's horizon
labels and callers that want the default.
"""

from __future__ import annotations

from harness.report.paperdef import default_paper
from harness.report.printed import RefValue, TaskValue, nfe_label

_PAPER = default_paper()
_ROBOTWIN = _PAPER.spec.benchmarks["robotwin2"]
_LIBERO = _PAPER.spec.benchmarks["libero"]

METHOD_ORDER: tuple[str, ...] = _PAPER.method_order
METHOD_LABELS: dict[str, str] = dict(_PAPER.method_labels)
BACKEND_NEUTRAL_LABELS: dict[str, str] = dict(_PAPER.neutral_labels)
LINGBOT_BACKEND = _PAPER.spec.network
LIBERO_SUITES: tuple[str, ...] = tuple(_LIBERO.suites)
LIBERO_LABELS: dict[str, str] = {s: _PAPER.label(s) for s in LIBERO_SUITES}
ROBOTWIN = _ROBOTWIN.suites[0]
ROBOTWIN_SPLITS: tuple[str, ...] = tuple(_ROBOTWIN.splits)
SPLIT_LABELS: dict[str, str] = {s: _PAPER.label(s) for s in ROBOTWIN_SPLITS}
# (key, title, suites) of each benchmark, in the paper's order: what the figures are drawn per.
BENCHMARKS: tuple[tuple[str, str, tuple[str, ...]], ...] = tuple(
    (key, b.title, tuple(b.suites)) for key, b in _PAPER.spec.benchmarks.items()
)
FULL_TEACHER_NFE: tuple[tuple[int, int], ...] = tuple(
    nfe for rule in _PAPER.spec.reduced_nfe for nfe in _PAPER.full_nfe(rule)
)


def method_label(method: str, backend: str | None = None) -> str:
    """How a method's row is named: the paper's label for the paper's numbers (backend None) and for
    runs of the LingBot-VA network; without "LingBot-VA" for any other backend."""
    return _PAPER.method_label(method, backend)


def paper_values() -> tuple[RefValue, ...]:
    return _PAPER.values


def per_task_values() -> tuple[TaskValue, ...]:
    return _PAPER.tasks


def robotwin_tasks() -> tuple[tuple[str, str, int], ...]:
    """(module name, display name, horizon) of the 50 RoboTwin tasks, in Table 8's order."""
    return _PAPER.task_order


def robotwin_horizons() -> dict[str, int]:
    return _PAPER.horizons()


def lookup(
    table: str,
    method: str,
    nfe: tuple[int | None, int | None],
    column: str,
    horizon: str = "all",
) -> RefValue | None:
    """The paper's number for one cell, or None where the paper printed none."""
    return _PAPER.lookup(table, method, nfe, column, horizon)


def printed_methods(nfe: tuple[int | None, int | None]) -> frozenset[str]:
    """Methods the paper prints a row for at this NFE, in any table."""
    return _PAPER.printed_methods(nfe)


def lookup_task(method: str, nfe: tuple[int | None, int | None], task: str, split: str) -> float | None:
    return _PAPER.lookup_task(method, nfe, task, split)


def paper_method(method: str, nfe: tuple[int | None, int | None]) -> str:
    """The paper's name for a stored method at an NFE (a teacher below full NFE is a separate row)."""
    return _PAPER.paper_method(method, nfe)


def method_rank(method: str) -> int:
    return _PAPER.method_rank(method)


__all__ = [
    "BACKEND_NEUTRAL_LABELS",
    "BENCHMARKS",
    "LIBERO_LABELS",
    "LIBERO_SUITES",
    "METHOD_LABELS",
    "METHOD_ORDER",
    "ROBOTWIN",
    "ROBOTWIN_SPLITS",
    "SPLIT_LABELS",
    "RefValue",
    "TaskValue",
    "lookup",
    "lookup_task",
    "method_label",
    "method_rank",
    "nfe_label",
    "paper_method",
    "paper_values",
    "per_task_values",
    "printed_methods",
    "robotwin_horizons",
    "robotwin_tasks",
]
