"""Per-chunk latency and speedup from stored chunk timings.

Rules that keep the numbers honest: warm chunks only (the first chunks of a process pay for
compilation and caches); one device per table (a speedup across devices measures hardware, not the
method); the denominator is the full-NFE teacher of the same suites, same backend where one ran, on
that device. Rollout chunks are preferred; `wambench latency` benchmark chunks are used only where a
table has no rollout timings at all, and the table says which.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import fmean

from harness.report.results import Chunk, PolicyInfo, RunSet


def remainder_ms(total_ms: float, video_ms: float | None, action_ms: float | None) -> float | None:
    """What a chunk spent outside its video and action streams (encode, decode, cache updates); None
    where the policy did not time both streams."""
    if video_ms is None or action_ms is None:
        return None
    return max(0.0, total_ms - video_ms - action_ms)


@dataclass(frozen=True)
class Latency:
    policy: str
    n: int  # warm chunks averaged
    video_ms: float | None
    action_ms: float | None
    total_ms: float

    @property
    def other_ms(self) -> float | None:
        return remainder_ms(self.total_ms, self.video_ms, self.action_ms)


@dataclass(frozen=True)
class LatencySet:
    """Latencies of the policies of one table, all on `device` from `source` chunks."""

    device: str | None
    source: str | None
    by_policy: dict[str, Latency]
    other_devices: tuple[str, ...] = ()  # devices with warm chunks that this table ignores

    def get(self, policy: str) -> Latency | None:
        return self.by_policy.get(policy)


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return fmean(present) if present else None


def latency_set(runs: RunSet, suites: Iterable[str]) -> LatencySet:
    wanted = set(suites)
    warm = [c for c in runs.chunks if not c.warmup and c.suite in wanted and c.total_ms is not None]
    sources = {c.source for c in warm}
    source = "rollout" if "rollout" in sources else (sorted(sources)[0] if sources else None)
    chosen = [c for c in warm if c.source == source]
    if not chosen:
        return LatencySet(None, None, {})
    device = Counter(c.device for c in chosen).most_common(1)[0][0]
    by_policy: dict[str, list[Chunk]] = {}
    for c in chosen:
        if c.device == device:
            by_policy.setdefault(c.policy, []).append(c)
    result = {
        pid: Latency(
            policy=pid,
            n=len(cs),
            video_ms=_mean(c.video_ms for c in cs),
            action_ms=_mean(c.action_ms for c in cs),
            total_ms=fmean(c.total_ms for c in cs if c.total_ms is not None),
        )
        for pid, cs in by_policy.items()
    }
    others = tuple(sorted({c.device for c in chosen if c.device != device}))
    return LatencySet(device, source, result, others)


def teacher_for(policy: PolicyInfo, candidates: Iterable[PolicyInfo], lat: LatencySet) -> PolicyInfo | None:
    """The speedup denominator: the highest-NFE teacher timed on the table's device, same backend
    preferred (a tiny student against a LingBot teacher would measure the backend, not the method)."""
    teachers = [p for p in candidates if p.method == "teacher" and lat.get(p.id) is not None]
    if not teachers:
        return None
    same = [p for p in teachers if p.backend == policy.backend] or teachers
    return max(same, key=lambda p: ((p.nfe_video or 0) + (p.nfe_action or 0), p.id))


def speedup(policy: PolicyInfo, candidates: Iterable[PolicyInfo], lat: LatencySet) -> float | None:
    mine = lat.get(policy.id)
    teacher = teacher_for(policy, candidates, lat)
    if mine is None or teacher is None or mine.total_ms <= 0:
        return None
    base = lat.get(teacher.id)
    return None if base is None else base.total_ms / mine.total_ms


__all__ = ["Latency", "LatencySet", "latency_set", "remainder_ms", "speedup", "teacher_for"]
