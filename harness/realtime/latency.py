"""Latency models: how long a chunk takes, decided without the evaluating machine's clock.

- `fixed`: one number of milliseconds for every chunk (e.g. the paper's 348 ms on an L40S).
- `stored`: the warm chunk times of a `wambench latency` benchmark, typically measured on another
  machine. Chunk k of an episode takes one of those samples, drawn by a generator seeded with
  (the episode's noise seed, k): the measured spread is replayed, identically on every rerun and for
  every policy of a run on the same episode.
- `measured`: the chunk's own `total` timing in this run. The only source that is not reproducible
  (it is this machine's clock); the store keeps the latency and delay each chunk got.

`predict_ms` is what the schedule knows before a chunk is requested (when to ask for the next chunk so
that it arrives as the current one runs out): the model's value itself for `fixed` and `stored`, the
last chunk's latency for `measured`, as a deployed system would estimate it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from harness.errors import UserError
from harness.types import EpisodeError, EpisodeSpec

LatencyKind = Literal["fixed", "measured", "stored"]


@dataclass(frozen=True)
class LatencyModel:
    kind: LatencyKind
    ms: float | None = None  # fixed
    samples: tuple[float, ...] = ()  # stored: warm chunk totals (ms)
    source: str = ""  # where the numbers come from (a device, a store), for the record

    def latency_ms(self, chunk: int, spec: EpisodeSpec, timings: Mapping[str, float]) -> float:
        if self.kind == "fixed":
            assert self.ms is not None
            return self.ms
        if self.kind == "stored":
            return self._sample(chunk, spec)
        total = timings.get("total")
        if total is None or not math.isfinite(float(total)) or float(total) < 0:
            raise EpisodeError(
                f"latency 'measured' needs the chunk's 'total' timing; the policy gave {total!r}"
            )
        return float(total)

    def predict_ms(self, chunk: int, spec: EpisodeSpec, last_ms: float) -> float:
        return last_ms if self.kind == "measured" else self.latency_ms(chunk, spec, {})

    def _sample(self, chunk: int, spec: EpisodeSpec) -> float:
        i = int(np.random.default_rng([spec.noise_seed & 0xFFFFFFFF, chunk]).integers(len(self.samples)))
        return self.samples[i]

    def describe(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "source": self.source}
        if self.kind == "fixed":
            out["ms"] = self.ms
        if self.kind == "stored":
            out |= {"n": len(self.samples), "mean_ms": float(np.mean(self.samples)) if self.samples else None}
        return out


def delay_steps(latency_ms: float, control_hz: float) -> int:
    """d = ceil(L * control_hz / 1000): the control steps that pass while a chunk is computed."""
    return max(0, math.ceil(round(latency_ms * control_hz / 1000.0, 9)))


@dataclass(frozen=True)
class StoredBenchmark:
    """Warm chunk totals of a `wambench latency` store, by (registry policy name, config label)."""

    path: str
    device: str
    samples: Mapping[tuple[str, str], tuple[float, ...]]

    def pick(self, name: str, steps_label: str, policy_id: str) -> tuple[str, tuple[float, ...]]:
        """The benchmark entry for a run policy: its registry name, and its NFE label where the
        benchmark timed several configurations of it."""
        labels = sorted(label for (pol, label) in self.samples if pol == name)
        if not labels:
            have = ", ".join(sorted({p for p, _ in self.samples})) or "none"
            raise UserError(
                f"latency store '{self.path}' has no benchmark of policy '{name}' (for '{policy_id}'; "
                f"it has: {have}); run `wambench latency --policy {name} --suite SUITE` on the device, or "
                "give a fixed --latency"
            )
        label = labels[0] if len(labels) == 1 else steps_label if steps_label in labels else None
        if label is None:
            raise UserError(
                f"latency store '{self.path}' timed '{name}' at {', '.join(labels)}; none matches "
                f"'{policy_id}' ({steps_label}): keep one configuration per store"
            )
        return label, self.samples[(name, label)]


def load_benchmark(directory: str | Path) -> StoredBenchmark:
    """Read a `wambench latency` output directory; one device per store (a mix would blend machines)."""
    from harness.latency.record import SOURCE
    from harness.store import STORE_NAME, Store

    path = Path(directory)
    if not (path / STORE_NAME).exists() and path.suffix != ".sqlite":
        raise UserError(
            f"--latency-from '{path}' holds no wambench store; give a `wambench latency --out` directory"
        )
    with Store.open(path) as store:
        rows = [c for c in store.chunks(SOURCE) if not c.record.warmup and c.ms("total") is not None]
    if not rows:
        raise UserError(
            f"latency store '{path}' holds no warm benchmark chunks (run `wambench latency` into it)"
        )
    devices = sorted({c.record.device or "?" for c in rows})
    if len(devices) > 1:
        raise UserError(
            f"latency store '{path}' mixes devices ({', '.join(devices)}); use one store per device"
        )
    samples: dict[tuple[str, str], list[float]] = {}
    for c in rows:
        samples.setdefault((c.policy, c.key.split), []).append(float(c.record.timings["total"]))
    return StoredBenchmark(str(path), devices[0], {k: tuple(v) for k, v in samples.items()})


__all__ = ["LatencyKind", "LatencyModel", "StoredBenchmark", "delay_steps", "load_benchmark"]
