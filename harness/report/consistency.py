"""Does the paper agree with itself? Recompute every aggregate we can from the numbers it prints.

Which printed numbers summarise which are the paper definition's rules (consistency.yaml); the names
below are Flash-WAM's, whose rules ship as harness/papers/flash-wam.

Every check compares a printed number with one recomputed from other printed numbers, within the
rounding the printed precision allows (half a unit in the last printed digit, plus the propagated
rounding of the inputs when those are themselves rounded). Nothing here knows what the answer should
be: disagreements are found by arithmetic, and where a disagreement has a simple explanation (a task
counted in another horizon group; a row that equals a different method's row) that explanation is
found by search, not written down.

Checks (the per-task table's are named after it: <table>-mean, <table>-horizon)
- table8-mean     Table 8 (the per-task table) column means vs the 50-task averages of Tables 1, 4, 7.
- table8-horizon  Table 8 means per horizon group vs the horizon tables, 4 and 7.
- horizon-weights a Table 4/7 row's "all" cell vs the task-count-weighted mean of its horizon cells.
- cross-table     the same method, NFE and column printed in two tables (and rows the text says are
                  the same variant under another name).
- row-average     an "Average" cell vs the mean of the cells it averages (Tables 1, 2, 3).
- latency         Figure 1's total vs video + action; a printed speedup vs the latencies' ratio.
- granularity     a mean over k tasks of n trials each must be a multiple of 100/(n k) (granularity.py).

Tolerances follow the decimals the paper prints (92.30: +-0.005), which the reference data keeps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import fmean

from harness.report.checks import EPS, Check, half_unit, tname, where
from harness.report.granularity import granularity_checks
from harness.report.latency_checks import latency_checks
from harness.report.paperdef import Paper, default_paper
from harness.report.printed import AVERAGE, SUCCESS_PCT, RefValue, TaskValue


def per_task_kinds(paper: Paper) -> tuple[str, str]:
    """The kinds of the per-task table's checks: (column means, horizon-group means)."""
    name = paper.spec.per_task.table if paper.spec.per_task else "per-task"
    return f"{name}-mean", f"{name}-horizon"


@dataclass(frozen=True)
class Regrouping:
    """Moving one task to another horizon group makes `fixed` disagreeing cells agree."""

    task: str
    display_name: str
    printed_horizon: int
    fitted_horizon: int
    disagreeing_before: int
    disagreeing_after: int


@dataclass
class ConsistencyReport:
    checks: list[Check] = field(default_factory=list)
    regroupings: list[Regrouping] = field(default_factory=list)
    # The same horizon checks under the fitted grouping: a hypothesis, so kept apart from `checks`.
    fitted_checks: list[Check] = field(default_factory=list)
    paper: Paper = field(default_factory=default_paper)  # whose rules and words these are

    @property
    def disagreements(self) -> list[Check]:
        return [c for c in self.checks if not c.agrees]

    def of_kind(self, kind: str) -> list[Check]:
        return [c for c in self.checks if c.kind == kind]


# ---- Table 8 against the aggregate tables ---------------------------------------------------------
TaskKey = tuple[str, tuple[int, int], str]  # method, nfe, split


def _columns(tasks: Sequence[TaskValue]) -> dict[TaskKey, dict[str, float]]:
    cols: dict[TaskKey, dict[str, float]] = {}
    for t in tasks:
        cols.setdefault((t.method, t.nfe, t.split), {})[t.task] = t.success_pct
    return cols


def _printed(values: Sequence[RefValue], tables: Sequence[str], key: TaskKey, horizon: str) -> list[RefValue]:
    method, nfe, split = key
    return [
        v
        for v in values
        if v.table in tables and (v.method, v.nfe, v.column, v.horizon) == (method, nfe, split, horizon)
    ]


def table8_mean_checks(
    values: Sequence[RefValue], tasks: Sequence[TaskValue], paper: Paper | None = None
) -> list[Check]:
    paper = paper or default_paper()
    out = []
    for key, col in _columns(tasks).items():
        mean = fmean(col.values())
        for v in _printed(values, paper.consistency.aggregate_tables, key, "all"):
            out.append(
                Check(
                    per_task_kinds(paper)[0],
                    where(v),
                    v.value,
                    mean,
                    half_unit(v.decimals),
                    f"mean of {len(col)} tasks",
                    v.text,
                )
            )
    return out


def table8_horizon_checks(
    values: Sequence[RefValue],
    tasks: Sequence[TaskValue],
    horizons: Mapping[str, int],
    paper: Paper | None = None,
) -> list[Check]:
    paper = paper or default_paper()
    out = []
    for key, col in _columns(tasks).items():
        for h in sorted(set(horizons.values())):
            members = [t for t in col if horizons.get(t) == h]
            if not members:
                continue
            mean = fmean(col[t] for t in members)
            for v in _printed(values, paper.consistency.horizon_tables, key, str(h)):
                out.append(
                    Check(
                        per_task_kinds(paper)[1],
                        where(v),
                        v.value,
                        mean,
                        half_unit(v.decimals),
                        f"mean of {len(members)} horizon-{h} tasks",
                        v.text,
                    )
                )
    return out


def fit_horizons(
    values: Sequence[RefValue],
    tasks: Sequence[TaskValue],
    max_moves: int = 3,
    paper: Paper | None = None,
) -> tuple[dict[str, int], list[Regrouping]]:
    """Greedy search: move single tasks between horizon groups while that strictly reduces the number
    of horizon cells of the horizon tables (4/7) that the per-task table (8) fails to reproduce."""
    horizons = {t.task: t.horizon for t in tasks}
    names = {t.task: t.display_name for t in tasks}
    levels = sorted(set(horizons.values()))

    def bad(h: Mapping[str, int]) -> int:
        return sum(not c.agrees for c in table8_horizon_checks(values, tasks, h, paper))

    moves: list[Regrouping] = []
    current = bad(horizons)
    for _ in range(max_moves):
        if current == 0:
            break
        best: tuple[int, str, int] | None = None
        for task in sorted(horizons):
            for h in levels:
                if h == horizons[task]:
                    continue
                n = bad({**horizons, task: h})
                if n < current and (best is None or n < best[0]):
                    best = (n, task, h)
        if best is None:
            break
        n, task, h = best
        moves.append(Regrouping(task, names[task], horizons[task], h, current, n))
        horizons = {**horizons, task: h}
        current = n
    return horizons, moves


# ---- internal consistency of Tables 4 and 7 ------------------------------------------------------
def horizon_weight_checks(
    values: Sequence[RefValue], groupings: Mapping[str, Mapping[str, int]], paper: Paper | None = None
) -> list[Check]:
    """Each row's 50-task cell against its horizon cells weighted by tasks per horizon, per grouping."""
    paper = paper or default_paper()
    out = []
    horizon_tables = paper.consistency.horizon_tables
    rows = {(v.table, v.method, v.nfe, v.column) for v in values if v.table in horizon_tables}
    for table, method, nfe, column in sorted(rows, key=str):
        cells = {
            v.horizon: v
            for v in values
            if (v.table, v.method, v.nfe, v.column) == (table, method, nfe, column)
        }
        if "all" not in cells:
            continue
        for label, grouping in groupings.items():
            weights = Counter(grouping.values())
            total = sum(weights.values())
            if not all(str(h) in cells for h in weights):
                continue
            mean = sum(w * cells[str(h)].value for h, w in weights.items()) / total
            tol = sum(w * half_unit(cells[str(h)].decimals) for h, w in weights.items()) / total
            tol += half_unit(cells["all"].decimals)
            split = "/".join(str(weights[h]) for h in sorted(weights))
            out.append(
                Check(
                    "horizon-weights",
                    where(cells["all"]),
                    cells["all"].value,
                    mean,
                    tol,
                    f"{label} grouping ({split} tasks)",
                    cells["all"].text,
                )
            )
    return out


# ---- the same number printed twice ------------------------------------------------------------------
def _row(values: Sequence[RefValue], table: str, method: str, nfe: tuple[int | None, int | None]) -> dict:
    return {
        (v.column, v.horizon): v.value
        for v in values
        if (v.table, v.method, v.nfe) == (table, method, nfe) and v.unit == SUCCESS_PCT
    }


def _explain(values: Sequence[RefValue], v: RefValue, other_table: str) -> str:
    """Name rows of `other_table` at the same NFE that equal v's row on every shared cell."""
    mine = _row(values, v.table, v.method, v.nfe)
    hits = []
    for method in sorted({w.method for w in values if w.table == other_table and w.nfe == v.nfe}):
        theirs = _row(values, other_table, method, v.nfe)
        shared = [k for k in mine if k in theirs]
        if shared and all(abs(mine[k] - theirs[k]) <= EPS for k in shared):
            hits.append(
                f"{v.method} row equals {tname(other_table)}'s {method} row on all {len(shared)} shared cells"
            )
    return "; ".join(hits)


def cross_table_checks(values: Sequence[RefValue], paper: Paper | None = None) -> list[Check]:
    paper = paper or default_paper()
    aliases = {(a.table, a.method): a.same_as for a in paper.consistency.text_aliases}
    out = []
    pct = [v for v in values if v.table in paper.consistency.aggregate_tables and v.unit == SUCCESS_PCT]
    for i, a in enumerate(pct):
        a_method = aliases.get((a.table, a.method), a.method)
        for b in pct[i + 1 :]:
            if a.table == b.table:
                continue
            b_method = aliases.get((b.table, b.method), b.method)
            if (a_method, a.nfe, a.benchmark, a.column, a.horizon) != (
                b_method,
                b.nfe,
                b.benchmark,
                b.column,
                b.horizon,
            ):
                continue
            alias = a_method != a.method or b_method != b.method
            detail = "same variant per the paper's text" if alias else "same method, NFE and column"
            check = Check(
                "cross-table",
                f"{where(a)} vs {tname(b.table)}{' ' + b.method if alias else ''}",
                a.value,
                b.value,
                half_unit(a.decimals) + half_unit(b.decimals),
                detail,
                a.text,
            )
            if not check.agrees:
                why = _explain(values, a, b.table)
                check = Check(**{**check.__dict__, "detail": f"{detail}; {why}" if why else detail})
            out.append(check)
    return out


# ---- averages within a row ------------------------------------------------------------------
def row_average_checks(values: Sequence[RefValue], paper: Paper | None = None) -> list[Check]:
    paper = paper or default_paper()
    out = []
    for table, parts in paper.consistency.row_averages.items():
        for v in values:
            if v.table != table or v.column != AVERAGE:
                continue
            cells = [
                w
                for w in values
                if (w.table, w.method, w.nfe, w.horizon) == (table, v.method, v.nfe, v.horizon)
            ]
            got = [w for w in cells if w.column in parts]
            if len(got) != len(parts):
                continue
            mean = fmean(w.value for w in got)
            tol = fmean(half_unit(w.decimals) for w in got) + half_unit(v.decimals)
            detail = f"mean of {', '.join(parts)}"
            out.append(Check("row-average", where(v), v.value, mean, tol, detail, v.text))
    return out


def check_consistency(
    values: Sequence[RefValue] | None = None,
    tasks: Sequence[TaskValue] | None = None,
    paper: Paper | None = None,
) -> ConsistencyReport:
    """Every check of the paper's rules over its printed numbers (or the values and tasks given)."""
    paper = paper or default_paper()
    values = paper.values if values is None else values
    tasks = paper.tasks if tasks is None else tasks
    printed = {t.task: t.horizon for t in tasks}
    fitted, moves = fit_horizons(values, tasks, paper=paper)
    fitted_checks: list[Check] = []
    if moves:
        fitted_checks = [
            *table8_horizon_checks(values, tasks, fitted, paper),
            *horizon_weight_checks(values, {"fitted": fitted}, paper),
        ]
    return ConsistencyReport(
        checks=[
            *table8_mean_checks(values, tasks, paper),
            *table8_horizon_checks(values, tasks, printed, paper),
            *horizon_weight_checks(values, {paper.consistency.words.per_task: printed}, paper),
            *cross_table_checks(values, paper),
            *row_average_checks(values, paper),
            *latency_checks(values, paper),
            *granularity_checks(values, fitted, paper=paper),
        ],
        regroupings=moves,
        fitted_checks=fitted_checks,
        paper=paper,
    )


__all__ = [
    "Check",
    "ConsistencyReport",
    "Regrouping",
    "check_consistency",
    "cross_table_checks",
    "fit_horizons",
    "half_unit",
    "horizon_weight_checks",
    "latency_checks",
    "per_task_kinds",
    "row_average_checks",
    "table8_horizon_checks",
    "table8_mean_checks",
]
