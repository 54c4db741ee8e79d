"""libero-replay reads a demos folder (the layout `wambench demos` writes) and replays it blind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.errors import UserError
from harness.types import EpisodeError, EpisodeSpec, Observation
from suites.libero.replay import libero_replay
from tests.policies.backends.test_tiny_train import write_dataset

SPEC = EpisodeSpec("libero_object", "t", "default", 0, 0, 50)


def demos(root: Path, tasks: list[str]) -> Path:
    """A demos folder whose episode e belongs to tasks[e] (meta/episodes.jsonl as `wambench demos`)."""
    data = write_dataset(root, episodes=len(tasks), steps=5)
    rows = [json.dumps({"episode_index": e, "task_name": t}) for e, t in enumerate(tasks)]
    (data / "meta" / "episodes.jsonl").write_text("\n".join(rows) + "\n")
    return data


def recorded(data: Path, episode: int) -> np.ndarray:
    import pandas as pd

    path = data / "data" / "chunk-000" / f"episode_{episode:06d}.parquet"
    return np.stack(pd.read_parquet(path)["action"][:-1])


def test_replays_the_executed_actions_then_holds(tmp_path: Path) -> None:
    data = demos(tmp_path / "ds", ["t", "t"])
    policy = libero_replay.build(None, {"demos": str(data), "episode": 1})
    want = recorded(data, 1)
    obs = Observation(images={}, state=np.zeros(8), instruction="")
    for _ in range(2):  # a reset starts the demo over
        policy.reset(SPEC, "")
        got = np.concatenate([policy.act(obs).actions for _ in range(7)])
        np.testing.assert_allclose(got[:5], want)
        assert np.all(got[5:, :6] == 0) and np.all(got[5:, 6] == want[-1, 6])


def test_each_episode_replays_a_demo_of_its_own_task(tmp_path: Path) -> None:
    data = demos(tmp_path / "ds", ["soup", "dressing", "soup", "dressing"])
    policy = libero_replay.build(None, {"demos": str(data), "episode": 1})
    obs = Observation(images={}, state=np.zeros(8), instruction="")
    for task, episode in (("soup", 2), ("dressing", 3)):
        policy.reset(EpisodeSpec("libero_object", task, "default", 0, 0, 50), "")
        got = np.concatenate([policy.act(obs).actions for _ in range(5)])
        np.testing.assert_allclose(got, recorded(data, episode))
    uneven = demos(tmp_path / "uneven", ["soup", "dressing", "dressing", "dressing"])
    with pytest.raises(EpisodeError, match="1 demos of task soup, not a demo 2"):
        libero_replay.build(None, {"demos": str(uneven), "episode": 2}).reset(
            EpisodeSpec("libero_object", "soup", "default", 0, 0, 50), ""
        )
    with pytest.raises(EpisodeError, match="0 demos of task ketchup"):
        policy.reset(EpisodeSpec("libero_object", "ketchup", "default", 0, 0, 50), "")


def test_bad_options_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="demos: DIR"):
        libero_replay.validate(None, {})
    with pytest.raises(UserError, match="no demo 3"):
        libero_replay.validate(None, {"demos": str(demos(tmp_path / "ds", ["t"])), "episode": 3})
    with pytest.raises(UserError, match="not a `wambench demos` folder"):
        libero_replay.validate(None, {"demos": str(write_dataset(tmp_path / "bare", 1, 5))})
