"""Measured tables with a row per task: `per-task` (the paper's per-task table: a column per policy and
split, its printed cell beside on request) and `suite-tasks` (a row per suite and task)."""

from __future__ import annotations

from harness.report.paperdef import Paper
from harness.report.paperspec import MeasuredTableSpec
from harness.report.results import RunSet
from harness.report.rows import (
    common_notes,
    counts,
    order_key_for,
    paper_lookup,
    paper_row_method,
    untrained_diff,
)
from harness.report.table import Cell, Table, printed_cell, success_cell


def task_order(runs: RunSet, suite: str, paper: Paper) -> list[str]:
    """The tasks of `suite` that ran: in the paper's per-task order where it has them, then the rest."""
    ran = {e.key.task for e in runs.episodes if e.key.suite == suite}
    known = paper.tasks_of(suite)
    return [t for t in known if t in ran] + sorted(ran - set(known))


def per_task_table(spec: MeasuredTableSpec, runs: RunSet, vs_paper: bool, paper: Paper) -> Table:
    """Per task of the (one) suite: one column per (policy, split); a last row over every task."""
    suite = spec.suites[0]
    pols = sorted(runs.policies_in([suite]), key=order_key_for(paper))
    header = ["Task", "Horizon"]
    for p in pols:
        for s in spec.splits:
            col = f"{p.id} {paper.label(s)}"
            header += [col, f"{col} paper", f"{col} Δ"] if vs_paper else [col]
    table = Table(spec.name, spec.title, header, notes=common_notes(pols, vs_paper, paper))
    if not pols:
        table.empty_reason = spec.empty or f"no episodes of {suite} in these runs"
        return table
    horizons = paper.horizons() if paper.tasks_of(suite) else {}
    for task in [*task_order(runs, suite, paper), None]:
        h = horizons.get(task) if task else None
        row = [Cell.label(task or spec.total.label), Cell.label(str(h) if h else "–")]
        for p in pols:
            eps = runs.episodes_of(p.id, [suite])
            for s in spec.splits:
                cell = success_cell(
                    *counts(e for e in eps if e.key.split == s and (task is None or e.key.task == task))
                )
                row.append(cell)
                if vs_paper:
                    if task:
                        value = paper.lookup_task(paper_row_method(p, paper), p.nfe, task, s)
                        shown = printed_cell(None if value is None else f"{value:g}")
                    else:
                        ref, value = paper_lookup(spec.total.tables, s, paper=paper)(p)
                        shown = printed_cell(ref.text if ref else None)
                    row += [shown, untrained_diff(p, cell.data.get(""), value)]
        table.add(row)
    return table


def suite_tasks_table(spec: MeasuredTableSpec, runs: RunSet, paper: Paper) -> Table:
    """Per suite and task of the suites that ran: one column per policy."""
    suites = [s for s in spec.suites if s in runs.suites()]
    pols = sorted(runs.policies_in(suites), key=order_key_for(paper))
    header = ["Suite", "Task", *[p.id + p.marks for p in pols]]
    table = Table(spec.name, spec.title, header, notes=common_notes(pols, False, paper))
    if not pols:
        table.empty_reason = spec.empty or f"no episodes of {', '.join(spec.suites)} in these runs"
        return table
    for suite in suites:
        for task in task_order(runs, suite, paper):
            row = [Cell.label(paper.label(suite)), Cell.label(task)]
            for p in pols:
                eps = runs.episodes_of(p.id, [suite])
                row.append(success_cell(*counts(e for e in eps if e.key.task == task)))
            table.add(row)
    return table


__all__ = ["per_task_table", "suite_tasks_table", "task_order"]
