"""A paper definition loaded: its specs (paperspec.py), its printed numbers (printed.py), and the
questions the report asks of them (how is this method labelled, what did the paper print here).

Shipped papers are package data under harness/papers/NAME/, read with importlib.resources so an
installed wambench never reads the source tree; any other folder of the same files is a paper too.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import UserError
from harness.report.paperspec import (
    ConsistencySpec,
    MeasuredTableSpec,
    PaperSpec,
    ReducedNfe,
    ReferenceTableSpec,
    TablesSpec,
)
from harness.report.printed import RefValue, TaskValue, read_tasks, read_values

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # pragma: no cover
    from importlib.abc import Traversable

DEFAULT_PAPER = "flash-wam"
FILES = ("paper.yaml", "tables.yaml", "consistency.yaml")  # consistency.yaml may be left out

Nfe = tuple[int | None, int | None]


@dataclass(frozen=True, eq=False)  # compared (and cached) by identity
class Paper:
    name: str
    spec: PaperSpec
    tables: TablesSpec
    consistency: ConsistencySpec
    values: tuple[RefValue, ...]
    tasks: tuple[TaskValue, ...]

    # ---- names ---------------------------------------------------------------------------------
    @cached_property
    def method_order(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.spec.methods)

    @cached_property
    def method_labels(self) -> dict[str, str]:
        return {m.id: m.label for m in self.spec.methods}

    @cached_property
    def neutral_labels(self) -> dict[str, str]:
        return {m.id: m.neutral for m in self.spec.methods if m.neutral is not None}

    def label(self, key: str) -> str:
        """How the paper heads a split, suite or column (the key itself where it says nothing)."""
        return self.spec.labels.get(key, key)

    def method_label(self, method: str, backend: str | None = None) -> str:
        """The paper's label for its numbers (backend None) and for runs of its network; the neutral
        label (without the network's name) for any other backend."""
        label = self.method_labels.get(method, method)
        if backend is None or backend == self.spec.network:
            return label
        return self.neutral_labels.get(method, label)

    def method_rank(self, method: str) -> int:
        order = self.method_order
        return order.index(method) if method in order else len(order)

    def paper_method(self, method: str, nfe: Nfe) -> str:
        """The paper's row for a stored method at an NFE (e.g. a teacher below full NFE)."""
        for rule in self.spec.reduced_nfe:
            if method == rule.method and None not in nfe and nfe not in self.full_nfe(rule):
                return rule.row
        return method

    def full_nfe(self, rule: ReducedNfe) -> list[tuple[int, int]]:
        """The NFEs a reduced-NFE rule's method is run at in full (default: the teachers')."""
        return rule.full or self.spec.teacher_nfes

    # ---- printed numbers -----------------------------------------------------------------------
    @cached_property
    def _cells(self) -> dict[tuple[str, str, Nfe, str, str], RefValue]:
        index: dict[tuple[str, str, Nfe, str, str], RefValue] = {}
        for v in self.values:
            index.setdefault((v.table, v.method, v.nfe, v.column, v.horizon), v)
        return index

    def lookup(self, table: str, method: str, nfe: Nfe, column: str, horizon: str = "all") -> RefValue | None:
        """The paper's number for one cell, or None where the paper printed none."""
        return self._cells.get((table, method, nfe, column, horizon))

    @cached_property
    def _task_cells(self) -> dict[tuple[str, Nfe, str, str], float]:
        index: dict[tuple[str, Nfe, str, str], float] = {}
        for t in self.tasks:
            index.setdefault((t.method, t.nfe, t.task, t.split), t.success_pct)
        return index

    def lookup_task(self, method: str, nfe: Nfe, task: str, split: str) -> float | None:
        return self._task_cells.get((method, nfe, task, split))

    def printed_methods(self, nfe: Nfe) -> frozenset[str]:
        """Methods the paper prints a row for at this NFE, in any table."""
        return frozenset(v.method for v in self.values if v.nfe == nfe)

    @cached_property
    def task_order(self) -> tuple[tuple[str, str, int], ...]:
        """(task, display name, horizon) of the per-task table, in its order."""
        seen: dict[str, tuple[str, str, int]] = {}
        for t in self.tasks:
            seen.setdefault(t.task, (t.task, t.display_name, t.horizon))
        return tuple(seen.values())

    def horizons(self) -> dict[str, int]:
        return {task: h for task, _, h in self.task_order}

    def tasks_of(self, suite: str) -> list[str]:
        """The per-task table's tasks if they are `suite`'s, in its order; else none known."""
        per_task = self.spec.per_task
        bench = self.spec.benchmarks.get(per_task.benchmark) if per_task else None
        return [t for t, _, _ in self.task_order] if bench and suite in bench.suites else []

    # ---- layouts -------------------------------------------------------------------------------
    def measured_table(self, name: str) -> MeasuredTableSpec:
        for spec in self.tables.measured:
            if spec.name == name:
                return spec
        raise UserError(f"paper '{self.name}' has no measured table '{name}'")

    def reference_table(self, name: str) -> ReferenceTableSpec:
        for spec in self.tables.reference:
            if spec.name == name:
                return spec
        raise UserError(f"paper '{self.name}' has no reference table '{name}'")


def _text(folder: Traversable, name: str, where: str) -> str:
    path = folder / name
    if not path.is_file():
        raise UserError(f"paper definition '{where}' has no {name}")
    return path.read_text(encoding="utf-8")


M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], text: str, where: str) -> M:
    try:
        data = yaml.safe_load(text)
        return model.model_validate(data if data is not None else {})
    except yaml.YAMLError as e:
        raise UserError(f"{where}: not YAML ({e})") from None
    except ValidationError as e:
        lines = [f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in e.errors()]
        raise UserError(f"{where}: " + "; ".join(lines)) from None


def read_paper(folder: Traversable, name: str) -> Paper:
    """A paper from a folder holding paper.yaml, tables.yaml, [consistency.yaml] and its CSVs."""
    where = f"{name}/"
    spec = _parse(PaperSpec, _text(folder, "paper.yaml", name), where + "paper.yaml")
    tables = _parse(TablesSpec, _text(folder, "tables.yaml", name), where + "tables.yaml")
    has_rules = (folder / "consistency.yaml").is_file()
    rules = (
        _parse(ConsistencySpec, _text(folder, "consistency.yaml", name), where + "consistency.yaml")
        if has_rules
        else ConsistencySpec()
    )
    values = read_values(_text(folder, spec.values, name), where + spec.values)
    tasks = (
        read_tasks(_text(folder, spec.per_task.file, name), where + spec.per_task.file)
        if spec.per_task
        else ()
    )
    return Paper(name, spec, tables, rules, values, tasks)


def shipped_papers() -> list[str]:
    root = resources.files("harness") / "papers"
    return sorted(p.name for p in root.iterdir() if (p / "paper.yaml").is_file())


def load_paper(source: str | Path) -> Paper:
    """A shipped paper by name (harness/papers/NAME) or any folder of a paper definition."""
    path = Path(source)
    if path.is_dir():
        return read_paper(path, path.name)
    name = str(source)
    if name in shipped_papers():
        return _shipped(name)
    known = ", ".join(shipped_papers())
    raise UserError(f"no paper '{name}': neither a folder nor a shipped paper (shipped: {known})")


@cache
def _shipped(name: str) -> Paper:
    return read_paper(resources.files("harness") / "papers" / name, name)


def default_paper() -> Paper:
    """The paper a report shows unless told otherwise."""
    return _shipped(DEFAULT_PAPER)


__all__ = ["DEFAULT_PAPER", "Paper", "default_paper", "load_paper", "read_paper", "shipped_papers"]
