"""One connection's protocol state: its own Policy, one episode at a time, never shared.

Three dialects arrive on the same socket and are told apart by their keys:
- wambench (`{"wambench": 1, "kind": "reset"|"act"|"observe", ...}`): what `backends.remote` sends;
  carries the full EpisodeSpec (noise seed included), so a remote episode is bit-identical to an
  in-process one.
- LingBot-VA (`{"reset": true, "prompt"}`, `{"obs", "prompt"}`, `{"obs": [key frames],
  "compute_kv_cache": true, "state"}`): their LIBERO / RoboTwin evaluation clients.
- openpi (any other map: `observation/...` keys and `prompt`; reply `actions`).

The session does no I/O: the server feeds it decoded messages and sends back what it returns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from harness.serving.adapters import AdapterError, foreign_observation, to_lingbot_actions
from harness.types import ActionChunk, EpisodeSpec, Observation, Policy, Suite

PROTOCOL_VERSION = 1


class ProtocolError(ValueError):
    """A request the session cannot serve; the client gets the message and may go on."""


@dataclass
class Reply:
    payload: dict[str, Any]
    stages: dict[str, float] = field(default_factory=dict)  # the policy's own stage timings (ms)


# (suite name or None) -> (a freshly built Policy, the Suite it was built for)
PolicyBuilder = Callable[[str | None], tuple[Policy, Suite]]

_EPISODE_FIELDS = {f.name: f.type for f in fields(EpisodeSpec)}


def _episode_from_wire(raw: Any) -> EpisodeSpec:
    if not isinstance(raw, Mapping):
        raise ProtocolError("'episode' must be a map with the EpisodeSpec fields")
    unknown = set(raw) - set(_EPISODE_FIELDS)
    if unknown:
        raise ProtocolError(f"unknown episode fields {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name in _EPISODE_FIELDS:
        if name not in raw:
            if name == "noise_seed":
                continue
            raise ProtocolError(f"episode lacks '{name}'")
        value = raw[name]
        want_int = name in ("index", "seed", "max_steps", "noise_seed")
        if want_int and (type(value) is not int and not isinstance(value, np.integer)):
            raise ProtocolError(f"episode '{name}' must be an integer, got {type(value).__name__}")
        if not want_int and not isinstance(value, str):
            raise ProtocolError(f"episode '{name}' must be a string, got {type(value).__name__}")
        values[name] = int(value) if want_int else value
    return EpisodeSpec(**values)


def episode_to_wire(ep: EpisodeSpec) -> dict[str, Any]:
    return {f: getattr(ep, f) for f in _EPISODE_FIELDS}


def observation_to_wire(obs: Observation) -> dict[str, Any]:
    return {"images": dict(obs.images), "state": np.asarray(obs.state), "instruction": obs.instruction}


def _native_observation(msg: Mapping[str, Any]) -> Observation:
    images = msg.get("images")
    if not isinstance(images, Mapping) or not images:
        raise ProtocolError("'images' must be a non-empty map of camera -> HxWx3 uint8 array")
    for cam, img in images.items():
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[-1] != 3:
            raise ProtocolError(f"image '{cam}' must be an HxWx3 uint8 array")
    state = msg.get("state")
    if not isinstance(state, np.ndarray) or state.dtype.kind not in "fiub":
        raise ProtocolError("'state' must be a numeric array")
    instruction = msg.get("instruction", "")
    if not isinstance(instruction, str):
        raise ProtocolError("'instruction' must be a string")
    return Observation(images={str(k): v for k, v in images.items()}, state=state, instruction=instruction)


def _text(msg: Mapping[str, Any], key: str) -> str | None:
    value = msg.get(key)
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and len(value) == 1:  # openpi examples send ["prompt"]
        value = value[0]
    if not isinstance(value, str):
        raise ProtocolError(f"'{key}' must be a string, got {type(value).__name__}")
    return value


def _chunk_payload(chunk: ActionChunk, executed_only: bool = False) -> dict[str, Any]:
    """wambench's reply carries the whole chunk and `execute_from`; openpi's clients execute every row
    they get, so they get only the executed rows."""
    actions = np.asarray(chunk.actions)
    if actions.ndim != 2 or actions.dtype.kind != "f":
        raise TypeError(
            f"policy returned actions of shape {actions.shape} {actions.dtype}; expected [T, D] float"
        )
    start = int(chunk.execute_from)
    payload: dict[str, Any] = {
        "actions": actions[start:] if executed_only else actions,
        "timings": {str(k): float(v) for k, v in chunk.timings.items()},
        "nfe": {str(k): int(v) for k, v in chunk.nfe.items()},
        "device": str(chunk.device),
    }
    if not executed_only:
        payload["execute_from"] = start
    return payload


def foreign_noise_seed(server_seed: int, index: int) -> int:
    """The noise seed of the index-th episode on a connection whose client sends none (`--seed`)."""
    digest = hashlib.sha256(f"{server_seed}|serve|{index}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


class Session:
    """Protocol state of one connection. Not thread-safe: one connection, one thread."""

    def __init__(
        self,
        build: PolicyBuilder,
        suite_name: str | None,
        seed: int = 0,
        actions_per_frame: int | None = None,
    ) -> None:
        self._build = build
        self._suite_name = suite_name
        self._seed = seed
        self._actions_per_frame = actions_per_frame
        self.policy: Policy | None = None
        self.suite: Suite | None = None
        self._in_episode = False
        self._episodes = 0  # resets on this connection (numbers foreign clients' episodes)
        self._chunks = 0  # chunks in the current episode
        self._instruction = ""
        self._latest_keyframe: Mapping[str, Any] | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def _ensure_policy(self, suite_name: str | None) -> tuple[Policy, Suite]:
        if self._suite_name is not None and suite_name is not None and suite_name != self._suite_name:
            raise ProtocolError(
                f"this server evaluates suite '{self._suite_name}', not '{suite_name}' "
                "(start another `wambench serve --suite ...`)"
            )
        if self.policy is None or self.suite is None:
            name = suite_name or self._suite_name
            if name is None:
                raise ProtocolError(
                    "the server was started without --suite and this client does not name one; "
                    "restart it with `wambench serve --suite SUITE ...`"
                )
            self.policy, self.suite = self._build(name)
            self._suite_name = name
        return self.policy, self.suite

    def _start_episode(self, episode: EpisodeSpec, instruction: str) -> None:
        policy, _ = self._ensure_policy(episode.suite)
        policy.reset(episode, instruction)
        self._in_episode = True
        self._episodes += 1
        self._chunks = 0
        self._instruction = instruction
        self._latest_keyframe = None

    def _foreign_episode(self, instruction: str, seed: int | None) -> EpisodeSpec:
        """An EpisodeSpec for clients that send only a prompt: numbered per connection, seeded."""
        index = self._episodes
        if seed is None:
            seed = foreign_noise_seed(self._seed, index)
        suite = self._suite_name or "remote"
        return EpisodeSpec(suite, instruction or "remote", "remote", index, 0, 0, noise_seed=seed)

    def close(self) -> None:
        if self.policy is not None:
            self.policy.close()
            self.policy = None

    # -- dispatch --------------------------------------------------------------------------------
    def handle(self, msg: Any) -> Reply:
        if not isinstance(msg, Mapping):
            raise ProtocolError(f"a request must be a map, got {type(msg).__name__}")
        try:
            if "wambench" in msg:
                return self._native(msg)
            if msg.get("reset"):
                return self._lingbot_reset(msg)
            if msg.get("compute_kv_cache"):
                return self._lingbot_keyframes(msg)
            if "obs" in msg:
                return self._lingbot_chunk(msg)
            return self._openpi_infer(msg)
        except AdapterError as exc:
            raise ProtocolError(str(exc)) from None

    def _act(self, obs: Observation) -> ActionChunk:
        assert self.policy is not None
        chunk = self.policy.act(obs)
        self._chunks += 1
        return chunk

    # -- wambench --------------------------------------------------------------------------------
    def _native(self, msg: Mapping[str, Any]) -> Reply:
        if msg.get("wambench") != PROTOCOL_VERSION:
            raise ProtocolError(f"unsupported wambench protocol {msg.get('wambench')!r} (server speaks 1)")
        kind = msg.get("kind")
        if kind == "reset":
            episode = _episode_from_wire(msg.get("episode"))
            instruction = _text(msg, "instruction") or ""
            self._start_episode(episode, instruction)
            return Reply({"ok": True})
        if kind not in ("act", "observe"):
            raise ProtocolError(f"unknown wambench request kind {kind!r} (reset, act, observe)")
        if not self._in_episode or self.policy is None:
            raise ProtocolError("send a reset before act/observe")
        obs = _native_observation(msg)
        if kind == "observe":
            observe = getattr(self.policy, "observe", None)
            if callable(observe):
                observe(obs)
            return Reply({"ok": True})
        chunk = self._act(obs)
        return Reply(_chunk_payload(chunk), dict(chunk.timings))

    # -- LingBot-VA ------------------------------------------------------------------------------
    def _lingbot_reset(self, msg: Mapping[str, Any]) -> Reply:
        prompt = _text(msg, "prompt") or ""
        seed = msg.get("seed")
        if seed is not None and type(seed) is not int:
            raise ProtocolError("'seed' must be an integer")
        self._ensure_policy(None)
        self._start_episode(self._foreign_episode(prompt, seed), prompt)
        return Reply({})

    def _cameras(self) -> tuple[Mapping[str, tuple[int, int, int]], int]:
        assert self.suite is not None
        return dict(self.suite.camera_shapes), int(self.suite.state_dim)

    def _lingbot_keyframes(self, msg: Mapping[str, Any]) -> Reply:
        if not self._in_episode or self.policy is None:
            raise ProtocolError("send {'reset': true, 'prompt': ...} before compute_kv_cache")
        frames = msg.get("obs")
        frames = [frames] if isinstance(frames, Mapping) else frames
        if not isinstance(frames, list) or not all(isinstance(f, Mapping) for f in frames):
            raise ProtocolError("'obs' of compute_kv_cache must be a list of observation maps")
        if not frames:
            return Reply({})  # their client sends none when the episode ended inside a chunk
        cameras, state_dim = self._cameras()
        observe = getattr(self.policy, "observe", None)
        for frame in frames:
            obs = foreign_observation(frame, self._instruction, cameras, state_dim)
            if callable(observe):
                observe(obs)
        # Their server ignores the `obs` of every chunk request after the first (it conditions on the
        # key frames in its cache), and their clients keep sending the episode's first frame there;
        # a wambench policy conditions on its input, so the newest key frame stands in for it.
        self._latest_keyframe = frames[-1]
        return Reply({})

    def _lingbot_chunk(self, msg: Mapping[str, Any]) -> Reply:
        if not self._in_episode or self.policy is None:
            raise ProtocolError("send {'reset': true, 'prompt': ...} before requesting actions")
        raw = msg.get("obs")
        if isinstance(raw, list) and raw:
            raw = raw[-1]
        if not isinstance(raw, Mapping):
            raise ProtocolError("'obs' must be a map of 'observation.images.<camera>' -> HxWx3 uint8")
        if self._latest_keyframe is not None:
            raw = self._latest_keyframe
        instruction = _text(msg, "prompt") or self._instruction
        cameras, state_dim = self._cameras()
        obs = foreign_observation(raw, instruction, cameras, state_dim)
        first = self._chunks == 0
        chunk = self._act(obs)
        per_frame = self._per_frame(chunk)
        actions = np.asarray(chunk.actions, dtype=np.float32)
        action = to_lingbot_actions(actions, per_frame, first, int(chunk.execute_from))
        return Reply({"action": action}, dict(chunk.timings))

    def _per_frame(self, chunk: ActionChunk) -> int:
        if self._actions_per_frame:
            return self._actions_per_frame
        assert self.policy is not None
        details = getattr(self.policy.spec, "details", {}) or {}
        value = details.get("actions_per_frame")
        if isinstance(value, int) and value > 0:
            return value
        return int(np.asarray(chunk.actions).shape[0])  # one frame holding the whole chunk

    # -- openpi ----------------------------------------------------------------------------------
    def _openpi_infer(self, msg: Mapping[str, Any]) -> Reply:
        prompt = _text(msg, "prompt") or ""
        # openpi's clients never reset: a new episode is inferred on the first request and whenever
        # the prompt changes (a client that repeats a task should reconnect or send a reset).
        if not self._in_episode or prompt != self._instruction:
            self._ensure_policy(None)
            self._start_episode(self._foreign_episode(prompt, None), prompt)
        cameras, state_dim = self._cameras()
        chunk = self._act(foreign_observation(msg, prompt, cameras, state_dim))
        return Reply(_chunk_payload(chunk, executed_only=True), dict(chunk.timings))


__all__ = [
    "PROTOCOL_VERSION",
    "PolicyBuilder",
    "ProtocolError",
    "Reply",
    "Session",
    "episode_to_wire",
    "foreign_noise_seed",
    "observation_to_wire",
]
