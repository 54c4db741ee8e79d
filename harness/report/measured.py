"""A paper's tables built from stored runs, optionally beside the paper's numbers.

The layouts are the paper definition's (tables.yaml, `measured`); this module knows three kinds of
table and no table of its own. A measured cell pools the finished episodes it covers (success +
failure; errors are counted apart and never as failures) and shows the Wilson 95% interval and n.
Pooling equals the paper's mean over tasks when every task ran the same number of episodes, which a
manifest guarantees.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from harness.report.consistency import Regrouping, fit_horizons
from harness.report.latency import latency_set
from harness.report.paperdef import Paper, default_paper
from harness.report.paperspec import ColumnSpec, MeasuredTableSpec
from harness.report.pertask import per_task_table, suite_tasks_table
from harness.report.results import Episode, RunSet
from harness.report.rows import (
    WILSON_NOTE,
    Column,
    PaperLookup,
    counts,
    order_key,
    paper_lookup,
    paper_row_method,
    policy_label,
    policy_table,
)
from harness.report.table import Table


# ---- layouts -> columns ------------------------------------------------------------------------------
@cache
def grouping(paper: Paper) -> tuple[dict[str, int], tuple[Regrouping, ...]]:
    """The horizon of each task as the paper's horizon tables count it: the per-task table's labels,
    with the regroupings the consistency check finds by recomputing those tables from it."""
    found, moves = fit_horizons(paper.values, paper.tasks, paper=paper)
    return found, tuple(moves)


def tables47_grouping() -> tuple[dict[str, int], tuple[Regrouping, ...]]:
    """The default paper's grouping (its Tables 4 and 7)."""
    return grouping(default_paper())


def _selects(c: ColumnSpec, groups: dict[str, int]) -> Callable[[Episode], bool]:
    def select(e: Episode) -> bool:
        return (
            (c.split is None or e.key.split == c.split)
            and (c.suite is None or e.key.suite == c.suite)
            and (c.horizon is None or groups.get(e.key.task) == c.horizon)
        )

    return select


def columns_of(spec: MeasuredTableSpec, runs: RunSet, paper: Paper) -> list[Column]:
    """The layout's columns: what each selects and where its paper number is."""
    groups = grouping(paper)[0]
    ran = set(runs.suites())
    out = []
    for c in (c for family in spec.columns for c in family.expand(paper.label)):
        lookup: PaperLookup | None = None
        if c.tables:
            lookup = paper_lookup(c.tables, c.printed_column, c.printed_horizon, paper)
            if c.every_suite and not all(s in ran for s in spec.suites):
                lookup = lambda p: (None, None)  # noqa: E731 (a mean over fewer suites is another number)
        out.append(Column(c.header, _selects(c, groups), lookup))
    return out


def horizon_note(paper: Paper | None = None) -> str:
    """Which grouping the horizon columns use, in words, from the grouping itself."""
    paper = paper or default_paper()
    words = paper.tables.horizon_note
    if words is None:
        return ""
    moves = grouping(paper)[1]
    if not moves:
        return words.as_printed
    moved = "; ".join(
        words.moved.format(task=m.task, fitted=m.fitted_horizon, printed=m.printed_horizon) for m in moves
    )
    return words.regrouped.format(moved=moved)


def layout_table(spec: MeasuredTableSpec, runs: RunSet, vs_paper: bool, paper: Paper) -> Table:
    """A `policies` table of the paper's layout."""
    nfe = spec.nfe
    t = policy_table(
        spec.name,
        spec.title,
        runs,
        spec.suites,
        columns_of(spec, runs, paper),
        vs_paper,
        latency_set(runs, spec.suites) if spec.latency else None,
        only=(lambda p: p.nfe == nfe) if nfe is not None else (lambda p: True),
        paper=paper,
    )
    t.notes += spec.notes
    if spec.horizon_note and horizon_note(paper):
        t.notes.append(horizon_note(paper))
    missing = [paper.label(s) for s in spec.suites if s not in runs.suites()]
    if spec.missing_suites_note and missing and not t.is_empty:
        t.notes.append(spec.missing_suites_note.format(missing=", ".join(missing)))
    return t


def measured_table(spec: MeasuredTableSpec, runs: RunSet, vs_paper: bool, paper: Paper) -> Table:
    if spec.kind == "per-task":
        return per_task_table(spec, runs, vs_paper, paper)
    if spec.kind == "suite-tasks":
        return suite_tasks_table(spec, runs, paper)
    return layout_table(spec, runs, vs_paper, paper)


def measured_tables(runs: RunSet, vs_paper: bool, paper: Paper | None = None) -> list[Table]:
    """Every measured table of the paper's layout, in its order."""
    paper = paper or default_paper()
    return [measured_table(spec, runs, vs_paper, paper) for spec in paper.tables.measured]


# ---- the default paper's tables by name (callers and tests that want one) ---------------------------
def named_table(name: str, runs: RunSet, vs_paper: bool) -> Table:
    paper = default_paper()
    return measured_table(paper.measured_table(name), runs, vs_paper, paper)


def table1(runs: RunSet, vs_paper: bool) -> Table:
    return named_table("table1", runs, vs_paper)


def table2(runs: RunSet, vs_paper: bool) -> Table:
    return named_table("table2", runs, vs_paper)


def table4(runs: RunSet, vs_paper: bool) -> Table:
    return named_table("table4", runs, vs_paper)


def table7(runs: RunSet, vs_paper: bool) -> Table:
    return named_table("table7", runs, vs_paper)


def table8(runs: RunSet, vs_paper: bool) -> Table:
    return named_table("table8", runs, vs_paper)


def per_task_libero(runs: RunSet) -> Table:
    return named_table("pertask_libero", runs, False)


def _horizon_columns(runs: RunSet) -> list[Column]:
    """The default paper's horizon columns (its Table 4's)."""
    paper = default_paper()
    return columns_of(paper.measured_table("table4"), runs, paper)


__all__ = [
    "WILSON_NOTE",
    "Column",
    "columns_of",
    "counts",
    "grouping",
    "horizon_note",
    "layout_table",
    "measured_table",
    "measured_tables",
    "named_table",
    "order_key",
    "paper_lookup",
    "paper_row_method",
    "per_task_libero",
    "policy_label",
    "policy_table",
    "table1",
    "table2",
    "table4",
    "table7",
    "table8",
    "tables47_grouping",
]
