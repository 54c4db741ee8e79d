"""The runner with real spawned workers on the toy suite (tests/harness/toy.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import pytest

from harness import runner
from harness.config import parse_config
from harness.errors import UserError
from harness.store import Store
from harness.types import ActionChunk, ActionSpace, EpisodeSpec, PolicySpec
from harness.worker import run_episode
from tests.harness.toy import ToyEnv

TOY = "tests.harness.toy:toy_suite"


def cfg(out: Path, episodes: int = 3, **kw: Any):
    base: dict[str, Any] = {
        "policies": ["tests.harness.toy:greedy", {"name": "tests.harness.toy:noisy", "label": "noisy"}],
        "suites": [{"name": TOY, "options": kw.pop("options", {})}],
        "episodes": episodes,
        "out": str(out),
        "workers": 2,
        "retries": 1,
    }
    base.update(kw)
    return parse_config(base)


def outcomes(out: Path) -> dict[tuple[str, str, str, int], str]:
    with Store.open(out) as s:
        return {(r.policy, r.key.task, r.key.split, r.key.index): r.outcome for r in s.episodes()}


def test_every_episode_once_and_same_outcomes_for_any_worker_count(tmp_path: Path) -> None:
    one = runner.run(cfg(tmp_path / "w1", workers=1))
    two = runner.run(cfg(tmp_path / "w2", workers=2))
    assert one.ran == two.ran == 2 * 3 * 2 * 3
    a, b = outcomes(tmp_path / "w1"), outcomes(tmp_path / "w2")
    assert a == b and len(a) == 36
    assert {"success", "failure"} <= set(a.values())  # the toy rule gives both outcomes


def test_resume_runs_exactly_the_unfinished(tmp_path: Path) -> None:
    out = tmp_path / "r"
    runner.run(cfg(out))
    full = outcomes(out)
    with Store.open(out) as s:
        s.conn.execute("DELETE FROM episodes WHERE task='reach_b'")
    again = runner.run(cfg(out))
    assert again.ran == 12 and again.skipped == 24
    assert outcomes(out) == full
    assert runner.run(cfg(out)).ran == 0


def test_a_different_config_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    out = tmp_path / "c"
    runner.run(cfg(out))
    with Store.open(out) as s:
        before = (len(s.episodes()), len(s.runs()))
    with pytest.raises(UserError, match=r"holds another config .*episodes: 3 -> 4"):
        runner.run(cfg(out, episodes=4))
    with Store.open(out) as s:
        assert (len(s.episodes()), len(s.runs())) == before
    runner.run(cfg(out, workers=1, retries=3))  # execution settings may change on resume


def test_hung_episode_times_out_and_the_rest_complete(tmp_path: Path) -> None:
    out = tmp_path / "h"
    res = runner.run(
        cfg(out, episodes=2, retries=0, episode_timeout_s=3, options={"faults": {"hang": ["reach_a/easy/1"]}})
    )
    rows = outcomes(out)
    assert len(rows) == 24
    errs = {k: v for k, v in rows.items() if v == "error"}
    assert set(errs) == {(p, "reach_a", "easy", 1) for p in ("tests.harness.toy:greedy", "noisy")}
    with Store.open(out) as s:
        texts = [r.error for r in s.episodes() if r.outcome == "error"]
    assert all("timed out" in t for t in texts)
    assert res.workers_replaced >= 2 and res.failed


def test_crash_is_retried_and_then_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "x"
    faults = {"crash_once": ["reach_c/hard/0"], "crash_once_dir": str(tmp_path / "markers")}
    res = runner.run(cfg(out, episodes=1, options={"faults": faults}, policies=["tests.harness.toy:greedy"]))
    with Store.open(out) as s:
        row = next(r for r in s.episodes() if (r.key.task, r.key.split) == ("reach_c", "hard"))
    assert row.outcome != "error" and row.attempt == 2
    assert res.workers_replaced == 1 and not res.failed


def test_simulator_exception_is_an_error_never_a_failure(tmp_path: Path) -> None:
    out = tmp_path / "e"
    runner.run(cfg(out, episodes=1, retries=1, options={"faults": {"raise": ["reach_a/easy/0"]}}))
    with Store.open(out) as s:
        rows = [r for r in s.episodes() if (r.key.task, r.key.split, r.key.index) == ("reach_a", "easy", 0)]
    assert [r.outcome for r in rows] == ["error", "error"]
    assert all(r.attempt == 2 and "injected simulator fault" in (r.error or "") for r in rows)


def test_video_is_a_real_mp4_at_a_deterministic_path(tmp_path: Path) -> None:
    out = tmp_path / "v"
    runner.run(cfg(out, episodes=1, video=True, policies=["tests.harness.toy:greedy"]))
    with Store.open(out) as s:
        row = s.episodes()[0]
    assert row.video_path == f"videos/tests.harness.toy_greedy/toy/{row.key.task}/{row.key.split}-0.mp4"
    reader = imageio_ffmpeg.read_frames(str(out / row.video_path))
    meta = next(reader)
    n = sum(1 for _ in reader)
    assert meta["size"] == (8, 8) and n == row.steps + 1  # reset frame + one per step


class _BadPolicy:
    spec = PolicySpec("bad", "bad")

    def __init__(self, actions: np.ndarray) -> None:
        self.actions = actions

    def reset(self, episode: EpisodeSpec, instruction: str) -> None: ...

    def act(self, obs: Any) -> ActionChunk:
        return ActionChunk(self.actions, {"total": 0.0})

    def close(self) -> None: ...


@pytest.mark.parametrize(
    ("actions", "message"),
    [(np.full((2, 2), np.nan), "non-finite"), (np.zeros((2, 3)), r"shape \(2, 3\)"), (np.zeros(2), "shape")],
)
def test_bad_actions_are_episode_errors(actions: np.ndarray, message: str) -> None:
    spec = EpisodeSpec("toy", "reach_a", "easy", 0, 0, 10)
    rec = run_episode(
        ToyEnv("reach_a", "easy", {}), _BadPolicy(actions), spec, ActionSpace("xy2", 2), policy_id="b"
    )
    assert rec.outcome == "error" and rec.error is not None
    assert re.search(message, rec.error)


def test_shards_split_the_manifest_and_together_equal_the_whole_run(tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    runner.run(cfg(whole))
    parts = [runner.run(cfg(tmp_path / "sharded"), shard=(i, 3)) for i in range(3)]
    assert sum(p.ran for p in parts) == 36 and all(p.ran == 12 for p in parts)
    merged: dict = {}
    for i in range(3):
        shard_dir = tmp_path / "sharded" / f"shard-{i}-of-3"
        with Store.open(shard_dir) as s:
            assert len(s.manifest()) == 18  # every shard holds the whole manifest: reports combine them
        merged.update(outcomes(shard_dir))
    assert merged == outcomes(whole)


@pytest.mark.parametrize("text", ["3/3", "a/2", "1", "-1/2"])
def test_bad_shard_is_a_user_error(text: str) -> None:
    with pytest.raises(UserError, match="--shard must be i/n"):
        runner.parse_shard(text)


def test_a_dead_worker_error_names_its_signal(tmp_path: Path) -> None:
    out = tmp_path / "d"
    opts = {"faults": {"crash": ["reach_b/easy/0"]}}
    runner.run(cfg(out, episodes=1, retries=0, options=opts, policies=["tests.harness.toy:greedy"]))
    with Store.open(out) as s:
        (row,) = [r for r in s.episodes() if r.outcome == "error"]
    assert row.error == "worker process was killed by SIGKILL (signal 9) during the episode"


def test_a_rerun_that_leaves_errored_episodes_fails(tmp_path: Path) -> None:
    out = tmp_path / "r"
    opts = {"faults": {"raise": ["reach_a/easy/0"]}}
    first = runner.run(cfg(out, episodes=1, retries=0, options=opts))
    again = runner.run(cfg(out, episodes=1, retries=0, options=opts))
    assert first.failed and again.ran == 0
    assert again.failed  # README: exit 1 while the store holds errored episodes
    assert again.errors_left == 2


def test_each_shard_directory_has_its_own_lock(tmp_path: Path) -> None:
    held = runner.plan(cfg(tmp_path / "s"), shard=(0, 2))  # a plan holds its directory's lock
    assert runner.run(cfg(tmp_path / "s"), shard=(1, 2)).ran == 18  # the other shard runs meanwhile
    with pytest.raises(UserError, match="in use by another wambench run"):
        runner.plan(cfg(tmp_path / "s"), shard=(0, 2))
    assert runner.execute(held).ran == 18
    assert runner.run(cfg(tmp_path / "s"), shard=(0, 2)).ran == 0  # released after the run
