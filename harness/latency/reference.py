"""The paper's own latency numbers, for printing beside measured ones (never mixed with them).

Read from the paper definition (harness/papers/NAME, the default paper unless one is given): its
values' rows of the latency columns (per-chunk milliseconds, speedups) at an NFE, whatever table or
figure prints them; the device they were timed on and each benchmark's teacher NFE from paper.yaml;
which suites a benchmark covers from its `benchmarks`. Only printed numbers (nothing derived). The
paper's real-time budget is not legible in our transcription; `DEFAULT_BUDGET_MS` is wambench's own
default (2 Hz chunk rate, which the paper's 348 ms crosses) and is configurable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from harness.errors import UserError
from harness.report.paperdef import Paper, default_paper

DEFAULT_BUDGET_MS = 500.0
# The values' columns that are latency numbers, each a field of PaperLatency of the same name.
COLUMNS = ("total_ms", "video_ms", "action_ms", "speedup")


@dataclass(frozen=True)
class PaperLatency:
    family: str  # the paper's benchmark ("robotwin2", "libero")
    steps: tuple[int, int]  # (video, action)
    total_ms: float | None
    video_ms: float | None
    action_ms: float | None
    speedup: float | None  # over the benchmark's teacher configuration
    where: str  # the paper's tables/figures printing them ("Figure 1, Table 1")
    device: str


@dataclass(frozen=True)
class LatencyReference:
    """One paper's latency numbers, looked up by the suite a measurement ran on."""

    paper: Paper
    device: str
    rows: tuple[PaperLatency, ...] = field(default=())

    @property
    def source(self) -> str:
        return self.paper.spec.title

    def family(self, suite: str) -> str | None:
        return self.paper.spec.benchmark_of(suite)

    def teacher_steps(self, suite: str) -> tuple[int, int] | None:
        family = self.family(suite)
        return self.paper.spec.benchmarks[family].teacher_nfe if family else None

    def latency(self, suite: str, steps: tuple[int | None, int | None]) -> PaperLatency | None:
        family = self.family(suite)
        return next((r for r in self.rows if r.family == family and r.steps == steps), None)

    def rows_of(self, suite: str) -> list[PaperLatency]:
        family = self.family(suite)
        return [r for r in self.rows if r.family == family]


def _cited_order(label: str) -> tuple[object, ...]:
    """Figure 1 before Table 1 before Table 10: words alphabetically, numbers as numbers."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", label))


def latency_reference(paper: Paper) -> LatencyReference:
    """The paper's latency rows: per benchmark (paper.yaml's order) and NFE (the values' order), the
    latency columns it prints there. A column printed twice with two values (e.g. one speedup per NFE
    block printed on each method's row) is refused: the paper would contradict itself."""
    cells: dict[tuple[str, tuple[int, int]], dict[str, float]] = {}
    where: dict[tuple[str, tuple[int, int]], set[str]] = {}
    for v in paper.values:
        if v.column not in COLUMNS or v.nfe_video is None or v.nfe_action is None:
            continue
        key = (v.benchmark, (v.nfe_video, v.nfe_action))
        row = cells.setdefault(key, {})
        if row.setdefault(v.column, v.value) != v.value:
            raise UserError(
                f"paper '{paper.name}': {v.benchmark} {v.nfe_video}v/{v.nfe_action}a {v.column} is "
                f"printed as both {row[v.column]:g} and {v.value:g}"
            )
        where.setdefault(key, set()).add(paper.label(v.table))
    if cells and paper.spec.latency is None:
        raise UserError(f"paper '{paper.name}' prints latency numbers but names no `latency: device`")
    device = paper.spec.latency.device if paper.spec.latency else ""
    rows = [
        PaperLatency(
            family,
            steps,
            total_ms=cells[family, steps].get("total_ms"),
            video_ms=cells[family, steps].get("video_ms"),
            action_ms=cells[family, steps].get("action_ms"),
            speedup=cells[family, steps].get("speedup"),
            where=", ".join(sorted(where[family, steps], key=_cited_order)),
            device=device,
        )
        for bench in paper.spec.benchmarks
        for family, steps in cells
        if family == bench
    ]
    return LatencyReference(paper, device, tuple(rows))


@cache
def _default() -> LatencyReference:
    return latency_reference(default_paper())


PAPER_DEVICE = _default().device
PAPER_SOURCE = _default().source
# The teacher (unaccelerated) configuration per benchmark: (video steps, action steps).
TEACHER_STEPS: dict[str, tuple[int, int]] = {
    key: b.teacher_nfe for key, b in default_paper().spec.benchmarks.items() if b.teacher_nfe is not None
}


def paper_family(suite: str) -> str | None:
    """The benchmark of the paper's numbers a suite falls under ("libero_goal" -> "libero"): the paper
    reports per benchmark, and paper.yaml says which suites each covers."""
    return _default().family(suite)


def teacher_steps(suite: str) -> tuple[int, int] | None:
    return _default().teacher_steps(suite)


def paper_latency(suite: str, steps: tuple[int | None, int | None]) -> PaperLatency | None:
    """The paper's numbers for (suite, video steps, action steps), or None where it printed none."""
    return _default().latency(suite, steps)


def paper_rows(suite: str) -> list[PaperLatency]:
    return _default().rows_of(suite)


__all__ = [
    "COLUMNS",
    "DEFAULT_BUDGET_MS",
    "PAPER_DEVICE",
    "PAPER_SOURCE",
    "TEACHER_STEPS",
    "LatencyReference",
    "PaperLatency",
    "latency_reference",
    "paper_family",
    "paper_latency",
    "paper_rows",
    "teacher_steps",
]
