"""A real server and real clients on loopback: handshake, health, isolation, and hostile input."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any

import msgpack
import numpy as np
import pytest
import websockets
from websockets.sync.client import ClientConnection

from harness.serving.codec import Limits, packb, unpackb
from harness.serving.server import BAD_REQUEST, PolicyServer
from harness.serving.session import episode_to_wire, foreign_noise_seed, observation_to_wire
from harness.types import EpisodeSpec, Observation
from tests.harness.serving.doubles import DoubleSuite, SeededDoubleFactory
from tests.harness.serving.wire import call, observation, open_client
from tests.threads import run_threads

SUITE = "tests.harness.serving.doubles:double_suite"
MAX_BAD = 10
LIMITS = Limits(max_frame_bytes=1 << 20, max_array_bytes=256 << 10, max_ndim=4)


def _episode(index: int) -> EpisodeSpec:
    return EpisodeSpec("libero_double", "t0", "default", index, index, 40, noise_seed=1000 + index)


@pytest.fixture
def server() -> Iterator[PolicyServer]:
    srv = PolicyServer(
        SeededDoubleFactory(), suite=SUITE, port=0, limits=LIMITS, max_bad_requests=MAX_BAD
    ).start()
    yield srv
    srv.shutdown()


def _reset(ws: ClientConnection, index: int) -> Any:
    return call(
        ws,
        {
            "wambench": 1,
            "kind": "reset",
            "episode": episode_to_wire(_episode(index)),
            "instruction": "pick up the bowl",
        },
    )


def _act(ws: ClientConnection, step: int) -> Any:
    return call(ws, {"wambench": 1, "kind": "act", **observation_to_wire(observation(step))})


def _expected(index: int, steps: range) -> list[np.ndarray]:
    policy = SeededDoubleFactory().build(DoubleSuite(), {})
    policy.reset(_episode(index), "pick up the bowl")
    return [policy.act(observation(s)).actions for s in steps]


def test_metadata_handshake_and_health(server: PolicyServer) -> None:
    ws, meta = open_client(server)
    ws.close()
    assert meta["server"] == "wambench" and meta["policy"] == "double-1v1a"
    assert meta["suite"] == "libero_double" and "lingbot-va" in meta["protocols"]
    assert meta["spec"]["details"] == {"actions_per_frame": 4}
    assert meta["limits"]["max_frame_bytes"] == LIMITS.max_frame_bytes
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/healthz")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == b"OK\n"


def test_replies_carry_server_timing(server: PolicyServer) -> None:
    ws, _ = open_client(server)
    first = _reset(ws, 0)
    assert set(first["server_timing"]) == {"infer_ms"}
    reply = _act(ws, 0)
    timing = reply["server_timing"]
    assert {
        "infer_ms",
        "prev_total_ms",
        "total_ms",
        "video_ms",
        "action_ms",
        "encode_ms",
        "decode_ms",
    } <= set(timing)
    assert timing["infer_ms"] >= timing["total_ms"] >= 0  # the handler wraps the policy's own total
    ws.close()


def test_interleaved_connections_keep_their_own_state(server: PolicyServer) -> None:
    a, _ = open_client(server)
    b, _ = open_client(server)
    _reset(a, 0)
    _reset(b, 1)
    got_a, got_b = [], []
    for step in range(3):  # interleaved: a shared policy or RNG would mix the two streams
        got_a.append(_act(a, step)["actions"])
        got_b.append(_act(b, step)["actions"])
    for got, want in ((got_a, _expected(0, range(3))), (got_b, _expected(1, range(3)))):
        assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))
    a.close()
    b.close()


def _assert_serving(ws: ClientConnection, index: int, step: int) -> None:
    reply = _act(ws, step)
    assert not isinstance(reply, str), reply
    assert np.array_equal(reply["actions"], _expected(index, range(step + 1))[step])


def test_hostile_frames_get_errors_and_the_server_keeps_serving(server: PolicyServer) -> None:
    victim, _ = open_client(server)  # a well-behaved client in mid-episode throughout
    _reset(victim, 0)
    _act(victim, 0)
    attacker, _ = open_client(server)
    rng = np.random.default_rng(0)
    hostile: list[bytes | str] = [
        rng.integers(0, 256, 300, dtype=np.uint8).tobytes(),  # random bytes
        b"\xc1",
        "not msgpack but text",
        msgpack.packb([1, 2, 3]),  # not a map
        packb({"wambench": 1, "kind": "act", "images": 5, "state": "x"}),  # wrong types (and no reset)
        msgpack.packb(
            {"x": {b"__ndarray__": True, b"data": b"", b"dtype": "|O", b"shape": [0]}}, use_bin_type=True
        ),
        packb({"obs": {"cam": np.zeros((300, 300, 3), np.uint8)}}),  # array over max_array_bytes
        msgpack.packb(
            {"x": {b"__ndarray__": True, b"data": b"\0" * 16, b"dtype": "<f4", b"shape": [10**9, 10**9]}},
            use_bin_type=True,
        ),  # a shape that claims terabytes
    ]
    for frame in hostile:
        attacker.send(frame)
        reply = attacker.recv(timeout=10)
        assert isinstance(reply, str) and reply.startswith(BAD_REQUEST), reply
    # the attacker's own connection is still usable, and so is everyone else's
    assert _reset(attacker, 5)["ok"] is True
    _assert_serving(attacker, 5, 0)
    _assert_serving(victim, 0, 1)
    attacker.close()


def test_oversized_frame_closes_only_that_connection(server: PolicyServer) -> None:
    victim, _ = open_client(server)
    _reset(victim, 0)
    _act(victim, 0)
    big, _ = open_client(server)
    big.send(b"\0" * (LIMITS.max_frame_bytes + 1))
    with pytest.raises(websockets.ConnectionClosed) as info:
        big.recv(timeout=10)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009  # message too big
    _assert_serving(victim, 0, 1)
    fresh, meta = open_client(server)
    assert meta["server"] == "wambench"
    fresh.close()


def test_too_many_bad_requests_close_the_connection(server: PolicyServer) -> None:
    ws, _ = open_client(server)
    for _ in range(MAX_BAD - 1):
        ws.send(b"\xc1")
        assert ws.recv(timeout=10).startswith(BAD_REQUEST)
    ws.send(b"\xc1")
    ws.recv(timeout=10)
    with pytest.raises(websockets.ConnectionClosed) as info:
        ws.recv(timeout=10)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1008


def test_policy_failure_sends_the_traceback_and_closes_that_connection() -> None:
    srv = PolicyServer(SeededDoubleFactory(), options={"fail_after": 1}, suite=SUITE, port=0).start()
    try:
        ws, _ = open_client(srv)
        other, _ = open_client(srv)
        _reset(ws, 0)
        _reset(other, 1)
        assert "actions" in _act(ws, 0)
        text = _act(ws, 1)
        assert isinstance(text, str) and "injected policy failure" in text and "Traceback" in text
        with pytest.raises(websockets.ConnectionClosed) as info:
            ws.recv(timeout=10)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1011
        assert "actions" in _act(other, 0)  # its own policy, untouched
        other.close()
    finally:
        srv.shutdown()


def test_concurrent_clients_all_get_their_own_answers(server: PolicyServer) -> None:
    errors: list[BaseException] = []

    def client(index: int) -> None:
        try:
            ws, _ = open_client(server)
            _reset(ws, index)
            got = [_act(ws, s)["actions"] for s in range(3)]
            assert all(np.array_equal(g, w) for g, w in zip(got, _expected(index, range(3)), strict=True))
            ws.close()
        except BaseException as exc:
            errors.append(exc)

    run_threads(client, range(6), 60)
    assert not errors, errors


def _openpi_layout(obj: Any) -> Any:
    """Encode as openpi's msgpack_numpy does (binary keys), independently of our codec."""
    if isinstance(obj, np.ndarray):
        return {
            b"__ndarray__": True,
            b"data": obj.tobytes(),
            b"dtype": obj.dtype.str,
            b"shape": list(obj.shape),
        }
    return obj


def _foreign_call(ws: ClientConnection, msg: dict[str, Any]) -> Any:
    ws.send(msgpack.packb(msg, default=_openpi_layout, use_bin_type=True))
    reply = ws.recv(timeout=10)
    assert not isinstance(reply, str), reply
    return unpackb(reply)


def _lingbot_frame(step: int) -> dict[str, np.ndarray]:
    obs = observation(step)
    return {
        "observation.images.agentview_rgb": obs.images["agentview"],
        "observation.images.eye_in_hand_rgb": obs.images["wrist"],
    }


def test_lingbot_va_libero_client_flow(server: PolicyServer) -> None:
    """The message sequence of LingBot-VA's LIBERO client, executed the way it indexes actions."""
    ws, _ = open_client(server)
    prompt = "pick up the bowl"
    assert _foreign_call(ws, {"reset": True, "prompt": prompt}).keys() == {"server_timing"}
    first_obs, step, first = _lingbot_frame(0), 0, True
    executed, seen = [], [first_obs]
    for _ in range(3):
        action = _foreign_call(ws, {"obs": first_obs, "prompt": prompt})["action"]  # always the first frame
        assert action.shape[2] % 4 == 0
        per_video_frame = action.shape[2] // 4
        key_frames = []
        for i in range(1 if first else 0, action.shape[1]):
            for j in range(action.shape[2]):
                executed.append(action[:, i, j])
                step += 1
                if (j + 1) % per_video_frame == 0:
                    key_frames.append(_lingbot_frame(step))
        seen.append(key_frames[-1])
        first = False
        _foreign_call(ws, {"obs": key_frames, "compute_kv_cache": True, "imagine": False, "state": action})
    ws.close()
    # In process: the same policy on the frames the client actually saw, with the server's seed.
    policy = SeededDoubleFactory().build(DoubleSuite(), {})
    policy.reset(EpisodeSpec("libero_double", prompt, "remote", 0, 0, 0, foreign_noise_seed(0, 0)), prompt)
    want = []
    for frame in seen[:3]:
        obs = Observation(
            {
                "agentview": frame["observation.images.agentview_rgb"],
                "wrist": frame["observation.images.eye_in_hand_rgb"],
            },
            np.zeros(8),
            prompt,
        )
        want.append(policy.act(obs).actions)
    assert np.allclose(np.stack(executed), np.concatenate(want), atol=1e-5)


def test_openpi_client_flow(server: PolicyServer) -> None:
    ws, _ = open_client(server)
    obs = observation(3)
    msg = {
        "observation/image": obs.images["agentview"],
        "observation/wrist_image": obs.images["wrist"],
        "observation/state": obs.state.astype(np.float32),
        "prompt": "pick up the bowl",
    }
    reply = _foreign_call(ws, msg)
    assert reply["actions"].shape == (8, 7) and "infer_ms" in reply["server_timing"]
    ws.close()
