"""A deterministic pure-numpy suite and policy for testing the harness core. Test-only, not registered.

Task: move a point to the task's goal; success when within `tol`. Episode i of a task starts at a
position drawn from seed i. The `greedy` policy steps toward the goal with Gaussian noise drawn from
the episode's noise seed, so outcomes differ between episodes but are reproducible. Faults (hang, slow,
crash, raise, crash once) are injected by episode key through suite options, to test the runner.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from harness.testing import EnvDefaults
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

GOALS = {"reach_a": (0.5, 0.5), "reach_b": (-0.5, 0.2), "reach_c": (0.0, -0.6)}


class ToyEnv:
    def __init__(
        self, task: str, split: str, opts: Mapping[str, Any], shape: tuple[int, int, int] = (8, 8, 3)
    ) -> None:
        self.goal = np.array(GOALS[task])
        self.task, self.split, self.opts, self.shape = task, split, opts, shape
        self.pos = np.zeros(2)
        self.success = False
        self.steps = 0
        self.closed = False

    def _fault(self, spec: EpisodeSpec) -> None:
        key = f"{spec.task}/{spec.split}/{spec.index}"
        faults = self.opts.get("faults", {})
        if key in faults.get("hang", ()):
            time.sleep(3600)
        if key in faults.get("slow", ()):  # long enough to be interrupted mid-episode, then completes
            time.sleep(float(faults.get("slow_s", 2.0)))
        if key in faults.get("crash", ()):
            os.kill(os.getpid(), signal.SIGKILL)
        if key in faults.get("raise", ()):
            raise RuntimeError(f"injected simulator fault on {key}")
        marker_dir = faults.get("crash_once_dir")
        if marker_dir and key in faults.get("crash_once", ()):
            marker = Path(marker_dir) / key.replace("/", "_")
            if not marker.exists():
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.touch()
                os.kill(os.getpid(), signal.SIGKILL)

    def _obs(self) -> Observation:
        img = np.zeros(self.shape, np.uint8)
        img[..., 0] = int(self.steps % 255)
        return Observation({"cam": img}, self.pos.copy(), f"reach {self.task}")

    def reset(self, spec: EpisodeSpec) -> Observation:
        assert not self.closed
        self._fault(spec)
        rng = np.random.default_rng(spec.seed + (1000 if self.split == "hard" else 0))
        self.pos = rng.uniform(-1.0, 1.0, 2)
        self.success, self.steps = False, 0
        return self._obs()

    def step(self, action: np.ndarray) -> StepResult:
        time.sleep(float(self.opts.get("step_sleep_s", 0.0)))
        self.pos = self.pos + np.clip(action, -0.1, 0.1)
        self.steps += 1
        self.success = self.success or bool(np.linalg.norm(self.pos - self.goal) < self.opts.get("tol", 0.08))
        return StepResult(self._obs(), self.success)

    def episode_info(self) -> Mapping[str, Any]:
        return {"final_distance": float(np.linalg.norm(self.pos - self.goal))}

    def close(self) -> None:
        self.closed = True


@dataclass
class ToySuite:
    options: dict[str, Any] = field(default_factory=dict)
    name: str = "toy"
    action_space: ActionSpace = field(default_factory=lambda: ActionSpace("xy2", 2, -0.1, 0.1))
    splits: Sequence[str] = ("easy", "hard")
    camera_shapes: Mapping[str, tuple[int, int, int]] = field(default_factory=lambda: {"cam": (8, 8, 3)})
    state_dim: int = 2
    env_memory_gb: float = 0.1

    def tasks(self) -> Sequence[TaskInfo]:
        steps = int(self.options.get("max_steps", 30))
        return [TaskInfo(t, f"reach {t}", steps, n_episodes=100) for t in GOALS]

    def episodes(self, task: str, split: str, n: int | None) -> list[EpisodeSpec]:
        steps = int(self.options.get("max_steps", 30))
        return [EpisodeSpec(self.name, task, split, i, seed=i, max_steps=steps) for i in range(n or 100)]

    def make_env(self, task: str, split: str) -> ToyEnv:
        return ToyEnv(task, split, self.options, self.camera_shapes["cam"])


def toy_suite(**options: Any) -> Suite:
    return ToySuite(dict(options))


def strict_toy_suite(max_steps: int = 30) -> Suite:
    """The toy suite with a factory that names its options: an unknown one is a TypeError."""
    return ToySuite({"max_steps": max_steps})


def toy_wide_suite(**options: Any) -> Suite:
    """The toy tasks as a second suite of another shape (a 16x16 camera): for runs of two suites."""
    return ToySuite(dict(options), name="toy_wide", camera_shapes={"cam": (16, 16, 3)})


@dataclass
class PrivilegedToySuite(ToySuite):
    """The toy suite declaring privileged inputs (harness.types.HandsOutPrivileged), as LIBERO does
    with `privileged_state: true`: every policy run on it is marked privileged."""

    privileged_inputs: bool = True


def toy_privileged_suite(**options: Any) -> Suite:
    return PrivilegedToySuite(dict(options), name="toy_privileged")


class GreedyPolicy:
    """Per-episode state only: the RNG and the goal are set by reset and used by act."""

    def __init__(self, spec: PolicySpec, gain: float, noise: float, chunk: int) -> None:
        self.spec = spec
        self.gain, self.noise, self.chunk = gain, noise, chunk
        self._rng: np.random.Generator | None = None
        self._goal: np.ndarray | None = None

    def reset(self, episode: EpisodeSpec, instruction: str) -> None:
        self._rng = np.random.default_rng(episode.noise_seed)
        self._goal = np.array(GOALS[episode.task])

    def act(self, obs: Observation) -> ActionChunk:
        assert self._rng is not None and self._goal is not None, "act before reset"
        t0 = time.perf_counter()
        step = self.gain * (self._goal - obs.state)
        actions = np.stack([step + self._rng.normal(0, self.noise, 2) for _ in range(self.chunk)])
        ms = (time.perf_counter() - t0) * 1000
        timings = {"encode": 0.0, "video": ms / 2, "action": ms / 2, "decode": 0.0, "total": ms}
        return ActionChunk(actions, timings, {"video": 1, "action": 1}, "cpu (toy)")

    def close(self) -> None:
        pass


@dataclass
class GreedyFactory:
    gain: float = 0.3
    noise: float = 0.12
    chunk: int = 4
    spec: PolicySpec = field(
        default_factory=lambda: PolicySpec("toy-greedy", "greedy", 1, 1, "toy", details={"trained": True})
    )

    def build(self, suite: Suite, options: Mapping[str, Any]) -> GreedyPolicy:
        return GreedyPolicy(self.spec, float(options.get("gain", self.gain)), self.noise, self.chunk)


greedy = GreedyFactory()
noisy = GreedyFactory(gain=0.15, noise=0.2, spec=PolicySpec("toy-noisy", "greedy", 1, 1, "toy"))


@dataclass
class ShapedFactory(GreedyFactory):
    """The greedy policy, resolved per suite the way a real one resolves its shifts and NFE from the
    suite's geometry: one video step and a shift of the image height per 8 camera rows."""

    spec: PolicySpec = field(default_factory=lambda: PolicySpec("toy-shaped", "greedy", None, 1, "toy"))

    def validate(self, suite: Suite, options: Mapping[str, Any]) -> PolicySpec:
        height = int(suite.camera_shapes["cam"][0])
        details = {"trained": True, "shift": float(height)}
        return replace(self.spec, nfe_video=height // 8, details=details)

    def build(self, suite: Suite, options: Mapping[str, Any]) -> GreedyPolicy:
        spec = self.validate(suite, options)
        return GreedyPolicy(spec, float(options.get("gain", self.gain)), self.noise, self.chunk)


shaped = ShapedFactory()


# ---- a suite whose success depends on timing (tests of harness/realtime) -----------------------------
FLASH_CHUNK, FLASH_WINDOW, FLASH_HZ = 8, 6, 10.0
FLASH_FIRST, FLASH_SPAN = 8, 120
POISON = 99.0  # the target appears at a step drawn from [FIRST, FIRST + SPAN)


class FlashEnv(EnvDefaults):
    """A target that moves: hidden until step s (drawn from the episode seed), then shown at g for
    FLASH_WINDOW steps, then gone. The action is the agent's new position (1-d). Success: the agent is
    within `tol` of g at a step while it is shown. State: [agent, g if shown else 0, shown]."""

    def __init__(self) -> None:
        self.t, self.appear, self.goal, self.agent, self.success = 0, 0, 0.0, 0.0, False

    def _shown(self) -> bool:
        return self.appear <= self.t < self.appear + FLASH_WINDOW

    def _obs(self) -> Observation:
        shown = self._shown()
        return Observation({}, np.array([self.agent, self.goal if shown else 0.0, float(shown)]), "catch")

    def reset(self, spec: EpisodeSpec) -> Observation:
        rng = np.random.default_rng(spec.seed)
        self.appear = int(rng.integers(FLASH_FIRST, FLASH_FIRST + FLASH_SPAN))
        self.goal = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.0))
        self.t, self.agent, self.success = 0, 0.0, False
        return self._obs()

    def step(self, action: np.ndarray) -> StepResult:
        self.agent = float(action[0])
        self.t += 1
        self.success = self.success or (self._shown() and abs(self.agent - self.goal) < 0.05)
        return StepResult(self._obs(), self.success)

    def episode_info(self) -> Mapping[str, Any]:
        return {"appear": self.appear}


@dataclass
class FlashSuite:
    name: str = "flash"
    action_space: ActionSpace = field(default_factory=lambda: ActionSpace("x1", 1))
    splits: Sequence[str] = ("default",)
    camera_shapes: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)
    state_dim: int = 3
    env_memory_gb: float = 0.1
    control_hz: float = FLASH_HZ

    def hold_action(self, last: np.ndarray | None, initial_state: np.ndarray) -> np.ndarray:
        return np.array(last if last is not None else initial_state[:1], dtype=float)

    def tasks(self) -> Sequence[TaskInfo]:
        return [TaskInfo("catch", "catch", self.max_steps(), n_episodes=1000)]

    @staticmethod
    def max_steps() -> int:
        return FLASH_FIRST + FLASH_SPAN + FLASH_WINDOW + FLASH_CHUNK

    def episodes(self, task: str, split: str, n: int | None) -> list[EpisodeSpec]:
        return [
            EpisodeSpec("flash", task, split, i, seed=i, max_steps=self.max_steps()) for i in range(n or 100)
        ]

    def make_env(self, task: str, split: str) -> FlashEnv:
        return FlashEnv()


def flash_suite(**options: Any) -> Suite:
    return FlashSuite()


class CatchPolicy:
    """Reacts to what it sees: every row of its chunk is the target's position if shown, else where the
    agent is. No noise, and a zero `total` timing, so outcomes depend only on the execution model.
    With `execute_from` k, the chunk starts with k rows that must never run (a far-off POISON)."""

    spec = PolicySpec("toy-catch", "catch", 1, 1, "toy", details={"trained": True})

    def __init__(self, execute_from: int = 0) -> None:
        self.execute_from = execute_from

    def reset(self, episode: EpisodeSpec, instruction: str) -> None:
        pass

    def act(self, obs: Observation) -> ActionChunk:
        agent, goal, shown = obs.state
        row = goal if shown else agent
        actions = np.full((self.execute_from + FLASH_CHUNK, 1), row)
        actions[: self.execute_from] = POISON
        return ActionChunk(actions, {"total": 0.0}, {"video": 1, "action": 1}, "cpu (toy)", self.execute_from)

    def close(self) -> None:
        pass


@dataclass
class CatchFactory:
    spec: PolicySpec = field(default_factory=lambda: CatchPolicy.spec)

    def build(self, suite: Suite, options: Mapping[str, Any]) -> CatchPolicy:
        return CatchPolicy(int(options.get("execute_from", 0)))


catch = CatchFactory()
