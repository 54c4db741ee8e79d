"""The runner executes a chunk's rows from `execute_from` on, and refuses an impossible one."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.testing import EnvDefaults
from harness.types import ActionChunk, ActionSpace, EpisodeSpec, Observation, PolicySpec, StepResult
from harness.worker import run_episode

SPACE = ActionSpace("ee_delta7", 7, -1.0, 1.0)
OBS = Observation({"cam": np.zeros((4, 4, 3), np.uint8)}, np.zeros(2), "x")


class Env(EnvDefaults):
    def __init__(self) -> None:
        self.actions: list[np.ndarray] = []

    def reset(self, episode: EpisodeSpec) -> Observation:
        return OBS

    def step(self, action: np.ndarray) -> StepResult:
        self.actions.append(np.asarray(action))
        return StepResult(OBS, False)


class Policy:
    spec = PolicySpec("p", "p")

    def __init__(self, execute_from: Any) -> None:
        self.execute_from = execute_from
        self.chunks = 0

    def reset(self, episode: EpisodeSpec, instruction: str) -> None:
        self.chunks = 0

    def act(self, obs: Observation) -> ActionChunk:
        first = self.chunks == 0
        self.chunks += 1
        rows = np.arange(4 * 7, dtype=np.float64).reshape(4, 7) + 100 * self.chunks
        return ActionChunk(rows, {"total": 1.0}, execute_from=self.execute_from if first else 0)


def test_rows_before_execute_from_are_never_executed() -> None:
    env = Env()
    spec = EpisodeSpec("s", "t", "default", 0, 0, 6)
    rec = run_episode(env, Policy(2), spec, SPACE, policy_id="p")
    assert rec.outcome == "failure" and rec.steps == 6
    executed = np.stack(env.actions)
    assert np.array_equal(executed[:2], np.arange(14, 28).reshape(2, 7) + 100)  # rows 2, 3 of chunk 1
    assert np.array_equal(executed[2:], np.arange(28).reshape(4, 7) + 200)  # chunk 2, whole


def test_an_impossible_execute_from_makes_the_episode_an_error() -> None:
    for bad in (4, -1, 1.5):
        rec = run_episode(Env(), Policy(bad), EpisodeSpec("s", "t", "default", 0, 0, 6), SPACE, policy_id="p")
        assert rec.outcome == "error" and "execute_from" in str(rec.error)
