"""The format of a paper definition (harness/papers/NAME/*.yaml), validated by pydantic.

A paper is data: paper.yaml names its methods, benchmarks and CSVs; tables.yaml lays out its tables;
consistency.yaml says which printed numbers summarise which. Unknown keys are refused with their path,
so a typo in a layout fails loudly instead of dropping a column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_STRICT = ConfigDict(extra="forbid", frozen=True)
EachKey = Literal["split", "suite", "horizon", "column"]
EACH_KEYS: tuple[EachKey, ...] = ("split", "suite", "horizon", "column")


def _refuse_twice(what: str, names: list[str]) -> None:
    """A name given twice would make a lookup pick one silently: refuse it, naming every such name."""
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"{what}: {', '.join(twice)}")


# ---- paper.yaml --------------------------------------------------------------------------------
class ReviewerSpec(BaseModel):
    model_config = _STRICT
    title: str
    intro: str


class PerTaskSpec(BaseModel):
    """The per-task table: its CSV, its table id and the benchmark its tasks belong to."""

    model_config = _STRICT
    file: str
    table: str
    benchmark: str


class MethodSpec(BaseModel):
    model_config = _STRICT
    id: str
    label: str
    neutral: str | None = None  # the label for a run of another network than the paper's


class ReducedNfe(BaseModel):
    """`method` run at an NFE not in `full` is the paper's separate `row`."""

    model_config = _STRICT
    method: str
    full: list[tuple[int, int]] = Field(default_factory=list)
    """The NFEs (video, action) the paper runs `method` at; none given: every benchmark's
    `teacher_nfe`, so the teacher's configuration is written down once."""
    row: str


class BenchmarkSpec(BaseModel):
    """One benchmark: a value of the values' `benchmark` column, and the suites its numbers are of."""

    model_config = _STRICT
    title: str
    suites: list[str]
    """The suites, by the names their results are stored under: a run of one of them is compared
    with this benchmark's numbers (the paper's numbers are per benchmark, not per suite)."""
    splits: list[str] = Field(default_factory=list)
    aliases: dict[str, str] = Field(default_factory=dict)
    """Other names a suite is asked for by (alias -> one of `suites`): wambench's `libero_long`
    builds `libero_10`, so `wambench latency --suite libero_long` is this benchmark's too."""
    teacher_nfe: tuple[int, int] | None = None
    """(video, action) steps of the paper's teacher on this benchmark: what its printed speedups are
    over, the default of `wambench latency --sweep --teacher`."""

    @model_validator(mode="after")
    def _aliases_name_suites(self) -> BenchmarkSpec:
        stray = sorted(a for a, s in self.aliases.items() if s not in self.suites)
        if stray:
            raise ValueError(f"aliases of no suite of this benchmark: {', '.join(stray)}")
        return self

    def all_names(self) -> list[str]:
        """Every name a suite of this benchmark goes by: its suites, then their aliases."""
        return [*self.suites, *self.aliases]


class LatencySpec(BaseModel):
    """Where the paper timed what it prints as latency. The numbers are rows of the values, any table
    or figure: columns `total_ms`, `video_ms`, `action_ms` (per chunk) and `speedup` (over the
    benchmark's `teacher_nfe`) at an NFE; `wambench latency` prints them beside measured ones."""

    model_config = _STRICT
    device: str
    """The accelerator the paper's milliseconds are of (its speedups are ratios on it)."""


class PaperSpec(BaseModel):
    model_config = _STRICT
    title: str
    reviewer: ReviewerSpec
    values: str
    per_task: PerTaskSpec | None = None
    network: str | None = None
    methods: list[MethodSpec] = Field(default_factory=list)
    reduced_nfe: list[ReducedNfe] = Field(default_factory=list)
    aliases: dict[str, str] = Field(default_factory=dict)
    benchmarks: dict[str, BenchmarkSpec] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    latency: LatencySpec | None = None

    @model_validator(mode="after")
    def _unique_methods(self) -> PaperSpec:
        _refuse_twice("methods listed twice", [m.id for m in self.methods])
        names = [n for b in self.benchmarks.values() for n in b.all_names()]
        _refuse_twice("suites in two benchmarks (or named twice)", names)
        return self

    def benchmark_of(self, suite: str) -> str | None:
        """The benchmark whose numbers a suite's runs are compared with, by its declared suites and
        their aliases; None for a suite the paper does not cover."""
        for key, bench in self.benchmarks.items():
            if suite in bench.all_names():
                return key
        return None

    @property
    def teacher_nfes(self) -> list[tuple[int, int]]:
        """Every benchmark's teacher NFE, in the benchmarks' order, each once."""
        found = [b.teacher_nfe for b in self.benchmarks.values() if b.teacher_nfe is not None]
        return list(dict.fromkeys(found))


# ---- tables.yaml -------------------------------------------------------------------------------
class ColumnSpec(BaseModel):
    """One column, or a family of them (`each`); see tables.yaml of flash-wam for the words."""

    model_config = _STRICT
    header: str
    each: dict[EachKey, list[str | int]] = Field(default_factory=dict)
    split: str | None = None
    suite: str | None = None
    horizon: int | None = None
    column: str | None = None
    tables: list[str] = Field(default_factory=list)  # measured: printed tables to compare with, in order
    every_suite: bool = False  # measured: compare only when every suite of the table ran

    def expand(self, label: Callable[[str], str]) -> list[ColumnSpec]:
        """The concrete columns, first `each` key outermost, headers filled with the paper's labels."""
        out = [self]
        for key, options in self.each.items():
            out = [c.model_copy(update={key: v}) for c in out for v in options]
        filled = []
        for c in out:
            fields: dict[str, str] = {
                k: label(str(getattr(c, k))) for k in EACH_KEYS if getattr(c, k) is not None
            }
            try:
                header = c.header.format_map(fields)
            except (KeyError, ValueError, IndexError) as e:
                raise ValueError(f"header '{c.header}': {e!r} is not a field this column sets") from None
            filled.append(c.model_copy(update={"each": {}, "header": header}))
        return filled

    @model_validator(mode="after")
    def _headers_fill(self) -> ColumnSpec:
        self.expand(str)
        return self

    @property
    def printed_column(self) -> str:
        name = self.column or self.split or self.suite
        if name is None:
            raise ValueError(f"column '{self.header}' names no printed column (column, split or suite)")
        return name

    @property
    def printed_horizon(self) -> str:
        return "all" if self.horizon is None else str(self.horizon)


class ReferenceTableSpec(BaseModel):
    """A table regenerated from the printed numbers: rows = (method, NFE) in the values' order."""

    model_config = _STRICT
    name: str
    title: str
    kind: Literal["printed", "per-task"] = "printed"
    table: str | None = None  # the values' table id; default: name
    columns: list[ColumnSpec] = Field(default_factory=list)
    units: dict[str, str] = Field(default_factory=dict)  # unit -> suffix, over the file's `units`
    notes: list[str] = Field(default_factory=list)

    @property
    def source(self) -> str:
        return self.table or self.name


class TotalSpec(BaseModel):
    model_config = _STRICT
    label: str = "All tasks"
    tables: list[str] = Field(default_factory=list)


class MeasuredTableSpec(BaseModel):
    """A table from stored runs: `policies` (a row per policy), `per-task` (a row per task, a column per
    policy and split) or `suite-tasks` (a row per suite and task, a column per policy)."""

    model_config = _STRICT
    name: str
    title: str
    kind: Literal["policies", "per-task", "suite-tasks"] = "policies"
    suites: list[str]
    columns: list[ColumnSpec] = Field(default_factory=list)
    splits: list[str] = Field(default_factory=list)  # per-task
    total: TotalSpec = Field(default_factory=TotalSpec)  # per-task: the last row
    latency: bool = False
    nfe: tuple[int, int] | None = None  # only policies at this NFE
    notes: list[str] = Field(default_factory=list)
    horizon_note: bool = False
    missing_suites_note: str | None = None  # {missing}: the suites that did not run
    empty: str | None = None  # why the table is empty when no policy ran its suites


class RealRobotSpec(BaseModel):
    model_config = _STRICT
    name: str
    title: str


class HorizonNoteSpec(BaseModel):
    model_config = _STRICT
    as_printed: str
    regrouped: str  # {moved}: the moves, joined by "; "
    moved: str  # {task}, {fitted}, {printed}


class TablesSpec(BaseModel):
    model_config = _STRICT
    shared: Any = None  # values the layouts refer to (YAML anchors); read by nothing else
    units: dict[str, str] = Field(default_factory=dict)
    reference: list[ReferenceTableSpec] = Field(default_factory=list)
    measured: list[MeasuredTableSpec] = Field(default_factory=list)
    real_robot: RealRobotSpec | None = None
    vs_paper_note: str = ""
    horizon_note: HorizonNoteSpec | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> TablesSpec:
        for part, specs in (("reference", self.reference), ("measured", self.measured)):
            _refuse_twice(f"{part} tables named twice", [s.name for s in specs])
        return self


# ---- consistency.yaml --------------------------------------------------------------------------
class TextAlias(BaseModel):
    model_config = _STRICT
    table: str
    method: str
    same_as: str


class LatencyRule(BaseModel):
    model_config = _STRICT
    figure: str
    total: str
    parts: list[str]
    parts_detail: str
    reference: str


class GranularityRule(BaseModel):
    model_config = _STRICT
    trials: int = Field(ge=1)
    stated: bool
    source: str
    tables: list[str]
    tasks: int | Literal["horizon-groups"]
    average_of: int = Field(default=1, ge=1)


class Words(BaseModel):
    model_config = _STRICT
    per_task: str = "the per-task table"
    horizon_tables: str = "the horizon tables"
    averages: str = "averages"
    sources: str = "the per-task table, the horizon cells, the split columns"


class ConsistencySpec(BaseModel):
    model_config = _STRICT
    aggregate_tables: list[str] = Field(default_factory=list)
    horizon_tables: list[str] = Field(default_factory=list)
    text_aliases: list[TextAlias] = Field(default_factory=list)
    row_averages: dict[str, list[str]] = Field(default_factory=dict)
    latency: LatencyRule | None = None
    granularity: dict[str, GranularityRule] = Field(default_factory=dict)
    words: Words = Field(default_factory=Words)
    titles: dict[str, str] = Field(default_factory=dict)


__all__ = [
    "BenchmarkSpec",
    "ColumnSpec",
    "ConsistencySpec",
    "GranularityRule",
    "HorizonNoteSpec",
    "LatencyRule",
    "LatencySpec",
    "MeasuredTableSpec",
    "MethodSpec",
    "PaperSpec",
    "PerTaskSpec",
    "RealRobotSpec",
    "ReducedNfe",
    "ReferenceTableSpec",
    "TablesSpec",
    "TextAlias",
    "TotalSpec",
    "Words",
]
