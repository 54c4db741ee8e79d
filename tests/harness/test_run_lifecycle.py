"""A run's life as processes: one run per directory, workers that die with it, Ctrl-C twice."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.outlock import OutputLock
from harness.store import Store
from tests.harness.clitools import (
    TOY,
    alive,
    episodes_stored,
    start_run,
    wait_for,
    wambench,
    worker_pids,
    write_config,
)

ALL_KEYS = [
    f"{t}/{s}/{i}" for t in ("reach_a", "reach_b", "reach_c") for s in ("easy", "hard") for i in range(3)
]


def test_a_second_lock_on_one_directory_names_the_holder(tmp_path: Path) -> None:
    held = OutputLock.acquire(tmp_path / "o")
    with pytest.raises(UserError, match=rf"in use by another wambench run \(PID {os.getpid()}\)"):
        OutputLock.acquire(tmp_path / "o")
    held.release()
    OutputLock.acquire(tmp_path / "o").release()  # free again once released


def test_two_concurrent_runs_on_one_directory_one_exits_2_and_the_store_holds_one_config(
    tmp_path: Path,
) -> None:
    slow = [{"name": TOY, "options": {"step_sleep_s": 0.01}}]
    # Same episodes (so the manifest check cannot tell them apart), different policy options.
    gains = [0.3, 0.6]
    a, b = (
        write_config(
            tmp_path / f"{name}.yaml",
            suites=slow,
            policies=[
                {"name": "tests.harness.toy:greedy", "options": {"gain": gain}},
                {"name": "tests.harness.toy:noisy", "label": "noisy"},
            ],
        )
        for name, gain in zip("ab", gains, strict=True)
    )
    out = tmp_path / "o"
    t0 = time.monotonic()
    procs = [start_run(a, out), start_run(b, out)]  # started together, as in the report
    ended = {}
    while len(ended) < 2:
        for i, p in enumerate(procs):
            if i not in ended and p.poll() is not None:
                ended[i] = time.monotonic() - t0
        assert time.monotonic() - t0 < 180, "runs did not end"
        time.sleep(0.05)
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 2], [p.communicate() for p in procs]
    loser, winner = (0, 1) if codes[0] == 2 else (1, 0)
    err = procs[loser].stderr.read()
    assert f"in use by another wambench run (PID {procs[winner].pid})" in err
    assert len(err.strip().splitlines()) == 1, err
    assert ended[loser] < ended[winner] and ended[loser] < 30  # refused at once, not after the work
    with Store.open(out) as s:
        hashes = {r.config_hash for r in s.runs()}
        assert len(hashes) == 1 and len(s.runs()) == 1
        assert len(s.episodes()) == len(s.manifest()) * 2
        assert s.policies()["tests.harness.toy:greedy"].options == {"gain": gains[winner]}


def test_kill_9_of_the_runner_takes_its_hung_workers_with_it(tmp_path: Path) -> None:
    conf = write_config(
        tmp_path / "c.yaml",
        suites=[{"name": TOY, "options": {"faults": {"hang": ALL_KEYS}}}],
        episode_timeout_s=3600,
    )
    proc = start_run(conf, tmp_path / "o")
    workers: list[int] = []
    try:
        wait_for(lambda: len(worker_pids(proc.pid)) == 2)
        workers = worker_pids(proc.pid)
        time.sleep(3.0)  # let both reach the hang (env.reset sleeps an hour)
        assert all(alive(w) for w in workers)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(w) for w in workers), "workers outlived the killed runner"
        OutputLock.acquire(tmp_path / "o").release()  # the dead run's lock died with it
    finally:
        for w in workers:  # never leave a test's hung worker behind, whatever failed
            if alive(w):
                os.kill(w, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()


def test_a_second_ctrl_c_within_milliseconds_no_traceback_and_marked_interrupted(tmp_path: Path) -> None:
    conf = write_config(tmp_path / "c.yaml", suites=[{"name": TOY, "options": {"step_sleep_s": 0.004}}])
    out = tmp_path / "o"
    proc = start_run(conf, out)
    wait_for(lambda: episodes_stored(out) >= 3)
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.003)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    with Store.open(out) as s:
        assert [r.status for r in s.runs()] == ["interrupted"]


def test_sigterm_is_recorded_interrupted_and_resumable(tmp_path: Path) -> None:
    conf = write_config(tmp_path / "c.yaml", suites=[{"name": TOY, "options": {"step_sleep_s": 0.004}}])
    out = tmp_path / "o"
    proc = start_run(conf, out)
    wait_for(lambda: episodes_stored(out) >= 3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err
    with Store.open(out) as s:
        assert [r.status for r in s.runs()] == ["interrupted"]
    again = wambench("run", str(conf), "--out", str(out))
    assert again.returncode == 0, again.stderr


def _child_with_the_watchdog_only() -> None:
    """Spawned by the test below: the portable fallback alone (no PR_SET_PDEATHSIG), then hang."""
    from harness.worker import die_with_parent

    die_with_parent(use_prctl=False)
    time.sleep(3600)


def test_the_parent_watchdog_alone_ends_an_orphaned_worker(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = (
        "import multiprocessing as mp, time\n"
        "from tests.harness.test_run_lifecycle import _child_with_the_watchdog_only as f\n"
        "p = mp.get_context('spawn').Process(target=f); p.start(); print(p.pid, flush=True)\n"
        "time.sleep(3600)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        wait_for(lambda: len(list(Path(f"/proc/{child}/task").iterdir())) >= 2)  # the watchdog runs
        parent.kill()
        parent.wait(timeout=10)
        wait_for(lambda: not alive(child), timeout=10)
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)
