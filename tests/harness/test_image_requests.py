"""run_episode tells an env that defers rendering which observations' images are read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.testing import EnvDefaults
from harness.types import (
    EVERY_IMAGE,
    ActionChunk,
    ActionSpace,
    DefersImages,
    EpisodeSpec,
    ImageReads,
    Observation,
    PolicySpec,
    StepResult,
)
from harness.video import VideoRecorder
from harness.worker import run_episode

SPACE = ActionSpace("toy", 2)
SPEC = EpisodeSpec("toy", "t", "default", 0, 0, max_steps=10)


class DeferringEnv(EnvDefaults):
    """Renders (a frame numbered by the step) only for observations it was told are read."""

    def __init__(self) -> None:
        self.asked: list[bool] = []
        self._want = True
        self.steps = 0

    def next_images(self, needed: bool) -> None:
        self._want = needed

    def _obs(self) -> Observation:
        want, self._want = self._want, True
        self.asked.append(want)
        images = {"cam": np.full((2, 2, 3), self.steps, np.uint8)} if want else {}
        return Observation(images, np.zeros(2), "")

    def reset(self, episode: EpisodeSpec) -> Observation:
        self.steps = 0
        return self._obs()

    def step(self, action: np.ndarray) -> StepResult:
        self.steps += 1
        return StepResult(self._obs(), False)


class ChunkPolicy:
    """Chunks of 4 actions; checks that act() always gets images; optionally declares its reads."""

    spec = PolicySpec("chunk4", "test")

    def __init__(self) -> None:
        self.seen: list[int] = []

    def reset(self, episode: EpisodeSpec, instruction: str) -> None:
        self.seen = []

    def act(self, obs: Observation) -> ActionChunk:
        self.seen.append(int(obs.images["cam"][0, 0, 0]))  # KeyError if act() got a state-only one
        return ActionChunk(np.zeros((4, 2)), {"total": 0.0})

    def close(self) -> None:
        pass


class ActOnly(ChunkPolicy):
    def image_reads(self) -> ImageReads:
        return ImageReads(every=0)


class KeyFrames(ChunkPolicy):
    def image_reads(self) -> ImageReads:
        return ImageReads(every=2)


def test_the_env_renders_what_the_policy_reads_and_nothing_else() -> None:
    env, policy = DeferringEnv(), ActOnly()
    assert isinstance(env, DefersImages)
    record = run_episode(env, policy, SPEC, SPACE, policy_id="p")
    assert record.outcome == "failure" and record.steps == 10
    # reset (act's), then steps 1..10: act() gets the observations after steps 4 and 8
    assert env.asked == [True, False, False, False, True, False, False, False, True, False, False]
    assert policy.seen == [0, 4, 8]


def test_key_frames_count_back_from_the_next_act() -> None:
    env = DeferringEnv()
    run_episode(env, KeyFrames(), SPEC, SPACE, policy_id="p")
    assert env.asked == [True, False, True, False, True, False, True, False, True, False, True]


@pytest.mark.parametrize("declared", [False, True])
def test_undeclared_policies_and_video_recorders_get_every_image(declared: bool, tmp_path: Path) -> None:
    env = DeferringEnv()
    policy = ActOnly() if declared else ChunkPolicy()
    recorder = VideoRecorder(tmp_path / "v.mp4") if declared else None
    run_episode(env, policy, SPEC, SPACE, policy_id="p", recorder=recorder)
    assert env.asked == [True] * 11
    if recorder is not None:
        assert len(recorder.frames) == 11 and recorder.image_reads() == EVERY_IMAGE


def test_image_reads_patterns() -> None:
    assert [ImageReads(every=0).reads(d) for d in range(4)] == [True, False, False, False]
    assert [ImageReads(every=3).reads(d) for d in range(7)] == [True, False, False, True, False, False, True]
    assert [ImageReads(at_act=False, every=0).reads(d) for d in range(3)] == [False] * 3
    assert all(EVERY_IMAGE.reads(d) for d in range(5))
    with pytest.raises(ValueError, match="every"):
        ImageReads(every=-1)
