from __future__ import annotations

import pytest

from harness import runner
from harness.config import parse_config
from harness.errors import UserError
from harness.manifest import build_manifest, construct_suite
from harness.types import EpisodeSpec
from harness.worker import Worker, WorkerSetup, WorkItem

TOY = "tests.harness.toy:toy_suite"


def _cfg(**kw: object):
    return parse_config({"policies": ["tests.harness.toy:greedy"], "suites": [TOY], "episodes": 3, **kw})


def test_same_config_same_manifest() -> None:
    a, b = build_manifest(_cfg()), build_manifest(_cfg())
    assert a.episodes == b.episodes
    assert len(a) == 3 * 2 * 3  # tasks x splits x episodes


def test_noise_seeds_are_distinct_per_episode_and_follow_the_run_seed() -> None:
    m = build_manifest(_cfg())
    seeds = [s.noise_seed for s in m.episodes]
    assert len(set(seeds)) == len(seeds)
    other = build_manifest(_cfg(seed=1))
    assert [s.noise_seed for s in other.episodes] != seeds
    assert [s.key for s in other.episodes] == [s.key for s in m.episodes]


def test_task_and_split_selection() -> None:
    m = build_manifest(_cfg(suites=[{"name": TOY, "tasks": ["reach_b"], "splits": ["hard"], "episodes": 2}]))
    assert [(s.task, s.split, s.index) for s in m.episodes] == [
        ("reach_b", "hard", 0),
        ("reach_b", "hard", 1),
    ]


def test_bad_task_split_and_count() -> None:
    with pytest.raises(UserError, match=r"did you mean .*'reach_a'"):
        build_manifest(_cfg(suites=[{"name": TOY, "tasks": ["reach_x"]}]))
    with pytest.raises(UserError, match="unknown split 'medium'"):
        build_manifest(_cfg(suites=[{"name": TOY, "splits": ["medium"]}]))
    with pytest.raises(UserError, match="has 100 episodes, 101 were asked"):
        build_manifest(_cfg(episodes=101))


def test_a_bad_suite_option_is_the_same_user_error_in_the_runner_and_in_a_worker() -> None:
    strict = "tests.harness.toy:strict_toy_suite"
    with pytest.raises(UserError) as planned:
        runner.plan(_cfg(suites=[{"name": strict, "options": {"max_stpes": 5}}]))
    message = str(planned.value)
    assert message.startswith(f"suite '{strict}': bad options ['max_stpes']: ")
    with pytest.raises(UserError) as built:
        construct_suite(strict, {"max_stpes": 5})
    assert str(built.value) == message
    # a worker handed the same options (its setup comes from elsewhere, e.g. another wambench) builds
    # its suite the same way: the episode errs with that one line, not a TypeError's traceback
    worker = Worker(WorkerSetup(suites={"toy": (strict, {"max_stpes": 5})}, policies={}))
    rec = worker.run(WorkItem("p", EpisodeSpec("toy", "reach_a", "easy", 0, 0, 30)))
    assert (rec.outcome, rec.error) == ("error", message)
