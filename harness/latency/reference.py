"""The paper's own latency numbers, for printing beside measured ones (never mixed with them).

Transcribed from the Flash-WAM paper (arXiv 2606.05254): Figure 1 (per-chunk latency on one NVIDIA
L40S, RoboTwin 2.0) and the speedup columns of Table 1 (RoboTwin 2.0) and Table 2 (LIBERO). The paper
prints speedups per NFE configuration, the same for every method at that configuration; only printed
numbers are here (nothing derived). The paper's real-time budget is not legible in our transcription;
`DEFAULT_BUDGET_MS` is wambench's own default (2 Hz chunk rate, which the paper's 348 ms crosses) and is
configurable.
"""

from __future__ import annotations

from dataclasses import dataclass

PAPER_DEVICE = "NVIDIA L40S"
PAPER_SOURCE = "Flash-WAM (arXiv 2606.05254)"
DEFAULT_BUDGET_MS = 500.0


def paper_family(suite: str) -> str | None:
    """The benchmark of the paper's numbers a suite name falls under ("libero_goal" -> "libero"): the
    paper reports per benchmark, so its numbers are keyed by the benchmarks' names."""
    if suite.startswith("libero"):
        return "libero"
    if suite.startswith("robotwin"):
        return "robotwin2"
    return None


# The teacher (unaccelerated LingBot-VA) configuration per suite family: (video steps, action steps).
TEACHER_STEPS: dict[str, tuple[int, int]] = {"robotwin2": (25, 50), "libero": (20, 50)}


@dataclass(frozen=True)
class PaperLatency:
    family: str  # "robotwin2" | "libero"
    steps: tuple[int, int]  # (video, action)
    total_ms: float | None
    video_ms: float | None
    action_ms: float | None
    speedup: float | None  # over the suite's teacher configuration
    where: str  # figure/table of the paper
    device: str = PAPER_DEVICE


_ROWS: tuple[PaperLatency, ...] = (
    PaperLatency("robotwin2", (25, 50), 8100.0, 3550.0, 4550.0, 1.0, "Figure 1, Table 1"),
    PaperLatency("robotwin2", (1, 2), None, None, None, 19.0, "Table 1"),
    PaperLatency("robotwin2", (1, 1), 348.0, None, None, 23.3, "Figure 1, Table 1"),
    PaperLatency("libero", (20, 50), None, None, None, 1.0, "Table 2"),
    PaperLatency("libero", (1, 2), None, None, None, 13.7, "Table 2"),
    PaperLatency("libero", (1, 1), None, None, None, 16.3, "Table 2"),
)


def teacher_steps(suite: str) -> tuple[int, int] | None:
    family = paper_family(suite)
    return TEACHER_STEPS.get(family) if family else None


def paper_latency(suite: str, steps: tuple[int | None, int | None]) -> PaperLatency | None:
    """The paper's numbers for (suite, video steps, action steps), or None where it printed none."""
    family = paper_family(suite)
    for row in _ROWS:
        if row.family == family and row.steps == steps:
            return row
    return None


def paper_rows(suite: str) -> list[PaperLatency]:
    family = paper_family(suite)
    return [r for r in _ROWS if r.family == family]


__all__ = [
    "DEFAULT_BUDGET_MS",
    "PAPER_DEVICE",
    "PAPER_SOURCE",
    "TEACHER_STEPS",
    "PaperLatency",
    "paper_family",
    "paper_latency",
    "paper_rows",
    "teacher_steps",
]
