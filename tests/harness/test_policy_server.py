"""`policy_server: shared`: the runner serves the run's policies itself; outcomes equal in-process runs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from harness import runner
from harness.config import parse_config
from harness.errors import SetupError, UserError
from harness.policy_server import SharedPolicyServers
from harness.store import Store

TOY = "tests.harness.toy:toy_suite"
# a tiny-backend WAM on the toy suite (no simulator): 3 chunks per episode at 70 steps
TINY = {"backend": "tiny", "dim": 32, "depth": 1, "heads": 2, "nfe_video": 2, "nfe_action": 3}


def _cfg(out: Path, **kw: Any) -> Any:
    base: dict[str, Any] = {
        "policies": [
            "tests.harness.toy:greedy",
            {"name": "flash-wam-1v2a", "options": TINY, "label": "tiny"},
        ],
        "suites": [{"name": TOY, "tasks": ["reach_a", "reach_b"], "options": {"max_steps": 70}}],
        "episodes": 2,
        "out": str(out),
        "workers": 2,
        "retries": 0,
    }
    base.update(kw)
    return parse_config(base)


def _rows(out: Path) -> dict[tuple[str, str, str, int], tuple[str, int, str | None]]:
    with Store.open(out) as s:
        return {
            (r.policy, r.key.task, r.key.split, r.key.index): (r.outcome, r.steps, r.error)
            for r in s.episodes()
        }


class _Recording(SharedPolicyServers):
    started: ClassVar[list[SharedPolicyServers]] = []

    def start(self) -> Any:
        _Recording.started.append(self)
        self.seen = []
        served = super().start()
        self.seen = list(self.processes)
        return served


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> type[_Recording]:
    _Recording.started = []
    monkeypatch.setattr(runner, "SharedPolicyServers", _Recording)
    return _Recording


def test_shared_server_gives_the_outcomes_of_in_process_policies(tmp_path: Path, recording: Any) -> None:
    local = runner.run(_cfg(tmp_path / "local"))
    shared = runner.run(_cfg(tmp_path / "shared", policy_server="shared"))
    assert not local.failed and not shared.failed
    a, b = _rows(tmp_path / "local"), _rows(tmp_path / "shared")
    assert a == b and len(a) == 2 * 2 * 2 * 2  # policies x tasks x splits x episodes
    assert {"success", "failure"} <= {outcome for outcome, _, _ in b.values()}
    assert all(err is None for _, _, err in b.values())
    assert max(steps for _, steps, _ in b.values()) > 32  # the tiny policy ran several chunks
    # one server for the run's device (the CPU), serving both policies, and it does not outlive the run
    (servers,) = recording.started
    assert len(servers.seen) == 1
    assert all(p.poll() is not None for p in servers.seen)
    with Store.open(tmp_path / "shared") as s:  # the stored spec is the served policy's, as in-process
        assert s.policies()["tiny"].backend == "tiny"
        served = [c.record.timings for c in s.chunks()]
    with Store.open(tmp_path / "local") as s:
        in_process = [c.record.timings for c in s.chunks()]
    # every chunk of the shared run came over the wire (the remote client's timings), none of the other
    assert served and all("round_trip" in t and "server_infer" in t for t in served)
    assert not any("round_trip" in t for t in in_process)


def test_servers_stop_when_the_run_is_interrupted(tmp_path: Path, recording: Any) -> None:
    class Interrupting:
        def update(self, rec: Any, final: bool = True) -> None:
            raise KeyboardInterrupt

        def close(self) -> None:
            pass

    res = runner.run(_cfg(tmp_path / "r", policy_server="shared"), progress=Interrupting())  # type: ignore[arg-type]
    assert res.interrupted
    (servers,) = recording.started
    assert servers.seen and all(p.poll() is not None for p in servers.seen)


def test_a_server_that_cannot_start_is_a_setup_error_with_its_log(tmp_path: Path) -> None:
    servers = SharedPolicyServers({"p": ("no-such-policy", {})}, {"toy": (TOY, {})}, tmp_path)
    with pytest.raises(
        SetupError, match=r"exited \(code 2\) before listening.*unknown policy 'no-such-policy'"
    ):
        try:
            servers.start()
        finally:
            servers.stop()


def test_one_server_per_device_serves_every_pair_on_it(tmp_path: Path) -> None:
    policies: dict[str, tuple[str, dict[str, Any]]] = {
        "a": ("x", {"device": "cuda:0"}),
        "b": ("y", {}),
        "c": ("z", {"device": "cuda:0", "k": 1}),
    }
    suites: dict[str, tuple[str, dict[str, Any]]] = {"s1": ("r1", {}), "s2": ("r2", {"o": 2})}
    entries = SharedPolicyServers(policies, suites, tmp_path)._entries()
    assert sorted(entries) == ["cpu", "cuda:0"]
    assert [e["key"] for e in entries["cuda:0"]] == [["a", "s1"], ["a", "s2"], ["c", "s1"], ["c", "s2"]]
    assert [e["key"] for e in entries["cpu"]] == [["b", "s1"], ["b", "s2"]]
    assert entries["cuda:0"][3] == {
        "key": ["c", "s2"], "policy": "z", "options": {"device": "cuda:0", "k": 1}, "suite": "r2",
        "suite_options": {"o": 2},
    }  # fmt: skip


def test_shared_servers_with_ray_are_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="policy_server: shared"):
        runner.plan(_cfg(tmp_path / "ray", policy_server="shared", executor="ray"))
    assert not (tmp_path / "ray").exists()


def test_unknown_policy_server_value_is_a_config_error() -> None:
    with pytest.raises(UserError, match="policy_server"):
        parse_config({"policies": ["x"], "suites": ["y"], "policy_server": "private"})


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_the_server_stops_when_the_runner_is_interrupted_or_killed(tmp_path: Path, sig: int) -> None:
    """Ctrl-C (SIGINT to the terminal's process group) or a runner killed outright: no server is left."""
    config = tmp_path / "run.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "policies": ["tests.harness.toy:greedy"],
                "suites": [{"name": TOY, "options": {"step_sleep_s": 0.05}}],
                "episodes": 20,
                "workers": 1,
                "out": str(tmp_path / "out"),
                "policy_server": "shared",
            }
        )
    )
    root = Path(__file__).resolve().parents[2]
    runner_proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "run", str(config)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    ready = tmp_path / "out" / "policy-servers" / "0.ready.json"
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert runner_proc.poll() is None and time.monotonic() < deadline, "the server never came up"
            time.sleep(0.1)
        server_pid = json.loads(ready.read_text())["pid"]
        time.sleep(1.0)  # episodes under way
        os.killpg(runner_proc.pid, sig)
        runner_proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while _alive(server_pid):
            assert time.monotonic() < deadline, f"the policy server outlived the runner ({sig!r})"
            time.sleep(0.1)
    finally:
        if runner_proc.poll() is None:
            runner_proc.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as fh:  # a zombie counts as gone
        return fh.read().split()[2] != "Z"
    return True
