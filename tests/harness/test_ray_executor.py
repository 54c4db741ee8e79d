"""The Ray executor against the local one, on the toy suite and a local Ray instance (2 CPUs).

Tests that need Ray are skipped when it is not installed (`pip install -e '.[ray]'`); the rest check
what must hold without it (identity, a clear error, no import of Ray for local runs).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from harness import runner
from harness.errors import UserError
from harness.records import EpisodeRecord
from harness.store import Store
from harness.types import EpisodeKey
from tests.harness.test_runner import cfg

needs_ray = pytest.mark.skipif(
    find_spec("ray") is None, reason="Ray is not installed (pip install -e '.[ray]')"
)
GREEDY = ["tests.harness.toy:greedy"]
SLOW = EpisodeKey("toy", "reach_b", "easy", 0)  # the episode the kill test interrupts


class _Counting:
    """A silent progress that counts every final record per (policy, key) and can interrupt the run."""

    def __init__(self, interrupt_after: int | None = None, on_interrupt: Any = None) -> None:
        self.final: Counter[tuple[str, Any]] = Counter()
        self.records: list[EpisodeRecord] = []
        self.interrupt_after, self.on_interrupt = interrupt_after, on_interrupt

    def update(self, rec: EpisodeRecord, final: bool = True) -> None:
        self.records.append(rec)
        if final:
            self.final[(rec.policy, rec.key)] += 1
        if self.interrupt_after is not None and len(self.records) >= self.interrupt_after:
            if self.on_interrupt is not None:
                self.on_interrupt()
            raise KeyboardInterrupt

    def close(self) -> None:
        pass


def details(out: Path) -> dict[tuple[str, str, str, int], tuple[str, int, int, str]]:
    """What a deterministic policy must reproduce exactly: outcome, steps, chunks, final distance."""
    with Store.open(out) as s:
        return {
            (r.policy, r.key.task, r.key.split, r.key.index): (
                r.outcome,
                r.steps,
                len(r.chunks),
                json.dumps(dict(r.info)),
            )
            for r in s.episodes(with_chunks=True)
        }


@pytest.fixture(scope="module")
def ray_local() -> Iterator[Any]:
    if find_spec("ray") is None:
        pytest.skip("Ray is not installed (pip install -e '.[ray]')")
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(
            address="local",
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=100 * 1024**2,
            log_to_driver=False,
        )
    yield ray
    if started:
        ray.shutdown()


# ---- without Ray -------------------------------------------------------------------------------------
def test_the_executor_is_not_part_of_the_config_identity(tmp_path: Path) -> None:
    local = cfg(tmp_path)
    ray = cfg(tmp_path, executor="ray", ray_address="auto")
    assert (local.executor, ray.executor) == ("local", "ray")
    assert local.config_hash() == ray.config_hash()
    with pytest.raises(UserError, match="executor"):
        cfg(tmp_path, executor="slurm")


def test_ray_missing_is_one_clear_error_before_any_write(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if not installed
    with pytest.raises(UserError, match=r"executor 'ray' needs Ray: pip install 'wambench\[ray\]'"):
        runner.plan(cfg(tmp_path / "out", executor="ray"))
    assert not (tmp_path / "out").exists()


def test_bench_overhead_on_ray_without_ray_stops_before_measuring(monkeypatch: Any, capsys: Any) -> None:
    from harness.bench_overhead import main

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(UserError, match="executor 'ray' needs Ray"):
        main(["--executor", "ray"])
    assert "per env step" not in capsys.readouterr().out


def test_ray_actors_reserve_a_cpu_and_the_suites_env_memory(tmp_path: Path) -> None:
    from harness.executors import make_executor
    from harness.executors.ray import RayExecutor

    executor = make_executor(cfg(tmp_path, executor="ray", episode_timeout_s=7), 3, env_memory_gb=2.5)
    assert isinstance(executor, RayExecutor)
    assert (executor.n_workers, executor.timeout) == (3, 7)
    assert executor.actor_options["num_cpus"] == 1 and executor.actor_options["memory"] == int(2.5 * 1024**3)


def test_run_flags_select_the_executor() -> None:
    from harness.cli import build_parser
    from harness.cli.run import overrides_from_args

    args = build_parser().parse_args(["run", "ci", "--executor", "ray", "--ray-address", "auto"])
    o = overrides_from_args(args, {})
    assert (o["executor"], o["ray_address"]) == ("ray", "auto")


# ---- with Ray ----------------------------------------------------------------------------------------
@needs_ray
def test_a_local_run_never_imports_ray(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from harness import runner\n"
        "from harness.cli import build_parser\n"
        "from tests.harness.test_runner import cfg\n"
        "build_parser()\n"
        f"r = runner.run(cfg({str(tmp_path)!r}, episodes=1, workers=1, policies={GREEDY!r}))\n"
        "assert r.ran == 6, r\n"
        "print('ray imported' if 'ray' in sys.modules else 'ray not imported')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=Path.cwd()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ray not imported")


@needs_ray
def test_an_unreachable_cluster_is_a_user_error_before_any_write(
    tmp_path: Path, monkeypatch: Any, ray_local: Any
) -> None:
    def refuse(address: str | None = None, **kw: Any) -> None:
        raise ConnectionError("Could not find any running Ray instance.")

    monkeypatch.setattr(ray_local, "is_initialized", lambda: False)
    monkeypatch.setattr(ray_local, "init", refuse)
    with pytest.raises(
        UserError, match=r"cannot join the Ray cluster at ray_address='auto'.*ray start --head"
    ):
        runner.plan(cfg(tmp_path / "out", executor="ray", ray_address="auto"))
    assert not (tmp_path / "out").exists()


@needs_ray
def test_a_cluster_without_room_for_one_env_is_a_user_error(ray_local: Any) -> None:
    from harness.executors.ray import prepare

    assert prepare(None, 0.1, n_items=50) == 2  # num_cpus=2: two one-CPU actors
    with pytest.raises(UserError, match="no node of the Ray cluster can hold one env worker"):
        prepare(None, 100_000.0, n_items=50)


@needs_ray
def test_local_and_ray_give_identical_outcomes(tmp_path: Path, ray_local: Any) -> None:
    local = runner.run(cfg(tmp_path / "local", episodes=2))
    ray = runner.run(cfg(tmp_path / "ray", episodes=2, executor="ray"))
    assert local.ran == ray.ran == 24 and not ray.failed
    a, b = details(tmp_path / "local"), details(tmp_path / "ray")
    assert a == b and len(a) == 24
    assert {"success", "failure"} <= {v[0] for v in a.values()}


@needs_ray
def test_killing_an_actor_mid_episode_leaves_one_record_per_episode(tmp_path: Path, ray_local: Any) -> None:
    from harness.executors.ray import RayExecutor

    config = cfg(
        tmp_path / "k",
        episodes=2,
        policies=GREEDY,
        options={"faults": {"slow": ["reach_b/easy/0"], "slow_s": 2.0}},
    )
    executor = RayExecutor(2, config.episode_timeout_s, env_memory_gb=0.1)
    killed: list[Any] = []

    def kill_the_slow_one() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            for actor in list(executor._actors.values()):
                item = actor.item
                busy_s = time.monotonic() - actor.started
                if item is not None and item.spec.key == SLOW and busy_s > 0.3:
                    ray_local.kill(actor.handle, no_restart=True)
                    killed.append(item)
                    break
            time.sleep(0.02)

    killer = threading.Thread(target=kill_the_slow_one, daemon=True)
    killer.start()
    progress = _Counting()
    result = runner.run(config, executor=executor, progress=progress)  # type: ignore[arg-type]
    killer.join(timeout=5)
    assert killed and killed[0].attempt == 1
    died = [r for r in progress.records if r.outcome == "error"]
    assert len(died) == 1 and died[0].key == killed[0].spec.key and "actor died" in (died[0].error or "")
    # exactly one final record per (policy, manifest episode), none twice, the killed one retried
    assert len(progress.final) == 12 and set(progress.final.values()) == {1}
    rows = details(tmp_path / "k")
    assert len(rows) == 12 and all(v[0] != "error" for v in rows.values())
    with Store.open(tmp_path / "k") as s:
        attempts = {(r.key.task, r.key.split, r.key.index): r.attempt for r in s.episodes()}
    assert attempts.pop(("reach_b", "easy", 0)) == 2 and set(attempts.values()) == {1}
    assert result.workers_replaced == 1 and not result.failed
    # and the outcomes are those of an undisturbed local run
    runner.run(cfg(tmp_path / "ref", episodes=2, policies=GREEDY))
    assert rows == details(tmp_path / "ref")


@needs_ray
def test_ray_timeout_kills_and_crash_is_retried(tmp_path: Path, ray_local: Any) -> None:
    faults = {
        "hang": ["reach_a/easy/0"],
        "crash_once": ["reach_c/hard/0"],
        "crash_once_dir": str(tmp_path / "m"),
    }
    config = cfg(
        tmp_path / "f",
        episodes=1,
        policies=GREEDY,
        episode_timeout_s=2,
        executor="ray",
        options={"faults": faults},
    )
    result = runner.run(config)
    with Store.open(tmp_path / "f") as s:
        rows = {(r.key.task, r.key.split): r for r in s.episodes()}
    assert len(rows) == 6
    hung, crashed = rows[("reach_a", "easy")], rows[("reach_c", "hard")]
    assert hung.outcome == "error" and hung.attempt == 2 and "timed out" in (hung.error or "")
    assert crashed.outcome != "error" and crashed.attempt == 2
    assert result.workers_replaced == 3 and result.outcomes.get("error") == 1


@needs_ray
def test_a_run_resumes_across_executors(tmp_path: Path, ray_local: Any) -> None:
    out = tmp_path / "x"
    runner.run(cfg(out, episodes=2, policies=GREEDY))  # local
    whole = details(out)
    with Store.open(out) as s:
        s.conn.execute("DELETE FROM episodes WHERE task='reach_b'")
    on_ray = runner.run(cfg(out, episodes=2, policies=GREEDY, executor="ray"))
    assert (on_ray.ran, on_ray.skipped) == (4, 8) and details(out) == whole
    with Store.open(out) as s:
        s.conn.execute("DELETE FROM episodes WHERE task='reach_c'")
    back = runner.run(cfg(out, episodes=2, policies=GREEDY, workers=1))  # and back to local
    assert (back.ran, back.skipped) == (4, 8) and details(out) == whole


@needs_ray
def test_ctrl_c_stops_the_actors(tmp_path: Path, ray_local: Any) -> None:
    from harness.executors.ray import RayExecutor

    config = cfg(tmp_path / "i", episodes=2, policies=GREEDY, options={"step_sleep_s": 0.01})
    executor = RayExecutor(2, config.episode_timeout_s, env_memory_gb=0.1)
    handles: list[Any] = []
    progress = _Counting(2, lambda: handles.extend(a.handle for a in executor._actors.values()))
    result = runner.run(config, executor=executor, progress=progress)  # type: ignore[arg-type]
    assert result.interrupted and len(handles) == 2 and not executor._actors
    for handle in handles:
        with pytest.raises(ray_local.exceptions.RayActorError):
            ray_local.get(handle.ready.remote(), timeout=30)
    with Store.open(tmp_path / "i") as s:
        assert len(s.episodes()) == 2 and s.runs()[-1].status == "interrupted"
