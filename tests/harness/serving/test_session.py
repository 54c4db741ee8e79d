"""The per-connection protocol state machine, without a network: the three dialects and bad requests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from harness.serving.session import ProtocolError, Session, episode_to_wire, observation_to_wire
from harness.types import EpisodeSpec, Observation
from tests.harness.serving.doubles import DoubleSuite, SeededDoubleFactory, SeededDoublePolicy

EP = EpisodeSpec("libero_double", "t0", "default", 3, 3, 40, noise_seed=99)


def _obs(value: int = 5) -> Observation:
    images = {"agentview": np.full((16, 16, 3), value, np.uint8), "wrist": np.zeros((16, 16, 3), np.uint8)}
    return Observation(images, np.linspace(0, 1, 8), "pick up the bowl")


def _session(suite: str | None = "libero_double", **kw: Any) -> tuple[Session, SeededDoubleFactory]:
    factory = SeededDoubleFactory()
    suite_obj = DoubleSuite()

    def build(name: str | None) -> tuple[SeededDoublePolicy, DoubleSuite]:
        assert name == suite_obj.name
        return factory.build(suite_obj, {}), suite_obj

    return Session(build, suite, **kw), factory


def _in_process(obs: Observation, chunks: int = 2) -> list[np.ndarray]:
    policy = SeededDoubleFactory().build(DoubleSuite(), {})
    policy.reset(EP, obs.instruction)
    return [policy.act(obs).actions for _ in range(chunks)]


def test_native_dialect_matches_in_process() -> None:
    session, factory = _session()
    obs = _obs()
    reset = session.handle(
        {"wambench": 1, "kind": "reset", "episode": episode_to_wire(EP), "instruction": obs.instruction}
    )
    assert reset.payload == {"ok": True}
    got = [session.handle({"wambench": 1, "kind": "act", **observation_to_wire(obs)}) for _ in range(2)]
    for reply, expected in zip(got, _in_process(obs), strict=True):
        assert np.array_equal(reply.payload["actions"], expected)
        assert reply.payload["nfe"] == {"video": 1, "action": 1} and reply.payload["device"] == "cpu (seeded)"
        assert set(reply.stages) >= {"encode", "video", "action", "decode", "total"}
    assert len(factory.built) == 1  # one policy per connection, reset per episode
    session.close()
    assert factory.built[0].closed


def test_lingbot_dialect_executes_what_the_policy_planned() -> None:
    session, _ = _session()
    obs = _obs()
    assert session.handle({"reset": True, "prompt": obs.instruction, "seed": EP.noise_seed}).payload == {}
    lingbot_obs = {
        "observation.images.agentview_rgb": obs.images["agentview"],
        "observation.images.eye_in_hand_rgb": obs.images["wrist"],
        "observation.state": obs.state,
    }
    first = session.handle({"obs": lingbot_obs, "prompt": obs.instruction}).payload["action"]
    assert first.shape == (7, 3, 4)  # 8 actions = 2 frames of 4, plus the skipped frame 0
    expected = _in_process(obs)
    assert np.allclose(np.stack([first[:, i, j] for i in (1, 2) for j in range(4)]), expected[0], atol=1e-6)
    # After the chunk their client sends the key frames, then the (stale) first frame again.
    key = dict(lingbot_obs)
    assert session.handle({"obs": [key, key], "compute_kv_cache": True, "state": first}).payload == {}
    stale = {**lingbot_obs, "observation.images.agentview_rgb": np.zeros((16, 16, 3), np.uint8)}
    second = session.handle({"obs": stale, "prompt": obs.instruction}).payload["action"]
    assert second.shape == (7, 2, 4)
    assert np.allclose(second.transpose(1, 2, 0).reshape(8, 7), expected[1], atol=1e-6)


def test_openpi_dialect_starts_an_episode_per_prompt() -> None:
    session, factory = _session()
    msg = {
        "observation/image": np.full((16, 16, 3), 5, np.uint8),
        "observation/wrist_image": np.zeros((16, 16, 3), np.uint8),
    }
    a = session.handle({**msg, "prompt": "one"}).payload["actions"]
    b = session.handle({**msg, "prompt": "one"}).payload["actions"]
    c = session.handle({**msg, "prompt": "two"}).payload["actions"]
    assert a.shape == b.shape == c.shape == (8, 7)
    assert factory.built[0].resets == 2 and not np.array_equal(a, b)


@pytest.mark.parametrize(
    ("msg", "message"),
    [
        ([1, 2], "must be a map"),
        ({"wambench": 2, "kind": "reset"}, "unsupported wambench protocol"),
        ({"wambench": 1, "kind": "jump"}, "unknown wambench request kind"),
        ({"wambench": 1, "kind": "act", "images": {}, "state": np.zeros(2)}, "send a reset"),
        ({"wambench": 1, "kind": "reset", "episode": "x"}, "must be a map"),
        (
            {"wambench": 1, "kind": "reset", "episode": {**episode_to_wire(EP), "index": "3"}},
            "must be an integer",
        ),
        (
            {"wambench": 1, "kind": "reset", "episode": {**episode_to_wire(EP), "extra": 1}},
            "unknown episode fields",
        ),
        ({"wambench": 1, "kind": "reset", "episode": {"suite": "libero_double"}}, "lacks"),
        (
            {"wambench": 1, "kind": "reset", "episode": {**episode_to_wire(EP), "suite": "robotwin2"}},
            "not 'robotwin2'",
        ),
        ({"reset": True, "prompt": 5}, "must be a string"),
        ({"reset": True, "seed": "x"}, "must be an integer"),
        ({"obs": {}, "prompt": "x"}, "reset"),
        ({"compute_kv_cache": True, "obs": []}, "reset"),
        ({"prompt": "x"}, "no HxWx3 images"),
    ],
)
def test_bad_requests_are_protocol_errors(msg: Any, message: str) -> None:
    session, _ = _session()
    with pytest.raises(ProtocolError, match=message):
        session.handle(msg)


def test_bad_act_payloads_after_reset() -> None:
    session, _ = _session()
    session.handle({"wambench": 1, "kind": "reset", "episode": episode_to_wire(EP)})
    base = observation_to_wire(_obs())
    for bad, message in [
        ({**base, "images": {"agentview": np.zeros((4, 4), np.uint8)}}, "HxWx3 uint8"),
        ({**base, "images": {"agentview": np.zeros((4, 4, 3), np.float32)}}, "HxWx3 uint8"),
        ({**base, "state": "x"}, "numeric array"),
        ({**base, "instruction": 3}, "must be a string"),
    ]:
        with pytest.raises(ProtocolError, match=message):
            session.handle({"wambench": 1, "kind": "act", **bad})
    # the session is still usable after bad requests
    assert session.handle({"wambench": 1, "kind": "act", **base}).payload["actions"].shape == (8, 7)


def test_foreign_clients_need_a_suite() -> None:
    session, _ = _session(suite=None)
    with pytest.raises(ProtocolError, match="--suite"):
        session.handle({"reset": True, "prompt": "x"})
    # a wambench client names the suite in its episode, so it works without --suite
    assert session.handle({"wambench": 1, "kind": "reset", "episode": episode_to_wire(EP)}).payload["ok"]
