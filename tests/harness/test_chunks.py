"""The per-chunk loop's stopping rule: success latches and stops the chunk; the step limit stops it."""

from __future__ import annotations

import numpy as np

from harness.chunks import EpisodeSteps
from harness.testing import ConstantPolicy, EnvDefaults, FakeSuite
from harness.types import EpisodeSpec, StepResult
from harness.worker import run_episode


def test_success_mid_chunk_stops_there_and_latches() -> None:
    episode = EpisodeSteps(10)
    assert episode.running
    assert [episode.stepped(s) for s in (False, False, True)] == [False, False, True]
    assert (episode.taken, episode.success, episode.running) == (3, True, False)
    assert episode.stepped(False) and episode.success  # latched


def test_the_step_limit_stops_a_chunk_without_success() -> None:
    episode = EpisodeSteps(2)
    assert [episode.stepped(False), episode.stepped(False)] == [False, True]
    assert (episode.taken, episode.success, episode.running) == (2, False, False)


class SucceedsAt(EnvDefaults):
    """A FakeSuite env that reports success from step `at` on."""

    def __init__(self, at: int) -> None:
        self.env = FakeSuite().make_env("t", "default")
        self.at = at

    def reset(self, episode: EpisodeSpec) -> object:
        return self.env.reset(episode)

    def step(self, action: np.ndarray) -> StepResult:
        result = self.env.step(action)
        return StepResult(result.obs, self.env.steps >= self.at)


def test_run_episode_follows_the_rule() -> None:
    suite = FakeSuite()
    spec = EpisodeSpec("fake", "t", "default", 0, 0, max_steps=10)
    done = run_episode(SucceedsAt(6), ConstantPolicy(np.zeros(7), 4), spec, suite.action_space, policy_id="c")
    assert (done.outcome, done.steps, len(done.chunks)) == ("success", 6, 2)  # stops mid-chunk 2
    limit = run_episode(
        SucceedsAt(99), ConstantPolicy(np.zeros(7), 4), spec, suite.action_space, policy_id="c"
    )
    assert (limit.outcome, limit.steps, len(limit.chunks)) == ("failure", 10, 3)  # 4 + 4 + 2 of 4
