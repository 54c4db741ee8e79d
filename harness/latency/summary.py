"""What `wambench latency` prints and stores for one invocation: the header, the tables (a sweep's, or
one per configuration), the warnings, the run's config as the store keeps it, and the CSV."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.latency.runner import RunResult
from harness.latency.stats import ConfigStats
from harness.latency.suite import ResolvedSuite
from harness.latency.sweep import SweepAnalysis
from harness.latency.tables import (
    breakdown_table,
    config_table,
    headline,
    paper_table,
    stage_table,
    sweep_table,
)

if TYPE_CHECKING:
    from harness.latency.app import LatencyRequest


@dataclass
class Summary:
    """What one `wambench latency` invocation measured and concluded, for printing and storing."""

    resolved: ResolvedSuite
    dtype: str
    device_name: str
    teacher: tuple[int, int] | None
    grid: list[tuple[int, int]]
    results: list[RunResult]
    stats: list[ConfigStats]
    analysis: SweepAnalysis | None
    warnings: list[str]


def header(req: LatencyRequest, resolved: ResolvedSuite, dtype: str, dev_name: str) -> str:
    import torch

    return (
        f"wambench latency: suite {req.suite} (geometry: {resolved.geometry.source}), device {dev_name}, "
        f"dtype {dtype}, torch {torch.__version__} (threads: {torch.get_num_threads()}), "
        f"warm-up {req.warmup}, warm iterations {req.iters}"
    )


def print_summary(req: LatencyRequest, s: Summary, echo: Callable[[str], None]) -> None:
    """The tables after the header: the sweep's, or one per configuration; then the warnings."""
    if s.analysis is not None:
        echo("")
        echo(sweep_table(s.analysis, s.device_name))
        echo("")
        echo(breakdown_table([r.label for r in s.results], s.stats, s.device_name, req.suite))
        for steps in ((1, 1), (1, 2)):
            line = headline(s.analysis, steps)
            if line:
                echo(line)
    else:
        echo("")
        labels = [f"{r.policy} [{r.label}]" for r in s.results]
        echo(config_table(labels, s.stats, s.device_name, s.teacher))
        echo("")
        echo(breakdown_table(labels, s.stats, s.device_name, req.suite))
        for r, st in zip(s.results, s.stats, strict=True):
            echo("")
            echo(stage_table(st, s.device_name).replace(st.label, f"{r.policy} [{st.label}]", 1))
            echo(f"drift over the episode: {st.drift:+.3f} ms per chunk")
    paper = paper_table(req.suite)
    if paper:
        echo("")
        echo(paper)
    if any(st.total.n < 100 for st in s.stats):
        echo("note: with fewer than 100 warm chunks, p99 is close to the maximum")
    if s.warnings:
        echo("")
        echo("WARNINGS")
        for w in s.warnings:
            echo(f"- {w}")


def store_config(req: LatencyRequest, s: Summary) -> dict[str, Any]:
    """The run's config as the store keeps it: the request, the machine, and what was measured."""
    import torch

    geometry = s.resolved.geometry
    config: dict[str, Any] = {
        "command": "latency",
        "policies": list(req.policies),
        "suite": req.suite,
        "geometry_source": geometry.source,
        "camera_shapes": {k: list(v) for k, v in geometry.camera_shapes.items()},
        "state_dim": geometry.state_dim,
        "device": req.device,
        "device_name": s.device_name,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "dtype": s.dtype,
        "warmup": req.warmup,
        "iters": req.iters,
        "chunks_per_episode": req.chunks_per_episode,
        "interleave": req.interleave,
        "stat": req.stat,
        "observations": req.obs or f"synthetic(seed={req.seed})",
        "sweep": req.sweep,
        "grid": [list(c) for c in s.grid],
        "teacher": list(s.teacher) if s.teacher else None,
        "budget_ms": req.budget_ms,
        "budget_stat": req.budget_stat,
        "options": dict(req.options),
        "configs": [
            {"policy": r.policy, "label": r.label, "steps": list(r.nfe_steps), "nfe": st.nfe}
            for r, st in zip(s.results, s.stats, strict=True)
        ],
    }
    if s.analysis:
        m = s.analysis.model
        config["fit"] = {
            "c0": m.c0,
            "c_video": m.c_video,
            "c_action": m.c_action,
            "r2": m.r2,
            "stat": s.analysis.stat,
            "weighting": m.weighting,
        }
    return config


def write_csv(
    path: str | Path,
    results: Sequence[RunResult],
    stats: Sequence[ConfigStats],
    analysis: SweepAnalysis | None,
    device: str,
) -> None:
    rows_by_label = {r.label: r for r in analysis.rows} if analysis else {}
    fields = [
        "policy", "config", "device", "nfe_video", "nfe_action", "warm_n", "cold_ms", "mean_ms", "p50_ms",
        "p90_ms", "p99_ms", "cv", "ci_low_ms", "fit_ms", "reported_ms", "speedup_measured", "speedup_model",
        "meets_budget",
    ]  # fmt: skip
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for r, s in zip(results, stats, strict=True):
            row = rows_by_label.get(s.label) if analysis else None
            w.writerow(
                {
                    "policy": r.policy,
                    "config": s.label,
                    "device": device,
                    "nfe_video": s.nfe.get("video"),
                    "nfe_action": s.nfe.get("action"),
                    "warm_n": s.total.n,
                    "cold_ms": s.cold.get("total"),
                    "mean_ms": s.total.mean,
                    "p50_ms": s.total.p50,
                    "p90_ms": s.total.p90,
                    "p99_ms": s.total.p99,
                    "cv": s.total.cv,
                    "ci_low_ms": s.total.ci_low,
                    "fit_ms": row.predicted if row else None,
                    "reported_ms": row.reported if row else None,
                    "speedup_measured": row.speedup_measured if row else None,
                    "speedup_model": row.speedup_model if row else None,
                    "meets_budget": row.meets_budget if row else None,
                }
            )


__all__ = ["Summary", "header", "print_summary", "store_config", "write_csv"]
