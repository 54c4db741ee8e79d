"""Per-policy real-time figures from a store: what the end-of-run summary and the report show.

One row per stored policy id: its execution mode and latency (the mean of the latencies its chunks
got, and the mean delay in control steps), success with its Wilson interval, and the means of the
per-episode metrics (harness/realtime/metrics.py): time to success over the successes, stale and hold
fractions, effective control rate. A store from before execution models has no `executions` rows:
its policies read as sync with no real-time numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from rich.table import Table

from harness.records import ChunkRecord, EpisodeRecord, OutcomeCounts
from harness.store import Store


@dataclass(frozen=True)
class RealtimeRow:
    policy: str
    base: str
    mode: str
    device: str | None
    latency_kind: str | None  # fixed | stored | measured (harness/realtime/latency.py); None: not recorded
    latency_ms: float | None  # mean over the policy's chunks
    delay_steps: float | None  # mean d over its chunks
    k: int
    n: int  # success + failure
    errors: int
    time_to_success_s: float | None
    stale_fraction: float | None
    hold_fraction: float | None
    effective_hz: float | None

    @property
    def has_timing(self) -> bool:
        return self.mode == "delayed" or self.time_to_success_s is not None or self.effective_hz is not None


def _mean(values: Iterable[Any]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return fmean(present) if present else None


def realtime_rows(store: Store) -> list[RealtimeRow]:
    executions = store.executions()
    episodes: dict[str, list[EpisodeRecord]] = defaultdict(list)
    for e in store.episodes():
        episodes[e.policy].append(e)
    chunks: dict[str, list[ChunkRecord]] = defaultdict(list)
    for c in store.chunks("rollout"):
        chunks[c.policy].append(c.record)
    rows = []  # a store opened read-only may lack the columns added for execution models: None then
    for pid in sorted(set(store.policies()) | set(episodes)):
        ex = executions.get(pid, {})
        eps = episodes.get(pid, [])
        counts = OutcomeCounts.of(e.outcome for e in eps)
        judged = [e for e in eps if e.outcome != "error"]
        wins = [e for e in judged if e.outcome == "success"]
        rows.append(
            RealtimeRow(
                policy=pid,
                base=str(ex.get("base", pid)),
                mode=str(ex.get("mode", "sync")),
                device=ex.get("device"),
                latency_kind=(ex.get("latency") or {}).get("kind"),
                latency_ms=_mean(c.latency_ms for c in chunks.get(pid, [])),
                delay_steps=_mean(c.delay_steps for c in chunks.get(pid, [])),
                k=counts.success,
                n=counts.judged,
                errors=counts.error,
                time_to_success_s=_mean(e.execution.get("time_s") for e in wins),
                stale_fraction=_mean(e.execution.get("stale_fraction") for e in judged),
                hold_fraction=_mean(e.execution.get("hold_fraction") for e in judged),
                effective_hz=_mean(e.execution.get("effective_hz") for e in judged),
            )
        )
    return rows


def realtime_table(store: Store) -> Table | None:
    """The summary's real-time table (a rich table); None when no policy has real-time numbers."""
    rows = sorted(
        (r for r in realtime_rows(store) if r.has_timing),
        key=lambda r: (r.base, r.mode != "sync", r.latency_ms or 0.0, r.policy),
    )
    if not rows:
        return None

    def num(v: float | None, fmt: str, scale: float = 1.0) -> str:
        return format(scale * v, fmt) if v is not None else "–"

    t = Table(header_style="bold", title="real time (time to success over successes; means per episode)")
    for col in ("policy", "execution", "latency ms", "delay steps", "success %", "time to success s"):
        t.add_column(col, justify="left" if col in ("policy", "execution") else "right")
    for col in ("stale %", "hold %", "effective Hz"):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(
            r.policy,
            r.mode,
            num(r.latency_ms, ".0f"),
            num(r.delay_steps, ".1f"),
            num(r.k / r.n if r.n else None, ".1f", 100),
            num(r.time_to_success_s, ".2f"),
            num(r.stale_fraction, ".1f", 100),
            num(r.hold_fraction, ".1f", 100),
            num(r.effective_hz, ".1f"),
        )
    return t


__all__ = ["RealtimeRow", "realtime_rows", "realtime_table"]
