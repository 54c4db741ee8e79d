"""The per-chunk loop without a simulator: reset, then consecutive `act` calls.

Chunks run back to back inside one episode (unless `chunks_per_episode` asks for resets), so a
policy's context cache grows as it would in a rollout and warm chunks pay the cost of attending to it.
The first `warmup` chunks after the policy is built are flagged as warm-up: the very first one is the
cold chunk (allocator growth, kernel selection, lazy initialisation) and is reported on its own.

Besides the policy's own stage timings, the runner measures each `act` call from outside (synchronising
the device before and after on CUDA). A policy whose `total` falls well short of that outside time is
not timing everything it does; the summary says so rather than trusting it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.errors import UserError
from harness.types import ActionChunk, EpisodeSpec, Observation, Policy

# The outside measurement is reported as this extra stage (stored in the chunk's stages_json).
HARNESS_STAGE = "harness_total"


@dataclass(frozen=True)
class ChunkSample:
    """One timed policy call."""

    order: int  # position among all chunks of this policy instance (0 = cold)
    episode: int
    chunk: int  # position within its episode
    timings: dict[str, float]  # the policy's stage timings (ms), plus HARNESS_STAGE
    nfe: dict[str, int]
    warmup: bool

    @property
    def total(self) -> float:
        return self.timings["total"]


@dataclass
class RunResult:
    """All chunks of one (policy, configuration) measurement."""

    label: str
    policy: str
    samples: list[ChunkSample]
    device: str
    nfe_steps: tuple[int | None, int | None] = (None, None)  # configured steps (video, action)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def warm(self) -> list[ChunkSample]:
        return [s for s in self.samples if not s.warmup]

    @property
    def cold(self) -> ChunkSample:
        return self.samples[0]


def _device_sync(device: str) -> Callable[[], None]:
    if device.startswith("cuda"):
        import torch

        return lambda: torch.cuda.synchronize(None if device == "cuda" else device)
    if device.startswith("mps"):
        import torch

        return torch.mps.synchronize
    return lambda: None


class ChunkLoop:
    """One policy's side of the loop: its episodes, its chunk count, its samples. The one env-less
    per-chunk loop: `wambench latency` and `wambench bench sampler` both time chunks with it.

    Several loops can be stepped in turn (`run_interleaved`), so that slow spells of a shared machine
    fall on every configuration alike instead of on whichever happened to be measured then.
    `episode(k)` gives the k-th episode's spec and `instruction` the one reset passes (defaults: the
    latency tool's, and the first observation's); `min_warmup` 0 lets a caller count the cold chunk.
    """

    def __init__(
        self,
        policy: Policy,
        observations: Sequence[Observation],
        *,
        warmup: int,
        iters: int,
        suite: str,
        label: str,
        device: str = "cpu",
        chunks_per_episode: int = 0,
        seed: int = 0,
        episode: Callable[[int], EpisodeSpec] | None = None,
        instruction: str | None = None,
        min_warmup: int = 1,
    ) -> None:
        if warmup < min_warmup:
            raise UserError("--warmup must be at least 1: the first (cold) chunk is never a warm sample")
        if iters < 1:
            raise UserError("--iters must be at least 1")
        if not observations:
            raise UserError("no observations to feed the policy")
        self.policy = policy
        self.observations = observations
        self.warmup = warmup
        self.n = warmup + iters
        self.per_episode = chunks_per_episode if chunks_per_episode > 0 else self.n
        self.suite, self.label, self.seed = suite, label, seed
        self._episode_spec = episode or self._latency_episode
        self._instruction = observations[0].instruction if instruction is None else instruction
        self._sync = _device_sync(device)
        self.samples: list[ChunkSample] = []
        self.last: ActionChunk | None = None  # the latest chunk as the policy returned it
        self._episode = -1
        self._chunk = 0

    def _latency_episode(self, k: int) -> EpisodeSpec:
        return EpisodeSpec(self.suite, "latency", self.label, k, self.seed + k, 10**9, self.seed + k)

    @property
    def done(self) -> bool:
        return len(self.samples) >= self.n

    def step(self) -> ChunkSample:
        i = len(self.samples)
        if i % self.per_episode == 0:
            self._episode += 1
            self._chunk = 0
            self.policy.reset(self._episode_spec(self._episode), self._instruction)
        obs = self.observations[i % len(self.observations)]
        self._sync()
        t0 = time.perf_counter()
        out = self.policy.act(obs)
        self._sync()
        outside_ms = (time.perf_counter() - t0) * 1000.0
        self.last = out
        timings = {str(k): float(v) for k, v in dict(out.timings).items()}
        if "total" not in timings:
            raise UserError(
                f"policy '{self.policy.spec.name}' returned no 'total' timing; time each chunk with "
                f"harness.timing.StageTimer (stages: encode, video, action, decode)"
            )
        timings[HARNESS_STAGE] = outside_ms
        sample = ChunkSample(
            order=i,
            episode=self._episode,
            chunk=self._chunk,
            timings=timings,
            nfe={str(k): int(v) for k, v in dict(out.nfe).items()},
            warmup=i < self.warmup,
        )
        self.samples.append(sample)
        self._chunk += 1
        return sample

    def run(self) -> list[ChunkSample]:
        """Time `warmup + iters` consecutive chunks; observation i feeds chunk i (cycled if fewer)."""
        while not self.done:
            self.step()
        return self.samples


def run_interleaved(loops: Sequence[ChunkLoop]) -> None:
    """Step every loop once per round, rotating who goes first, until all are done."""
    rounds = 0
    while not all(loop.done for loop in loops):
        k = rounds % len(loops)
        for loop in [*loops[k:], *loops[:k]]:
            if not loop.done:
                loop.step()
        rounds += 1


__all__ = ["HARNESS_STAGE", "ChunkLoop", "ChunkSample", "RunResult", "run_interleaved"]
