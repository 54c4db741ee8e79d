"""A real server on loopback against clients that cost it: hostile frames, too many or idle connections,
and HTTP requests that are not websocket upgrades. A well-behaved client keeps being served throughout."""

from __future__ import annotations

import http.client
import socket
import struct
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import websockets
from websockets.sync.client import ClientConnection, connect

from harness.serving.client import ServerGone, WireClient
from harness.serving.codec import DEFAULT_LIMITS
from harness.serving.remote import RemotePolicy
from harness.serving.server import BAD_REQUEST, PolicyServer
from harness.serving.session import episode_to_wire, observation_to_wire
from harness.serving.sizing import frame_limit_for
from harness.types import EpisodeSpec
from tests.harness.serving.doubles import DoubleSuite, SeededDoubleFactory, large_double_suite
from tests.harness.serving.wire import call, observation, open_client

SUITE = "tests.harness.serving.doubles:double_suite"


def _server(**kwargs: Any) -> PolicyServer:
    return PolicyServer(SeededDoubleFactory(), suite=SUITE, port=0, **kwargs).start()


@contextmanager
def _serving(**kwargs: Any) -> Iterator[PolicyServer]:
    """A started server, shut down when the block ends however it ends."""
    srv = _server(**kwargs)
    try:
        yield srv
    finally:
        srv.shutdown()


@pytest.fixture
def server() -> Iterator[PolicyServer]:
    with _serving() as srv:
        yield srv


def _episode(ws: ClientConnection) -> None:
    ep = EpisodeSpec("libero_double", "t0", "default", 0, 0, 40, noise_seed=5)
    assert call(ws, {"wambench": 1, "kind": "reset", "episode": episode_to_wire(ep)})["ok"] is True


def _act(ws: ClientConnection, step: int = 0) -> Any:
    reply = call(ws, {"wambench": 1, "kind": "act", **observation_to_wire(observation(step))})
    assert not isinstance(reply, str), reply
    return reply


def _closed(ws: ClientConnection, timeout: float = 10) -> websockets.ConnectionClosed:
    with pytest.raises(websockets.ConnectionClosed) as info:
        ws.recv(timeout=timeout)
    assert info.value.rcvd is not None, "the server dropped the socket without a close frame"
    return info.value


# -- hostile frames ------------------------------------------------------------------------------------
def test_a_frame_of_empty_maps_costs_the_server_no_more_than_its_bytes(server: PolicyServer) -> None:
    victim, _ = open_client(server)
    _episode(victim)
    attacker, _ = open_client(server)
    n = (2 << 20) - 5  # 2 MiB of empty maps: ~150 MB of Python dicts if the server decoded it
    frame = b"\xdd" + struct.pack(">I", n) + b"\x80" * n
    tracemalloc.start()  # the server runs in this process: its threads' allocations are traced
    try:
        tracemalloc.reset_peak()
        attacker.send(frame)
        reply = attacker.recv(timeout=120)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(reply, str) and reply.startswith(BAD_REQUEST) and "msgpack objects" in reply, reply
    # the frame's own copies (websocket buffer, message) and nothing per decoded object
    assert peak < 4 * len(frame), (
        f"the server allocated {peak / 1e6:.0f} MB for a {len(frame) / 1e6:.0f} MB frame"
    )
    _act(victim)
    attacker.close()
    victim.close()


def test_default_frame_limit_is_the_suites_and_grows_for_a_larger_suite() -> None:
    srv = PolicyServer(
        SeededDoubleFactory(), suite="tests.harness.serving.doubles:large_double_suite", port=0
    )
    assert (
        srv.limits.max_frame_bytes
        == frame_limit_for(SeededDoubleFactory(), [large_double_suite()])
        > DEFAULT_LIMITS.max_frame_bytes
    )
    small = PolicyServer(SeededDoubleFactory(), suite=SUITE, port=0)
    assert small.limits == DEFAULT_LIMITS
    assert small.metadata()["limits"]["max_frame_bytes"] == DEFAULT_LIMITS.max_frame_bytes


# -- connections ---------------------------------------------------------------------------------------
def test_connections_over_the_cap_are_closed_with_the_reason() -> None:
    with _serving(max_connections=2) as srv:
        first, meta = open_client(srv)
        second, _ = open_client(srv)
        assert meta["limits"]["max_connections"] == 2
        third = connect(srv.url, compression=None, proxy=None, open_timeout=10).__enter__()
        closed = _closed(third)
        assert closed.rcvd is not None and closed.rcvd.code == 1013  # try again later
        assert "server full: 2 connections" in closed.rcvd.reason
        client = WireClient(srv.url, connect_timeout_s=0.5, backoff_s=(0.1, 0.1))
        with pytest.raises(ServerGone, match="server full"):
            client.connect()
        _episode(first)
        _act(first)  # the admitted ones are unaffected
        second.close()
        deadline = time.monotonic() + 10
        while True:  # the slot frees once the server has seen the close
            try:
                fresh, meta = open_client(srv)
                break
            except (websockets.ConnectionClosed, TimeoutError):
                assert time.monotonic() < deadline, "the closed connection's slot was never freed"
                time.sleep(0.05)
        assert meta["server"] == "wambench"
        fresh.close()
        first.close()


def test_idle_clients_are_closed_and_busy_ones_are_not() -> None:
    with _serving(idle_timeout_s=1.0) as srv:
        idle, _ = open_client(srv)
        busy, meta = open_client(srv)
        assert meta["limits"]["idle_timeout_s"] == 1.0
        _episode(busy)
        with pytest.raises(TimeoutError):  # not closed early: still open 0.4 s into its 1 s
            idle.recv(timeout=0.4)
        for step in range(6):  # 6 x 0.25 s: longer than the timeout in all, never idle that long
            time.sleep(0.25)
            _act(busy, step)
        closed = _closed(idle, timeout=5)
        assert closed.rcvd is not None and closed.rcvd.code == 1000 and "idle for 1 s" in closed.rcvd.reason
        busy.close()


def test_a_remote_policy_reconnects_after_an_idle_close_at_its_next_reset() -> None:
    with _serving(idle_timeout_s=0.3) as srv:
        policy = RemotePolicy(SeededDoubleFactory().spec, DoubleSuite(), {"url": srv.url})
        assert policy.client.connects == 1
        time.sleep(1.0)  # between episodes, longer than the timeout: the server closes
        policy.reset(EpisodeSpec("libero_double", "t0", "default", 0, 0, 40, noise_seed=5), "pick")
        assert policy.act(observation(0, "pick")).actions.shape == (8, 7)
        assert policy.client.connects == 2
        policy.close()


# -- HTTP that is not a websocket upgrade --------------------------------------------------------------
def _http(
    srv: PolicyServer, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
    resp = conn.getresponse()
    out = resp.status, dict(resp.getheaders()), resp.read().decode()
    conn.close()
    return out


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/", b'{"obs": 1}'),
        ("POST", "/infer", None),
        ("PUT", "/", b"x" * 1000),
        ("DELETE", "/", None),
    ],
)
def test_other_methods_get_405_naming_what_this_port_is(
    server: PolicyServer, method: str, path: str, body: bytes | None
) -> None:
    status, headers, text = _http(server, method, path, body)
    assert status == 405 and headers.get("Allow") == "GET"
    assert f"{method} is not served" in text and "wambench policy server" in text


def test_a_browser_get_gets_426_and_health_still_answers(server: PolicyServer) -> None:
    status, headers, text = _http(server, "GET", "/")
    assert status == 426 and headers.get("Upgrade") == "websocket" and "wambench policy server" in text
    assert _http(server, "GET", "/healthz")[:1] == (200,)


@pytest.mark.parametrize(
    "raw",
    [
        b"hello\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # a TLS client hello on a plain port
    ],
)
def test_unparseable_requests_get_400_not_silence(server: PolicyServer, raw: bytes) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer[:200]
    assert b"wambench policy server" in answer
    ws, meta = open_client(server)  # and it goes on serving websocket clients
    assert meta["server"] == "wambench"
    ws.close()
