"""`wambench serve` then `wambench run` with the remote backend, as a user runs them (two processes).

The fast test uses the harness's deterministic toy suite and policy (tests/harness/toy.py): the remote
run must reproduce the in-process run episode by episode (same outcomes, same step counts), since the
server's policy gets the same EpisodeSpec, noise seed included. The LIBERO test is the real thing
(simulator in the run's workers, the tiny backend behind the server) and is marked sim + slow.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wambench(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _serve(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    cmd = [sys.executable, "-m", "harness.cli", "serve", *args, "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()
    assert f"ws://127.0.0.1:{port}" in line, line + proc.stderr.read()
    try:
        yield f"ws://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()


def _episodes(out: Path) -> dict[tuple[Any, ...], tuple[str, int]]:
    with Store.open(out) as store:
        return {(r.key.task, r.key.split, r.key.index): (r.outcome, r.steps) for r in store.episodes()}


@pytest.fixture
def toy_server() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    yield from _serve("--policy", "tests.harness.toy:greedy", "--suite", "tests.harness.toy:toy_suite")


def test_serve_then_run_reproduces_the_in_process_run(
    tmp_path: Path, toy_server: tuple[str, subprocess.Popen[str]]
) -> None:
    url, _ = toy_server
    base = {
        "suites": [
            {"name": "tests.harness.toy:toy_suite", "tasks": ["reach_a", "reach_b"], "splits": ["easy"]}
        ],
        "episodes": 3,
        "workers": 2,
        "seed": 5,
    }
    local = {**base, "policies": [{"name": "tests.harness.toy:greedy", "label": "toy"}]}
    remote = {
        **base,
        "policies": [{"name": "harness.serving.remote:remote", "label": "toy", "options": {"url": url}}],
    }
    for name, cfg in (("local", local), ("remote", remote)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(cfg))
        done = _wambench("run", str(path), "--out", str(tmp_path / name))
        assert done.returncode == 0, done.stdout + done.stderr
    got, want = _episodes(tmp_path / "remote"), _episodes(tmp_path / "local")
    assert len(want) == 6 and got == want
    assert {outcome for outcome, _ in got.values()} <= {"success", "failure"}
    with Store.open(tmp_path / "remote") as store:
        rows = store.chunks()
    assert rows and all("round_trip" in c.record.timings and "server_infer" in c.record.timings for c in rows)


def test_run_without_a_server_stops_before_any_episode(tmp_path: Path) -> None:
    cfg = {
        "suites": [{"name": "tests.harness.toy:toy_suite", "tasks": ["reach_a"], "splits": ["easy"]}],
        "episodes": 1,
        "policies": [
            {
                "name": "harness.serving.remote:remote",
                "options": {"url": f"ws://127.0.0.1:{_free_port()}", "connect_timeout_s": 0.5},
            }
        ],
    }
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    done = _wambench("run", str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "no policy server" in done.stderr and "wambench serve" in done.stderr
    assert not (tmp_path / "out").exists()


def test_serve_rejects_bad_input() -> None:
    done = _wambench("serve", "--policy", "flash-wam-1v1", "--port", "0")
    assert done.returncode == 2 and "did you mean" in done.stderr
    done = _wambench("serve", "--policy", "flash-wam-1v1a", "--suite", "libero_spatial", "-o", "nfe_video=0")
    assert done.returncode == 2 and "nfe_video" in done.stderr
    for flag, value in (
        ("--max-connections", "0"),
        ("--idle-timeout-s", "0"),
        ("--max-batch-size", "0"),
        ("--max-wait-ms", "-1"),
    ):
        done = _wambench("serve", "--policy", "tests.harness.toy:greedy", flag, value)
        assert done.returncode == 2 and flag in done.stderr and len(done.stderr.splitlines()) == 1


def test_serve_bounds_are_set_from_the_command_line() -> None:
    from harness.serving.client import ServerGone, WireClient

    server = _serve(
        "--policy", "tests.harness.toy:greedy", "--suite", "tests.harness.toy:toy_suite",
        "--max-connections", "1", "--idle-timeout-s", "30", "--max-frame-mb", "2",
    )  # fmt: skip
    url, _ = next(server)
    try:
        first = WireClient(url)
        limits = first.connect()["limits"]
        assert (limits["max_connections"], limits["idle_timeout_s"]) == (1, 30.0)
        assert limits["max_frame_bytes"] == 2 << 20
        with pytest.raises(ServerGone, match="server full: 1 connections"):
            WireClient(url, connect_timeout_s=0.5).connect()
        first.close()
    finally:
        next(server, None)


@pytest.mark.sim
@pytest.mark.slow
def test_remote_libero_config_end_to_end(tmp_path: Path) -> None:
    """The shipped remote-libero config, against `wambench serve` on the real LIBERO simulator."""
    server = _serve("--policy", "flash-wam-1v1a", "--suite", "libero_spatial")
    url, _ = next(server)
    try:
        cfg = yaml.safe_load((ROOT / "harness/configs/remote-libero.yaml").read_text())
        cfg["policies"][0]["options"]["url"] = url
        path = tmp_path / "remote-libero.yaml"
        path.write_text(yaml.safe_dump(cfg))
        done = _wambench("run", str(path), "--out", str(tmp_path / "out"), timeout=900)
        assert done.returncode == 0, done.stdout + done.stderr
        episodes = _episodes(tmp_path / "out")
        assert len(episodes) == 2 and all(o in ("success", "failure") for o, _ in episodes.values())
    finally:
        server.close()
