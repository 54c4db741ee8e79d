"""Test doubles for the serving tests: a deterministic seeded policy and a shapes-only suite.

`SeededDoublePolicy` stands in for a WAM only where the real one is not needed to test the wire: its
actions depend on the episode's noise seed, the instruction and the observation (images and state), so
a server that drops, reorders or mis-decodes any of them produces different actions than in-process.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.types import (
    ActionChunk,
    ActionSpace,
    EpisodeSpec,
    Observation,
    PolicySpec,
    StepResult,
    TaskInfo,
)


@dataclass
class DoubleSuite:
    name: str = "libero_double"
    action_space: ActionSpace = field(default_factory=lambda: ActionSpace("ee_delta7", 7, -1.0, 1.0))
    splits: Sequence[str] = ("default",)
    camera_shapes: Mapping[str, tuple[int, int, int]] = field(
        default_factory=lambda: {"agentview": (16, 16, 3), "wrist": (16, 16, 3)}
    )
    state_dim: int = 8
    env_memory_gb: float = 0.0

    def tasks(self) -> Sequence[TaskInfo]:
        return [TaskInfo("t0", "pick up the bowl", 40)]

    def episodes(self, task: str, split: str, n: int | None) -> list[EpisodeSpec]:
        return [EpisodeSpec(self.name, task, split, i, i, 40) for i in range(n or 1)]

    def make_env(self, task: str, split: str) -> Any:
        raise RuntimeError("shapes only")


def double_suite(**options: Any) -> DoubleSuite:
    return DoubleSuite()


def large_double_suite(**options: Any) -> DoubleSuite:
    """LIBERO-like geometry at 1024 px (the largest `image_size` LIBERO accepts)."""
    return DoubleSuite(camera_shapes={"agentview": (1024, 1024, 3), "wrist": (1024, 1024, 3)})


class SeededDoublePolicy:
    def __init__(self, spec: PolicySpec, chunk: int, delay_s: float, fail_after: int | None = None) -> None:
        self.spec = spec
        self.chunk = chunk
        self.delay_s = delay_s
        self.fail_after = fail_after
        self.acts = 0
        self.rng: np.random.Generator | None = None
        self.instruction = ""
        self.resets = 0
        self.closed = False

    def reset(self, episode: EpisodeSpec, instruction: str) -> None:
        self.rng = np.random.default_rng(episode.noise_seed)
        self.instruction = instruction
        self.resets += 1

    def act(self, obs: Observation) -> ActionChunk:
        assert self.rng is not None, "act before reset"
        self.acts += 1
        if self.fail_after is not None and self.acts > self.fail_after:
            raise RuntimeError("injected policy failure")
        t0 = time.perf_counter()
        if self.delay_s:
            time.sleep(self.delay_s)
        pix = sum(float(img.astype(np.float64).mean()) for _, img in sorted(obs.images.items()))
        bias = pix / 255.0 + float(np.sum(obs.state)) + len(self.instruction) / 100.0
        actions = self.rng.standard_normal((self.chunk, 7)) + bias
        ms = (time.perf_counter() - t0) * 1000.0
        timings = {"encode": ms / 4, "video": ms / 4, "action": ms / 4, "decode": ms / 4, "total": ms}
        return ActionChunk(actions, timings, {"video": 1, "action": 1}, "cpu (double)")

    def close(self) -> None:
        self.closed = True


@dataclass
class SeededDoubleFactory:
    chunk: int = 8
    spec: PolicySpec = field(
        default_factory=lambda: PolicySpec(
            "double-1v1a", "double", 1, 1, "double", details={"actions_per_frame": 4}
        )
    )
    built: list[SeededDoublePolicy] = field(default_factory=list)

    def build(self, suite: Any, options: Mapping[str, Any]) -> SeededDoublePolicy:
        fail = options.get("fail_after")
        policy = SeededDoublePolicy(
            self.spec,
            int(options.get("chunk", self.chunk)),
            float(options.get("delay_s", 0)),
            None if fail is None else int(fail),
        )
        self.built.append(policy)
        return policy


double = SeededDoubleFactory()


class DoubleEnv:
    """Observations with DoubleSuite's cameras that change every step; `on_step(n)` injects faults."""

    def __init__(self, on_step: Any = None) -> None:
        self.steps = 0
        self.on_step = on_step

    def _obs(self) -> Observation:
        rng = np.random.default_rng(self.steps)
        images = {c: rng.integers(0, 255, (16, 16, 3), dtype=np.uint8) for c in ("agentview", "wrist")}
        return Observation(images, rng.standard_normal(8), "pick up the bowl")

    def reset(self, episode: EpisodeSpec) -> Observation:
        self.steps = 0
        return self._obs()

    def step(self, action: np.ndarray) -> StepResult:
        self.steps += 1
        if self.on_step is not None:
            self.on_step(self.steps)
        return StepResult(self._obs(), False)

    def episode_info(self) -> Mapping[str, Any]:
        return {}

    def close(self) -> None:
        pass
