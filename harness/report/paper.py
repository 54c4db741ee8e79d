"""Reviewer mode: a paper's tables regenerated from its printed numbers alone.

The layouts are the paper definition's (tables.yaml, `reference`). Rows keep the paper's order and
values are the strings the paper prints (trailing zeros and all), so a reader can lay the output beside
the PDF. The per-task table's average row is recomputed from its cells (the paper prints it; the data
does not hold it), which is itself a first consistency check.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import fmean

from harness.report.paperdef import Paper, default_paper
from harness.report.paperspec import ColumnSpec, ReferenceTableSpec
from harness.report.printed import RefValue, TaskValue, nfe_label
from harness.report.table import Cell, Table

Key = tuple[str, tuple[int | None, int | None]]
AVERAGE_ROW = "Average (%)"


def _rows(values: Sequence[RefValue], table: str) -> list[Key]:
    seen: list[Key] = []
    for v in values:
        if v.table == table and (v.method, v.nfe) not in seen:
            seen.append((v.method, v.nfe))
    return seen


def _value_cell(
    values: Sequence[RefValue], table: str, key: Key, col: ColumnSpec, units: dict[str, str]
) -> Cell:
    for v in values:
        if (v.table, v.method, v.nfe, v.column, v.horizon) == (
            table,
            key[0],
            key[1],
            col.printed_column,
            col.printed_horizon,
        ):
            return Cell(v.text + units.get(v.unit, ""), data={"": v.value})
    return Cell.empty()


def printed_table(spec: ReferenceTableSpec, values: Sequence[RefValue], paper: Paper) -> Table:
    """Rows = (method, NFE) as the values list them; one cell per column of the layout."""
    columns = [c for family in spec.columns for c in family.expand(paper.label)]
    units = {**paper.tables.units, **spec.units}
    t = Table(spec.name, spec.title, ["Method", "NFE", *[c.header for c in columns]], notes=list(spec.notes))
    for key in _rows(values, spec.source):
        row = [Cell.label(paper.method_label(key[0])), Cell.label(nfe_label(*key[1]))]
        row += [_value_cell(values, spec.source, key, c, units) for c in columns]
        t.add(row)
    return t


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def per_task_table(spec: ReferenceTableSpec, tasks: Sequence[TaskValue], paper: Paper) -> Table:
    """The per-task table in the paper's layout; the last row is the mean of each column over the tasks."""
    columns: list[tuple[str, tuple[int, int], str]] = []
    for v in tasks:
        if (v.method, v.nfe, v.split) not in columns:
            columns.append((v.method, v.nfe, v.split))
    header = ["Simulation Task", "Horizon"] + [
        f"{paper.method_label(m)} ({nfe_label(*nfe)}) {paper.label(s)}" for m, nfe, s in columns
    ]
    t = Table(spec.name, spec.title, header, notes=list(spec.notes))
    cell = {(v.task, v.method, v.nfe, v.split): v.success_pct for v in tasks}
    order: dict[str, str] = {}  # task -> display name, in the data's (the table's) order
    for v in tasks:
        order.setdefault(v.task, v.display_name)
    horizon = {v.task: v.horizon for v in tasks}
    for task, display in order.items():
        row = [Cell.label(display), Cell.label(str(horizon[task]))]
        for m, nfe, s in columns:
            value = cell.get((task, m, nfe, s))
            row.append(Cell(_fmt(value), data={"": value}) if value is not None else Cell.empty())
        t.add(row)
    means = []
    for m, nfe, s in columns:
        col = [cell[(task, m, nfe, s)] for task in order if (task, m, nfe, s) in cell]
        means.append(Cell.number(fmean(col), 2) if col else Cell.empty())
    t.add([Cell.label(AVERAGE_ROW), Cell.label("–"), *means])
    return t


def reference_tables(
    values: Sequence[RefValue] | None = None,
    tasks: Sequence[TaskValue] | None = None,
    paper: Paper | None = None,
) -> list[Table]:
    """Every reference table of the paper's layout (default: the default paper and its numbers)."""
    paper = paper or default_paper()
    values = paper.values if values is None else values
    tasks = paper.tasks if tasks is None else tasks
    return [
        per_task_table(spec, tasks, paper) if spec.kind == "per-task" else printed_table(spec, values, paper)
        for spec in paper.tables.reference
    ]


def table8_reference(tasks: Sequence[TaskValue] | None = None, paper: Paper | None = None) -> Table:
    """The default paper's per-task table (Table 8)."""
    paper = paper or default_paper()
    spec = next(s for s in paper.tables.reference if s.kind == "per-task")
    return per_task_table(spec, paper.tasks if tasks is None else tasks, paper)


__all__ = ["per_task_table", "printed_table", "reference_tables", "table8_reference"]
