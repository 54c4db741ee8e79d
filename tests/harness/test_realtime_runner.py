"""Execution models through the runner, the store and the command line (spawned workers, toy suites)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import runner
from harness.cli.run import latency_arg
from harness.config import parse_config
from harness.errors import UserError
from harness.records import ChunkRecord, EpisodeRecord
from harness.store import Store
from harness.types import EpisodeKey, EpisodeSpec
from harness.worker import run_episode
from tests.harness.toy import GOALS, GreedyFactory, ToyEnv, ToySuite, greedy, noisy

FLASH = "tests.harness.toy:flash_suite"
CATCH = "tests.harness.toy:catch"


def flash_cfg(out: Path, execution: dict[str, Any], episodes: int = 24) -> Any:
    return parse_config(
        {
            "policies": [CATCH],
            "suites": [FLASH],
            "episodes": episodes,
            "out": str(out),
            "workers": 2,
            "execution": execution,
        }
    )


def rows(out: Path) -> tuple[list[tuple], list[tuple]]:
    with Store.open(out) as s:
        eps = [
            (
                r.policy,
                r.key.index,
                r.outcome,
                r.steps,
                *(r.execution.get(k) for k in ("execution", "time_s")),
            )
            for r in s.episodes()
        ]
        chs = [
            (c.policy, c.key.index, c.record.chunk, c.record.latency_ms, c.record.delay_steps)
            for c in s.chunks("rollout")
        ]
    return eps, chs


def test_a_sweep_is_one_label_per_latency_and_reruns_identically(tmp_path: Path) -> None:
    ex = {"mode": "delayed", "latency": [0, 300]}
    runner.run(flash_cfg(tmp_path / "a", ex))
    runner.run(flash_cfg(tmp_path / "b", ex))
    a, b = rows(tmp_path / "a"), rows(tmp_path / "b")
    assert a == b
    assert {e[0] for e in a[0]} == {f"{CATCH}@0ms", f"{CATCH}@300ms"}
    assert {(c[0], c[3], c[4]) for c in a[1]} == {(f"{CATCH}@0ms", 0.0, 0), (f"{CATCH}@300ms", 300.0, 3)}
    with Store.open(tmp_path / "a") as s:
        ex_rows = s.executions()
    assert ex_rows[f"{CATCH}@300ms"]["base"] == CATCH and ex_rows[f"{CATCH}@300ms"]["mode"] == "delayed"
    rate = {p: np.mean([e[2] == "success" for e in a[0] if e[0] == p]) for p in ex_rows}
    assert rate[f"{CATCH}@0ms"] > rate[f"{CATCH}@300ms"]


def test_latency_from_a_stored_benchmark(tmp_path: Path) -> None:
    bench = tmp_path / "bench"
    with Store.open(bench, create=True) as s:
        chunks = [
            ChunkRecord(i, {"total": ms}, {}, "NVIDIA L40S", i == 0)
            for i, ms in enumerate([9e4, 150.0, 250.0])
        ]
        s.record_chunks("benchmark", CATCH, EpisodeKey("flash", "latency", "1v1a", 0), chunks)
    runner.run(flash_cfg(tmp_path / "o", {"mode": "delayed", "latency_from": str(bench)}, episodes=6))
    eps, chs = rows(tmp_path / "o")
    assert {e[0] for e in eps} == {f"{CATCH}@stored"}
    assert {c[3] for c in chs} <= {150.0, 250.0} and {c[4] for c in chs} <= {
        2,
        3,
    }  # the cold chunk is not used
    with Store.open(tmp_path / "o") as s:
        assert s.executions()[f"{CATCH}@stored"]["device"] == "NVIDIA L40S"


def test_delayed_mode_needs_a_control_rate(tmp_path: Path) -> None:
    config = parse_config(
        {
            "policies": ["tests.harness.toy:greedy"],
            "suites": ["tests.harness.toy:toy_suite"],
            "out": str(tmp_path),
        }
    )
    delayed = config.model_copy(update={"execution": config.execution.model_copy(update={"mode": "delayed"})})
    with pytest.raises(UserError, match="--control-hz"):
        runner.plan(delayed)


def reference_episode(env: ToyEnv, policy: Any, spec: EpisodeSpec) -> tuple[str, int, float]:
    """The episode contract of DESIGN.md written out plainly: the oracle for sync mode."""
    obs = env.reset(spec)
    policy.reset(spec, "")
    steps, success = 0, False
    while steps < spec.max_steps and not success:
        for action in policy.act(obs).executed:
            result = env.step(action)
            steps, obs, success = steps + 1, result.obs, result.success
            if success or steps >= spec.max_steps:
                break
    return ("success" if success else "failure"), steps, float(env.episode_info()["final_distance"])


@pytest.mark.parametrize("factory", [greedy, noisy, GreedyFactory(chunk=7)])
def test_sync_reproduces_the_plain_episode_loop(factory: GreedyFactory) -> None:
    from harness.realtime import ExecutionPlan, LatencyModel

    suite = ToySuite({"max_steps": 40})
    plan = ExecutionPlan("sync", LatencyModel("fixed", ms=8100.0), "p")
    for task in GOALS:
        for split in suite.splits:
            for spec in suite.episodes(task, split, 8):
                spec = EpisodeSpec(
                    *[getattr(spec, f) for f in ("suite", "task", "split", "index", "seed")], 40, spec.index
                )
                want = reference_episode(ToyEnv(task, split, {}), factory.build(suite, {}), spec)
                for execution in (None, plan):
                    rec = run_episode(
                        ToyEnv(task, split, {}), factory.build(suite, {}), spec, suite.action_space,
                        policy_id="p", execution=execution, suite=suite,
                    )  # fmt: skip
                    assert (rec.outcome, rec.steps, rec.info["final_distance"]) == want


def test_sync_execution_block_changes_no_outcome(tmp_path: Path) -> None:
    base = {
        "policies": ["tests.harness.toy:greedy", {"name": "tests.harness.toy:noisy", "label": "noisy"}],
        "suites": ["tests.harness.toy:toy_suite"],
        "episodes": 3,
        "workers": 2,
    }
    runner.run(parse_config({**base, "out": str(tmp_path / "plain")}))
    runner.run(parse_config({**base, "out": str(tmp_path / "sync"), "execution": {"latency": "348ms"}}))
    with Store.open(tmp_path / "plain") as a, Store.open(tmp_path / "sync") as b:

        def pick(s: Store) -> list[tuple]:
            return [(r.policy, r.key, r.outcome, r.steps, r.info) for r in s.episodes()]

        assert pick(a) == pick(b)
        assert {r.execution.get("wait_s") for r in b.episodes()} != {None}


def test_an_older_store_gains_the_new_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    with Store.open(tmp_path, create=True):
        pass
    conn = sqlite3.connect(tmp_path / "wambench.sqlite")
    for col in ("latency_ms", "delay_steps", "request_step", "stale_rows", "executed_rows"):
        conn.execute(f"ALTER TABLE chunks DROP COLUMN {col}")
    for col in ("execution", "time_s", "wait_s", "stale_fraction", "hold_fraction", "effective_hz"):
        conn.execute(f"ALTER TABLE episodes DROP COLUMN {col}")
    conn.execute(
        "INSERT INTO episodes(policy, suite, task, split, idx, outcome, steps, chunks, wall_s, attempt) "
        "VALUES ('old', 's', 't', 'd', 0, 'success', 3, 1, 0.1, 1)"
    )
    conn.commit()
    conn.close()
    with Store.open(tmp_path) as s:
        old = s.episodes()[0]
        assert old.outcome == "success" and "time_s" not in old.execution
        s.record_episode(
            EpisodeRecord(
                "new", EpisodeKey("s", "t", "d", 1), "failure", 2, 0.1, 1,
                chunks=(ChunkRecord(0, {"total": 1.0}, {}, "cpu", False, 348.0, 7, 0, 2, 1),),
                execution={"execution": "delayed", "time_s": 0.1},
            )
        )  # fmt: skip
        by_policy = {r.policy: r for r in s.episodes()}
        assert by_policy["new"].execution["execution"] == "delayed" and not by_policy["old"].execution
        assert s.chunks()[0].record.delay_steps == 7


def test_latency_argument_forms() -> None:
    assert latency_arg("348ms") == "348ms"
    assert latency_arg("0,100,350ms") == ["0", "100", "350ms"]
    assert latency_arg("teacher=8.1s,flash=348ms") == {"teacher": "8.1s", "flash": "348ms"}
    with pytest.raises(UserError, match="POLICY=MS"):
        latency_arg("a=1,2")


def test_execution_flags_merge_over_the_configs_block() -> None:
    import argparse

    from harness.cli.run import overrides_from_args

    names = ("workers", "out", "seed", "retries", "episode_timeout_s", "video", "executor", "ray_address")
    args = argparse.Namespace(
        **dict.fromkeys(names), episodes=None, policy=None, suite=None, tasks=None,
        execution="delayed", latency="teacher=8.1s,flash=348ms", latency_from=None, control_hz=None,
        latency_device="NVIDIA L40S",
    )  # fmt: skip
    o = overrides_from_args(args, {"execution": {"control_hz": 20, "latency": "1s"}})
    assert o["execution"] == {
        "mode": "delayed",
        "latency": {"teacher": "8.1s", "flash": "348ms"},
        "control_hz": 20,
        "device": "NVIDIA L40S",
    }
    args.latency, args.latency_from, args.execution, args.latency_device = None, "lat", None, None
    assert overrides_from_args(args, {"execution": {"latency": "1s"}})["execution"] == {"latency_from": "lat"}


def test_latency_variants_share_one_policy_instance_per_worker(tmp_path: Path) -> None:
    from harness.worker import Worker

    plan = runner.plan(flash_cfg(tmp_path, {"mode": "delayed", "latency": [0, 100, 300]}, episodes=2))
    setup = runner.WorkerSetup(
        suites=plan.suite_refs,
        policies={pc.id: (pc.name, dict(pc.options)) for pc in plan.policies},
        executions=plan.executions,
    )
    worker = Worker(setup)
    suite = worker.suite("flash")
    instances = {id(worker.policy(pid, suite)) for pid in plan.executions}
    assert len(plan.executions) == 3 and len(instances) == 1


def test_realtime_rows_read_a_store_that_was_not_migrated(tmp_path: Path) -> None:
    """A store opened without writing (read-only archives) keeps its old tables: no new columns, no
    executions table. The real-time summary reads it as sync with no numbers instead of failing."""
    from harness.realtime.summary import realtime_rows

    runner.run(parse_config({"policies": [CATCH], "suites": [FLASH], "episodes": 2, "out": str(tmp_path)}))
    conn = sqlite3.connect(tmp_path / "wambench.sqlite")
    conn.execute("DROP TABLE executions")
    for col in ("execution", "time_s", "wait_s", "stale_fraction", "hold_fraction", "effective_hz"):
        conn.execute(f"ALTER TABLE episodes DROP COLUMN {col}")
    for col in ("latency_ms", "delay_steps", "request_step", "stale_rows", "executed_rows"):
        conn.execute(f"ALTER TABLE chunks DROP COLUMN {col}")
    conn.commit()
    conn.row_factory = sqlite3.Row
    (row,) = realtime_rows(Store(tmp_path / "wambench.sqlite", conn))
    assert (row.mode, row.n, row.latency_ms, row.time_to_success_s) == ("sync", 2, None, None)
    conn.close()
