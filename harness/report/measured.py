"""The paper's tables (1, 2, 4, 7, 8) built from stored runs, optionally beside the paper's numbers.

A measured cell pools the finished episodes it covers (success + failure; errors are counted apart and
never as failures) and shows the Wilson 95% interval and n. Pooling equals the paper's mean over tasks
when every task ran the same number of episodes, which a manifest guarantees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from harness.records import OutcomeCounts
from harness.report.consistency import Regrouping, fit_horizons
from harness.report.latency import LatencySet, latency_set, speedup
from harness.report.reference import (
    LIBERO_LABELS,
    LIBERO_SUITES,
    ROBOTWIN,
    ROBOTWIN_SPLITS,
    SPLIT_LABELS,
    RefValue,
    lookup,
    lookup_task,
    method_label,
    method_rank,
    nfe_label,
    paper_method,
    paper_values,
    per_task_values,
    printed_methods,
    robotwin_tasks,
)
from harness.report.results import UNTRAINED_NOTE, Episode, PolicyInfo, RunSet
from harness.report.table import Cell, Table, diff_cell, printed_cell, success_cell

# The paper's text says its Table 1 "DMD2" row is the video-only DMD2 + reg variant (Appendix A.3.4),
# so a stored dmd2-reg policy is compared with that row at an NFE where the paper prints no dmd2-reg
# row at all (1v/2a). Where it does (Table 7, 1v/1a), every cell comes from that row: never the
# Clean of one method and the Average of another.
PAPER_ALIASES: dict[str, str] = {"dmd2-reg": "dmd2"}
WILSON_NOTE = "Cells: success % of finished episodes, Wilson 95% interval and n; errors are not failures."


@dataclass(frozen=True)
class Column:
    """One measured column: a header, the episodes it covers, and where the paper's number is."""

    header: str
    select: Callable[[Episode], bool]
    paper: Callable[[PolicyInfo], tuple[RefValue | None, float | None]] | None = None


def order_key(p: PolicyInfo) -> tuple[int, int, str]:
    """Paper order: highest NFE first (the teacher), then each NFE block in the paper's method order."""
    return (-((p.nfe_video or 0) + (p.nfe_action or 0)), method_rank(p.method), p.id)


def policy_label(p: PolicyInfo) -> str:
    """The method's row name for p's network (never "LingBot-VA" for another backend), † if untrained."""
    return method_label(paper_method(p.method, p.nfe), p.backend) + (" †" if p.untrained else "")


def counts(episodes: Iterable[Episode]) -> tuple[int, int, int]:
    """(successes, judged episodes, errors), as harness.records.OutcomeCounts counts them."""
    c = OutcomeCounts.of(e.outcome for e in episodes)
    return c.success, c.judged, c.error


def paper_row_method(p: PolicyInfo) -> str:
    """The one printed method every paper cell of p's row comes from: its own name wherever the paper
    prints a row for it at p's NFE (in any table), else the row its text names as the same variant."""
    own = paper_method(p.method, p.nfe)
    alias = PAPER_ALIASES.get(p.method)
    printed = printed_methods(p.nfe)
    return alias if own not in printed and alias in printed else own


def paper_lookup(
    tables: Sequence[str], column: str, horizon: str = "all"
) -> Callable[[PolicyInfo], tuple[RefValue | None, float | None]]:
    def find(p: PolicyInfo) -> tuple[RefValue | None, float | None]:
        method = paper_row_method(p)
        for t in tables:
            v = lookup(t, method, p.nfe, column, horizon)
            if v is not None:
                return v, v.value
        return None, None

    return find


def _common_notes(pols: Sequence[PolicyInfo], vs_paper: bool) -> list[str]:
    notes = [WILSON_NOTE]
    if any(p.untrained for p in pols):
        notes.append(f"† {UNTRAINED_NOTE}.")
    if vs_paper:
        notes.append(
            "paper: the printed number for the same method and NFE; Δ = measured − paper (points), "
            "not computed (†) for untrained models. Every paper cell of a row is the same method's "
            "printed cell (– where that method's row has none); dmd2-reg is compared with Table 1's "
            "DMD2 row only at an NFE where the paper prints no dmd2-reg row."
        )
    return notes


def policy_table(
    name: str,
    title: str,
    runs: RunSet,
    suites: Sequence[str],
    columns: Sequence[Column],
    vs_paper: bool,
    lat: LatencySet | None = None,
    only: Callable[[PolicyInfo], bool] = lambda p: True,
) -> Table:
    """Rows = policies that ran on `suites`; one success cell per column, then latency and speedup."""
    pols = sorted((p for p in runs.policies_in(suites) if only(p)), key=order_key)
    header = ["Policy", "Method", "NFE"]
    for c in columns:
        header += [c.header, f"{c.header} paper", f"{c.header} Δ"] if vs_paper and c.paper else [c.header]
    if lat is not None:
        header += ["Latency (ms)", "Speedup"]
    table = Table(name, title, header, notes=_common_notes(pols, vs_paper))
    if not pols:
        table.empty_reason = f"no episodes of {', '.join(suites)} in these runs"
        return table
    for p in pols:
        eps = runs.episodes_of(p.id, suites)
        row = [Cell.label(p.id), Cell.label(policy_label(p)), Cell.label(nfe_label(*p.nfe))]
        for c in columns:
            k, n, err = counts(e for e in eps if c.select(e))
            cell = success_cell(k, n, err)
            row.append(cell)
            if vs_paper and c.paper:
                ref, value = c.paper(p)
                measured = cell.data.get("")
                row += [printed_cell(ref.text if ref else None), _diff(p, measured, value)]
        if lat is not None:
            mine = lat.get(p.id)
            row.append(Cell.number(mine.total_ms if mine else None, 1))
            row.append(Cell.number(speedup(p, pols, lat), 1, "×"))
        table.add(row)
    if lat is not None:
        table.notes.append(_latency_note(lat))
    return table


def _diff(p: PolicyInfo, measured: object, paper: float | None) -> Cell:
    """Measured − paper; an untrained model's difference from a trained paper number means nothing,
    so its cell says † (the paper's number still stands beside it)."""
    if p.untrained and paper is not None:
        return Cell("†", data={"": None})
    return diff_cell(measured if isinstance(measured, float) else None, paper)


def _latency_note(lat: LatencySet) -> str:
    if lat.device is None:
        return "Latency and speedup: no warm chunk timings stored for these suites (–)."
    note = (
        f"Latency: mean per-chunk total over warm {lat.source} chunks on {lat.device}; speedup = the "
        "full-NFE teacher's latency (same backend where one ran) / this row's, same device; – where "
        "no teacher was timed."
    )
    if lat.other_devices:
        note += f" Chunks on {', '.join(lat.other_devices)} are left out (one device per table)."
    return note


def _split(split: str) -> Callable[[Episode], bool]:
    return lambda e: e.key.split == split


def _suite(suite: str) -> Callable[[Episode], bool]:
    return lambda e: e.key.suite == suite


def table1(runs: RunSet, vs_paper: bool) -> Table:
    cols = [
        Column(SPLIT_LABELS[s], _split(s), paper_lookup(["table1", "table4", "table7"], s))
        for s in ROBOTWIN_SPLITS
    ]
    cols.append(Column("Average", lambda e: True, paper_lookup(["table1"], "average")))
    t = policy_table(
        "table1",
        "Table 1: RoboTwin 2.0 (50 tasks)",
        runs,
        [ROBOTWIN],
        cols,
        vs_paper,
        latency_set(runs, [ROBOTWIN]),
    )
    t.notes.append("Average pools both splits (the paper: the mean of Clean and Rand.).")
    return t


def table2(runs: RunSet, vs_paper: bool) -> Table:
    ran = set(runs.suites())
    cols = [Column(LIBERO_LABELS[s], _suite(s), paper_lookup(["table2"], s)) for s in LIBERO_SUITES]
    full = all(s in ran for s in LIBERO_SUITES)
    average = paper_lookup(["table2"], "average")
    cols.append(Column("Average", lambda e: True, average if full else lambda p: (None, None)))
    t = policy_table(
        "table2", "Table 2: LIBERO", runs, LIBERO_SUITES, cols, vs_paper, latency_set(runs, LIBERO_SUITES)
    )
    missing = [LIBERO_LABELS[s] for s in LIBERO_SUITES if s not in ran]
    if missing and not t.is_empty:
        t.notes.append(
            f"Average pools the suites that ran; {', '.join(missing)} did not run, so it is not compared "
            "with the paper's four-suite average."
        )
    return t


@lru_cache(maxsize=1)
def tables47_grouping() -> tuple[dict[str, int], tuple[Regrouping, ...]]:
    """The horizon of each RoboTwin task as the paper's Tables 4 and 7 count it: Table 8's labels,
    with the regroupings the consistency check finds by recomputing Tables 4/7 from Table 8."""
    grouping, moves = fit_horizons(paper_values(), per_task_values())
    return grouping, tuple(moves)


def _horizon_columns(runs: RunSet) -> list[Column]:
    grouping = tables47_grouping()[0]

    def in_h(h: int, split: str) -> Callable[[Episode], bool]:
        return lambda e: e.key.split == split and e.key.suite == ROBOTWIN and grouping.get(e.key.task) == h

    cols: list[Column] = []
    for h in (1, 2, 3):
        for s in ROBOTWIN_SPLITS:
            cols.append(
                Column(f"H{h} {SPLIT_LABELS[s]}", in_h(h, s), paper_lookup(["table4", "table7"], s, str(h)))
            )
    for s in ROBOTWIN_SPLITS:
        cols.append(
            Column(f"All {SPLIT_LABELS[s]}", _split(s), paper_lookup(["table4", "table7", "table1"], s))
        )
    return cols


def horizon_note() -> str:
    """Which grouping the horizon columns use, in words, from the grouping itself."""
    moves = tables47_grouping()[1]
    if not moves:
        return "Horizon groups: Table 8's horizon labels, which the paper's Tables 4 and 7 also use."
    moved = "; ".join(
        f"{m.task} as horizon {m.fitted_horizon} (Table 8 labels it {m.printed_horizon})" for m in moves
    )
    return (
        f"Horizon groups: as the paper's Tables 4 and 7 count tasks, so that each cell compares with "
        f"the same tasks: {moved}. Found by recomputing Tables 4/7 from Table 8 "
        "(`wambench report --reference paper`); Table 8 below keeps its own labels."
    )


def table4(runs: RunSet, vs_paper: bool) -> Table:
    t = policy_table(
        "table4", "Table 4: RoboTwin 2.0 by task horizon", runs, [ROBOTWIN], _horizon_columns(runs), vs_paper
    )
    t.notes.append(horizon_note())
    return t


def table7(runs: RunSet, vs_paper: bool) -> Table:
    t = policy_table(
        "table7",
        "Table 7: RoboTwin 2.0 by task horizon, 1v/1a",
        runs,
        [ROBOTWIN],
        _horizon_columns(runs),
        vs_paper,
        only=lambda p: p.nfe == (1, 1),
    )
    t.notes.append(horizon_note())
    return t


def _task_order(runs: RunSet, suite: str) -> list[str]:
    ran = {e.key.task for e in runs.episodes if e.key.suite == suite}
    known = [t for t, _, _ in robotwin_tasks()] if suite == ROBOTWIN else []
    return [t for t in known if t in ran] + sorted(ran - set(known))


def table8(runs: RunSet, vs_paper: bool) -> Table:
    """Per RoboTwin task: one column per (policy, split), the paper's cell beside it on request."""
    pols = sorted(runs.policies_in([ROBOTWIN]), key=order_key)
    header = ["Task", "Horizon"]
    for p in pols:
        for s in ROBOTWIN_SPLITS:
            col = f"{p.id} {SPLIT_LABELS[s]}"
            header += [col, f"{col} paper", f"{col} Δ"] if vs_paper else [col]
    table = Table("table8", "Table 8: RoboTwin 2.0 per task", header, notes=_common_notes(pols, vs_paper))
    if not pols:
        table.empty_reason = "no RoboTwin episodes in these runs"
        return table
    tasks = _task_order(runs, ROBOTWIN)
    for task in [*tasks, None]:
        h = runs.horizons.get((ROBOTWIN, task)) if task else None
        row = [Cell.label(task or "All tasks"), Cell.label(str(h) if h else "–")]
        for p in pols:
            eps = runs.episodes_of(p.id, [ROBOTWIN])
            for s in ROBOTWIN_SPLITS:
                cell = success_cell(
                    *counts(e for e in eps if e.key.split == s and (task is None or e.key.task == task))
                )
                row.append(cell)
                if vs_paper:
                    if task:
                        paper = lookup_task(paper_row_method(p), p.nfe, task, s)
                        shown = printed_cell(None if paper is None else f"{paper:g}")
                    else:
                        ref, paper = paper_lookup(["table1", "table4", "table7"], s)(p)
                        shown = printed_cell(ref.text if ref else None)
                    row += [shown, _diff(p, cell.data.get(""), paper)]
        table.add(row)
    return table


def per_task_libero(runs: RunSet) -> Table:
    suites = [s for s in LIBERO_SUITES if s in runs.suites()]
    pols = sorted(runs.policies_in(suites), key=order_key)
    header = ["Suite", "Task", *[p.id + (" †" if p.untrained else "") for p in pols]]
    table = Table("pertask_libero", "LIBERO per task", header, notes=_common_notes(pols, False))
    if not pols:
        table.empty_reason = "no LIBERO episodes in these runs"
        return table
    for suite in suites:
        for task in _task_order(runs, suite):
            row = [Cell.label(LIBERO_LABELS[suite]), Cell.label(task)]
            for p in pols:
                eps = runs.episodes_of(p.id, [suite])
                row.append(success_cell(*counts(e for e in eps if e.key.task == task)))
            table.add(row)
    return table


def measured_tables(runs: RunSet, vs_paper: bool) -> list[Table]:
    return [
        table1(runs, vs_paper),
        table2(runs, vs_paper),
        table4(runs, vs_paper),
        table7(runs, vs_paper),
        table8(runs, vs_paper),
        per_task_libero(runs),
    ]


__all__ = [
    "PAPER_ALIASES",
    "Column",
    "counts",
    "horizon_note",
    "measured_tables",
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
