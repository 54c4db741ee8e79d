"""The remote backend against real servers on loopback: same actions as in-process, failures, reconnects."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from harness import registry
from harness.errors import SetupError, UserError
from harness.serving.remote import RemotePolicy, probe, served_spec
from harness.serving.remote_settings import RemoteSettings
from harness.serving.server import PolicyServer
from harness.types import EpisodeError, EpisodeSpec, Observation
from harness.worker import run_episode
from policies.backends.remote import parse_settings
from tests.harness.serving.doubles import DoubleSuite, SeededDoubleFactory, double_env

DOUBLE = "tests.harness.serving.doubles:double"
SUITE = "tests.harness.serving.doubles:double_suite"
TINY = {"dim": 32, "depth": 1, "heads": 2}  # a small tiny-backend network: fast on a shared CPU


def _episode(index: int, suite: str = "libero_double", task: str = "t0") -> EpisodeSpec:
    return EpisodeSpec(suite, task, "default", index, index, 40, noise_seed=7000 + index)


def _obs(step: int, cameras: dict[str, tuple[int, int, int]], state_dim: int) -> Observation:
    rng = np.random.default_rng(step)
    images = {c: rng.integers(0, 255, shape, dtype=np.uint8) for c, shape in cameras.items()}
    return Observation(images, rng.standard_normal(state_dim), "pick up the bowl")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server() -> Iterator[PolicyServer]:
    srv = PolicyServer(SeededDoubleFactory(), suite=SUITE, port=0).start()
    yield srv
    srv.shutdown()


def _remote(url: str, **options: Any) -> RemotePolicy:
    return RemotePolicy(SeededDoubleFactory().spec, DoubleSuite(), {"url": url, **options})


# -- same actions as in-process --------------------------------------------------------------------
def test_tiny_backend_remote_episodes_equal_in_process() -> None:
    suite = registry.suites.get("libero_spatial")()
    factory = registry.policies.get("flash-wam-1v1a")
    srv = PolicyServer(factory, options=TINY, suite="libero_spatial", port=0).start()
    try:
        remote = factory.build(suite, {"backend": "remote", "url": srv.url})
        local = factory.build(suite, TINY)
        assert remote.spec.backend == "remote" and remote.spec.details["served"]["backend"] == "tiny"
        task = suite.tasks()[0].id
        for index in range(2):  # two episodes on one connection: per-episode state is reset, not leaked
            ep = _episode(index, suite.name, task)
            remote.reset(ep, "pick up the bowl")
            local.reset(ep, "pick up the bowl")
            for step in range(3):
                obs = _obs(10 * index + step, dict(suite.camera_shapes), suite.state_dim)
                got, want = remote.act(obs), local.act(obs)
                assert got.actions.shape == (16, 7)
                assert np.array_equal(got.actions, want.actions)
                assert got.nfe == want.nfe and got.device == want.device
                assert {"encode", "video", "action", "decode", "total", "server_infer", "round_trip"} <= set(
                    got.timings
                )
                assert got.timings["round_trip"] >= got.timings["server_infer"] >= got.timings["total"]
        remote.close()
    finally:
        srv.shutdown()


def test_lingbot_and_openpi_protocols_against_a_wambench_server(server: PolicyServer) -> None:
    suite = DoubleSuite()
    cams, dim = dict(suite.camera_shapes), suite.state_dim
    local = SeededDoubleFactory().build(suite, {})
    lingbot = _remote(server.url, protocol="lingbot", check_policy=False)
    ep = _episode(3)
    lingbot.reset(ep, "pick up the bowl")
    local.reset(ep, "pick up the bowl")
    obs = _obs(0, cams, dim)
    for chunk in range(3):
        got = lingbot.act(obs)
        assert np.allclose(got.executed, local.act(obs).executed, atol=1e-5)  # float32 on their wire
        assert got.execute_from == (4 if chunk == 0 else 0)  # their frame 0 of a first chunk: padding
        assert {"total", "server_infer", "round_trip"} <= set(got.timings)
        if chunk:
            assert "encode" in got.timings  # the key-frame (compute_kv_cache) call
        for step in range(len(got.executed)):  # the runner's per-step hook collects key frames
            obs = _obs(100 * chunk + step + 1, cams, dim)
            lingbot.observe(obs)
    openpi = _remote(server.url, protocol="openpi", check_policy=False)
    openpi.reset(ep, "pick up the bowl")
    assert openpi.act(obs).actions.shape == (8, 7)


# -- failures ----------------------------------------------------------------------------------------
def _spawn_server(port: int, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "harness.cli", "serve", "--policy", DOUBLE, "--suite", SUITE]
    cmd += ["--port", str(port), "--log-level", "warning", *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "wambench: serving ... on ws://127.0.0.1:PORT ..."
    assert "serving double-1v1a" in line, line + proc.stderr.read() if proc.stderr else line
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def test_killed_server_makes_the_episode_an_error_and_the_next_reconnects() -> None:
    port = _free_port()
    url = f"ws://127.0.0.1:{port}"
    first = _spawn_server(port)
    second: subprocess.Popen[str] | None = None
    try:
        policy = _remote(url, connect_timeout_s=20, call_timeout_s=10)

        def kill_mid_episode(step: int) -> None:
            if step == 10:  # inside the second chunk of 8 actions
                _kill(first)

        t0 = time.perf_counter()
        rec = run_episode(
            double_env(kill_mid_episode), policy, _episode(0), DoubleSuite().action_space, policy_id="p"
        )
        assert rec.outcome == "error" and "went away mid-episode" in (rec.error or "")
        assert len(rec.chunks) == 2 and rec.steps == 16
        assert time.perf_counter() - t0 < 8  # noticed when the socket closed, not at the call timeout

        second = _spawn_server(port)  # the server comes back on the same port
        rec = run_episode(double_env(), policy, _episode(1), DoubleSuite().action_space, policy_id="p")
        assert rec.outcome == "failure" and rec.error is None and rec.steps == 40
        assert policy.client.connects == 2
        policy.close()
    finally:
        _kill(first)
        if second is not None:
            _kill(second)


def test_connect_retries_until_the_server_is_up() -> None:
    port = _free_port()
    srv = PolicyServer(SeededDoubleFactory(), suite=SUITE, port=port)
    timer = threading.Timer(1.0, srv.start)
    timer.start()
    try:
        t0 = time.perf_counter()
        policy = _remote(f"ws://127.0.0.1:{port}", connect_timeout_s=20)
        assert 0.9 < time.perf_counter() - t0 < 10
        policy.reset(_episode(0), "x")
        assert policy.act(_obs(0, dict(DoubleSuite().camera_shapes), 8)).actions.shape == (8, 7)
        policy.close()
    finally:
        timer.join()
        srv.shutdown()


def test_no_server_is_a_setup_error_naming_the_fix() -> None:
    t0 = time.perf_counter()
    with pytest.raises(SetupError, match="wambench serve"):
        _remote(f"ws://127.0.0.1:{_free_port()}", connect_timeout_s=0.5)
    assert time.perf_counter() - t0 < 5


def test_a_silent_server_times_out_the_call_and_the_next_episode_reconnects() -> None:
    srv = PolicyServer(SeededDoubleFactory(), options={"delay_s": 1.5}, suite=SUITE, port=0, max_concurrent=4)
    srv.start()
    try:
        policy = _remote(srv.url, call_timeout_s=0.3)
        policy.reset(_episode(0), "x")
        t0 = time.perf_counter()
        with pytest.raises(EpisodeError, match="sent nothing for"):
            policy.act(_obs(0, dict(DoubleSuite().camera_shapes), 8))
        assert time.perf_counter() - t0 < 1.4
        policy.reset(_episode(1), "x")  # reconnects: a fresh connection, a fresh server-side policy
        assert policy.client.connects == 2
        policy.close()
    finally:
        srv.shutdown()


def test_server_side_policy_error_is_an_episode_error(tmp_path: Any) -> None:
    srv = PolicyServer(SeededDoubleFactory(), options={"fail_after": 0}, suite=SUITE, port=0).start()
    try:
        policy = _remote(srv.url)
        policy.reset(_episode(0), "x")
        with pytest.raises(EpisodeError, match="injected policy failure"):
            policy.act(_obs(0, dict(DoubleSuite().camera_shapes), 8))
        policy.reset(_episode(1), "x")  # the server closed that connection; reset reconnects
        assert policy.client.connects == 2
    finally:
        srv.shutdown()


# -- identity and options -----------------------------------------------------------------------------
def test_serving_another_policy_is_refused(server: PolicyServer) -> None:
    factory = registry.policies.get("flash-wam-1v1a")
    with pytest.raises(SetupError, match="serves policy 'double-1v1a', not 'flash-wam-1v1a'"):
        factory.build(DoubleSuite(), {"backend": "remote", "url": server.url})
    spec = probe(SeededDoubleFactory().spec, DoubleSuite(), {"url": server.url})
    assert spec.name == "double-1v1a" and spec.backend == "remote"
    assert spec.details["served"]["details"] == {"actions_per_frame": 4}


def test_runner_preflight_probes_the_server(server: PolicyServer) -> None:
    factory = registry.policies.get("flash-wam-1v1a")
    with pytest.raises(SetupError, match="no policy server"):
        factory.validate(
            DoubleSuite(), {"backend": "remote", "url": "ws://127.0.0.1:1", "connect_timeout_s": 0.2}
        )
    with pytest.raises(SetupError, match="not 'flash-wam-1v1a'"):
        factory.validate(DoubleSuite(), {"backend": "remote", "url": server.url})


def test_wambench_protocol_needs_a_wambench_server() -> None:
    settings = RemoteSettings.parse(DoubleSuite(), {})
    with pytest.raises(SetupError, match="protocol: lingbot"):
        served_spec(SeededDoubleFactory().spec, {}, settings)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"protocol": "grpc"}, "protocol must be one of"),
        ({"url": "http://x"}, "ws://"),
        ({"nfe_video": 2}, "belong to the server's policy"),
        ({"urll": "ws://x"}, "unknown remote option"),
        ({"call_timeout_s": 0}, "positive number"),
        ({"camera_keys": ["a"]}, "camera_keys"),
        ({"keyframes_per_frame": 0}, "keyframes_per_frame"),
    ],
)
def test_bad_options_are_user_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_settings(DoubleSuite(), options)
