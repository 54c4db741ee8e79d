"""Test doubles for plugin authors, wambench's own tests and its benchmarks: a suite of any geometry
with no simulator, a policy that costs nothing, a seeded policy whose actions depend on everything it
is given, and entry points made up for one test.

- `FakeSuite` / `fake_suite(**options)`: one task, envs that never succeed, observations of the
  suite's cameras and state width: one fixed observation (zero cost per step), or with `vary` a fresh
  one each step, drawn from the step index. `busy_ms` burns CPU per step (not sleep: it competes for
  cores, as a simulator does). Configs name it `harness.testing:fake_suite`.
- `ConstantPolicy` / `constant_policy`: the same pre-built chunk every call (options `action`,
  `chunk`); what a benchmark of the harness's own cost runs.
- `SeededPolicy` / `seeded_policy`: actions from the episode's noise seed plus the observation's images
  and state and the instruction, so anything that drops, reorders or mis-decodes one of them (a wire,
  a server, a batcher) changes the actions. Options `chunk`, `delay_s`, `fail_after`.
- `EnvDefaults`: a base for env doubles (episode_info `{}`, close does nothing).
- `installed_entry_points({group: {name: "module:attr"}})`: the registries see these entry points
  instead of the installed ones, inside a `with` block.

Nothing here is registered; none of it needs torch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from typing import Any

import numpy as np

from harness.types import (
    ActionChunk,
    ActionSpace,
    EpisodeSpec,
    Observation,
    PolicySpec,
    StepResult,
    Suite,
    TaskInfo,
)


def spin(ms: float) -> None:
    """Burn `ms` of CPU (a busy-wait, not a sleep: it takes a core, as real work does)."""
    end = time.perf_counter() + ms / 1000.0
    while time.perf_counter() < end:
        pass


class EnvDefaults:
    """The two Env methods most doubles have nothing to say in: no per-episode info, nothing to close.
    A test env subclasses it and writes only reset and step (and whichever of these it needs)."""

    def episode_info(self) -> Mapping[str, Any]:
        return {}

    def close(self) -> None:
        pass


class FakeEnv(EnvDefaults):
    """A FakeSuite's env. `on_step(n)` runs after the n-th step of an episode (to inject faults)."""

    def __init__(self, suite: FakeSuite, on_step: Callable[[int], None] | None = None) -> None:
        self.suite = suite
        self.on_step = on_step
        self.steps = 0
        self._busy = suite.busy_ms
        self._fixed = suite.observation(None)
        self._fixed_step = StepResult(self._fixed, False)

    def _observe(self) -> Observation:
        return self.suite.observation(self.steps) if self.suite.vary else self._fixed

    def reset(self, episode: EpisodeSpec) -> Observation:
        self.steps = 0
        return self._observe()

    def step(self, action: np.ndarray) -> StepResult:
        if self._busy:
            spin(self._busy)
        self.steps += 1
        if self.on_step is not None:
            self.on_step(self.steps)
        return StepResult(self._observe(), False) if self.suite.vary else self._fixed_step


@dataclass
class FakeSuite:
    """A Suite with one task (`t`) whose episodes run `steps` steps and never succeed."""

    name: str = "fake"
    action_space: ActionSpace = field(default_factory=lambda: ActionSpace("fake7", 7))
    splits: Sequence[str] = ("default",)
    camera_shapes: Mapping[str, tuple[int, int, int]] = field(default_factory=lambda: {"cam": (8, 8, 3)})
    state_dim: int = 7
    env_memory_gb: float = 0.1
    steps: int = 200
    busy_ms: float = 0.0
    vary: bool = False
    instruction: str = "fake task"

    def tasks(self) -> Sequence[TaskInfo]:
        return [TaskInfo("t", self.instruction, self.steps)]

    def episodes(self, task: str, split: str, n: int | None) -> list[EpisodeSpec]:
        return [EpisodeSpec(self.name, task, split, i, i, self.steps) for i in range(n or 1)]

    def make_env(self, task: str, split: str) -> FakeEnv:
        return FakeEnv(self)

    def observation(self, step: int | None) -> Observation:
        """Zeros for None; else images and state drawn from `step` (the same for every episode)."""
        if step is None:
            images = {c: np.zeros(s, np.uint8) for c, s in self.camera_shapes.items()}
            return Observation(images, np.zeros(self.state_dim), self.instruction)
        rng = np.random.default_rng(step)
        images = {c: rng.integers(0, 255, s, dtype=np.uint8) for c, s in self.camera_shapes.items()}
        return Observation(images, rng.standard_normal(self.state_dim), self.instruction)


def fake_suite(**options: Any) -> Suite:
    """The registered-style factory of FakeSuite: every field is an option."""
    return FakeSuite(**options)


class ConstantPolicy:
    """Zero-cost policy: the same pre-built chunk every call. `started` is stamped by `reset`, which
    the episode loop calls right after env.reset, so it marks the start of the policy-step phase."""

    spec = PolicySpec("constant", "constant", None, None, "none", description="benchmark fixture")

    def __init__(self, action: np.ndarray, chunk: int = 16) -> None:
        self.chunk = ActionChunk(
            np.tile(np.asarray(action, dtype=np.float64), (chunk, 1)),
            {"total": 0.0},
            {"video": 0, "action": 0},
        )
        self.started = 0.0

    def reset(self, episode: EpisodeSpec, instruction: str) -> None:
        self.started = time.perf_counter()

    def act(self, obs: Observation) -> ActionChunk:
        return self.chunk

    def close(self) -> None:
        pass


@dataclass
class ConstantFactory:
    """Options: `action` (default zeros of the suite's action dimension), `chunk` (default 16)."""

    spec: PolicySpec = field(default_factory=lambda: ConstantPolicy.spec)

    def build(self, suite: Suite, options: Mapping[str, Any]) -> ConstantPolicy:
        action = options.get("action", np.zeros(suite.action_space.dim))
        return ConstantPolicy(np.asarray(action), int(options.get("chunk", 16)))


constant_policy = ConstantFactory()


class SeededPolicy:
    """Actions = noise from the episode's noise seed + a bias from the images, state and instruction."""

    def __init__(
        self, spec: PolicySpec, chunk: int, dim: int, delay_s: float = 0.0, fail_after: int | None = None
    ) -> None:
        self.spec = spec
        self.chunk, self.dim = chunk, dim
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
        actions = self.rng.standard_normal((self.chunk, self.dim)) + bias
        ms = (time.perf_counter() - t0) * 1000.0
        timings = {"encode": ms / 4, "video": ms / 4, "action": ms / 4, "decode": ms / 4, "total": ms}
        return ActionChunk(actions, timings, {"video": 1, "action": 1}, "cpu (seeded)")

    def close(self) -> None:
        self.closed = True


@dataclass
class SeededFactory:
    """Builds SeededPolicy for the suite's action dimension; keeps every policy it built (`built`)."""

    chunk: int = 8
    spec: PolicySpec = field(
        default_factory=lambda: PolicySpec(
            "seeded-1v1a", "seeded", 1, 1, "none", details={"actions_per_frame": 4}
        )
    )
    built: list[SeededPolicy] = field(default_factory=list)

    def build(self, suite: Any, options: Mapping[str, Any]) -> SeededPolicy:
        fail = options.get("fail_after")
        policy = SeededPolicy(
            self.spec,
            int(options.get("chunk", self.chunk)),
            int(suite.action_space.dim),
            float(options.get("delay_s", 0)),
            None if fail is None else int(fail),
        )
        self.built.append(policy)
        return policy


seeded_policy = SeededFactory()


@contextmanager
def installed_entry_points(groups: Mapping[str, Mapping[str, str]]) -> Iterator[None]:
    """Inside the block, every registry of a group named here sees exactly these entry points
    ({group: {name: "module:attr"}}) in place of the installed ones; its `register()` calls stay."""
    from harness import registry as reg

    fake = {
        group: [EntryPoint(name=n, value=v, group=group) for n, v in eps.items()]
        for group, eps in groups.items()
    }
    real = reg.entry_points

    def listing(group: str) -> list[EntryPoint]:
        return fake[group] if group in fake else list(real(group=group))

    affected = [r for r in list(reg._ALL) if r.group in fake]
    saved = [(r, r._entries) for r in affected]
    reg.entry_points = listing  # type: ignore[assignment]
    for r in affected:
        r._entries = None
    try:
        yield
    finally:
        reg.entry_points = real
        for r, entries in saved:
            r._entries = entries


__all__ = [
    "ConstantFactory",
    "ConstantPolicy",
    "EnvDefaults",
    "FakeEnv",
    "FakeSuite",
    "SeededFactory",
    "SeededPolicy",
    "constant_policy",
    "fake_suite",
    "installed_entry_points",
    "seeded_policy",
    "spin",
]
