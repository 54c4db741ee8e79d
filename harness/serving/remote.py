"""Backend `remote`: a Policy whose chunks come from a policy server over websocket.

Three servers are spoken to, by option `protocol`:
- `wambench` (default): `wambench serve`. Sends the whole EpisodeSpec, so the server's policy draws
  the same noise as an in-process one would (same seed, same actions), and gets the policy's own stage
  timings back.
- `lingbot`: LingBot-VA's server (`wan_va_server.py`) and the Flash-WAM server built on it: `reset`,
  then per chunk `obs` -> `action [channels, frames, per_frame]`, and after each chunk the observed
  key frames with `compute_kv_cache`.
- `openpi`: openpi's `serve_policy.py`: `infer` with `observation/...` keys, reply `actions`.

Timings per chunk: the server's stages as it reports them (wambench: encode, video, action, decode,
total; LingBot-VA: only its wall-clock `infer_ms`, which is not CUDA-synchronised, as `total`, with
the key-frame call as `encode`), `server_infer` (the server's time around its handler) and
`round_trip` (this client's time from send to reply, so network and (de)serialisation show up as
`round_trip - server_infer`).

Failures: the runner's pre-flight (`validate`) probes the server once, so a missing server, or one
serving another policy, stops the run before any worker starts; each built policy then connects
(retrying with backoff until `connect_timeout_s`: a server may still be loading weights). A server
that dies or stops answering within `call_timeout_s` during an episode makes that episode an `error`
(EpisodeError); the next episode's reset reconnects. Options: see policies/backends/README.md.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from harness.errors import SetupError, UserError
from harness.serving.adapters import AdapterError, from_lingbot_actions
from harness.serving.client import RemoteError, ServerGone, WireClient
from harness.serving.session import PROTOCOL_VERSION, episode_to_wire, observation_to_wire
from harness.types import ActionChunk, EpisodeError, EpisodeSpec, Observation, PolicySpec, Suite
from policies.wam.plan import COMMON_OPTIONS as COMMON_WAM_OPTIONS

PROTOCOLS = ("wambench", "lingbot", "openpi")
DEFAULT_URL = "ws://127.0.0.1:8000"
OPTIONS = frozenset(
    {
        "backend",
        "url",
        "protocol",
        "connect_timeout_s",
        "call_timeout_s",
        "reset_timeout_s",
        "check_policy",
        "camera_keys",
        "state_key",
        "keyframes_per_frame",
    }
)

# LingBot-VA's evaluation clients name cameras this way; `camera_keys` overrides (suite camera -> key).
_LINGBOT_CAMERAS = {
    "libero": {
        "agentview": "observation.images.agentview_rgb",
        "wrist": "observation.images.eye_in_hand_rgb",
    },
    "robotwin": {
        "head": "observation.images.cam_high",
        "left_wrist": "observation.images.cam_left_wrist",
        "right_wrist": "observation.images.cam_right_wrist",
    },
}
_OPENPI_CAMERAS = {"libero": {"agentview": "observation/image", "wrist": "observation/wrist_image"}}


def _family(suite: Suite) -> str:
    name = str(getattr(suite, "name", "")).lower()
    return "robotwin" if name.startswith("robotwin") else "libero" if name.startswith("libero") else name


def _number(options: Mapping[str, Any], key: str, default: float) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise UserError(f"remote option {key} must be a positive number of seconds, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class RemoteSettings:
    """The remote options, checked without touching the network."""

    url: str
    protocol: str
    connect_timeout_s: float
    call_timeout_s: float
    reset_timeout_s: float
    check_policy: bool
    camera_keys: Mapping[str, str]
    state_key: str
    keyframes_per_frame: int

    @classmethod
    def parse(cls, suite: Suite, options: Mapping[str, Any]) -> RemoteSettings:
        served = sorted((set(options) & COMMON_WAM_OPTIONS) - {"backend", "checkpoint"})
        if served:
            raise UserError(
                f"option(s) {', '.join(served)} belong to the server's policy, not the remote client: give "
                "them to `wambench serve -o KEY=VALUE` (the stored spec is what the server reports)"
            )
        unknown = sorted(set(options) - OPTIONS - COMMON_WAM_OPTIONS)
        if unknown:
            raise UserError(
                f"unknown remote option(s) {', '.join(unknown)} (known: {', '.join(sorted(OPTIONS))})"
            )
        protocol = str(options.get("protocol", "wambench"))
        if protocol not in PROTOCOLS:
            raise UserError(f"remote option protocol must be one of {', '.join(PROTOCOLS)}, got '{protocol}'")
        url = str(options.get("url", DEFAULT_URL))
        if not url.startswith(("ws://", "wss://")):
            raise UserError(f"remote option url must start with ws:// or wss://, got '{url}'")
        family = _family(suite)
        default_keys = (_LINGBOT_CAMERAS if protocol == "lingbot" else _OPENPI_CAMERAS).get(family, {})
        keys = options.get("camera_keys") or default_keys
        if not isinstance(keys, Mapping):
            raise UserError(
                "remote option camera_keys must map the suite's camera names to the server's keys"
            )
        stride = options.get("keyframes_per_frame", 4)  # LingBot-VA: 4 video frames per latent frame
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
            raise UserError(f"remote option keyframes_per_frame must be a positive integer, got {stride!r}")
        return cls(
            url=url,
            protocol=protocol,
            connect_timeout_s=_number(options, "connect_timeout_s", 30.0),
            call_timeout_s=_number(options, "call_timeout_s", 300.0),
            reset_timeout_s=_number(options, "reset_timeout_s", 600.0),
            check_policy=bool(options.get("check_policy", True)),
            camera_keys={str(k): str(v) for k, v in keys.items()},
            state_key=str(options.get("state_key", "observation/state")),
            keyframes_per_frame=stride,
        )

    def client(self) -> WireClient:
        return WireClient(
            self.url, connect_timeout_s=self.connect_timeout_s, call_timeout_s=self.call_timeout_s
        )


def served_spec(requested: PolicySpec, meta: Mapping[str, Any], settings: RemoteSettings) -> PolicySpec:
    """The spec to store: what the server says it serves, under the requested name (checked)."""
    served = meta.get("spec") if isinstance(meta.get("spec"), Mapping) else None
    if settings.protocol == "wambench" and meta.get("server") != "wambench":
        raise SetupError(
            f"{settings.url} is not a wambench server (its metadata has {sorted(map(str, meta))}); "
            "for LingBot-VA / Flash-WAM servers use protocol: lingbot, for openpi protocol: openpi"
        )
    if served is not None and settings.check_policy and served.get("name") != requested.name:
        raise SetupError(
            f"{settings.url} serves policy '{served.get('name')}', not '{requested.name}'; results "
            "would be stored under the wrong name (serve the right one, or set check_policy: false)"
        )
    details = dict(requested.details)
    details.update({"url": settings.url, "protocol": settings.protocol})
    if served is None:  # a foreign server: keep what the config says, note what the server said
        details["server_metadata"] = {str(k): repr(v)[:200] for k, v in meta.items()}
        return replace(requested, backend="remote", details=details)
    served_details = served.get("details")
    if isinstance(served_details, Mapping):  # e.g. `trained`, samplers, device: the server's truth
        details.update(served_details)
        details.update({"url": settings.url, "protocol": settings.protocol})
    details["served"] = dict(served)
    return replace(
        requested,
        method=str(served.get("method", requested.method)),
        nfe_video=served.get("nfe_video", requested.nfe_video),
        nfe_action=served.get("nfe_action", requested.nfe_action),
        backend="remote",
        checkpoint=served.get("checkpoint", requested.checkpoint),
        details=details,
    )


def probe(requested: PolicySpec, suite: Suite, options: Mapping[str, Any]) -> PolicySpec:
    """Connect once (with the usual retries), check what is served, disconnect."""
    settings = RemoteSettings.parse(suite, options)
    client = settings.client()
    try:
        meta = client.connect()
    except (ServerGone, RemoteError) as exc:
        raise SetupError(str(exc)) from None
    finally:
        client.close()
    return served_spec(requested, meta, settings)


class RemotePolicy:
    """One episode at a time over one connection; reconnects at the next reset if the server went away."""

    def __init__(self, spec: PolicySpec, suite: Suite, options: Mapping[str, Any]) -> None:
        self.settings = settings = RemoteSettings.parse(suite, options)
        self.protocol = settings.protocol
        self.suite = suite
        self.camera_keys = settings.camera_keys
        self.client = settings.client()
        try:
            meta = self.client.connect()
        except (ServerGone, RemoteError) as exc:
            raise SetupError(str(exc)) from None
        self.spec = served_spec(spec, meta, settings)
        self._served = meta.get("policy")
        self._episode: EpisodeSpec | None = None
        self._instruction = ""
        self._chunks = 0
        self._steps: list[Observation] = []  # observations since the last chunk (see observe)
        self._lingbot_action: np.ndarray | None = None

    # -- episode ---------------------------------------------------------------------------------
    def reset(self, episode: EpisodeSpec, instruction: str) -> None:
        self._episode, self._instruction, self._chunks = episode, instruction, 0
        self._steps, self._lingbot_action = [], None
        if self.protocol == "wambench":
            msg: dict[str, Any] | None = {
                "wambench": PROTOCOL_VERSION,
                "kind": "reset",
                "episode": episode_to_wire(episode),
                "instruction": instruction,
            }
        elif self.protocol == "lingbot":
            # `seed` is ours: LingBot-VA's server ignores it, a wambench server seeds the episode with it.
            msg = {"reset": True, "prompt": instruction, "seed": episode.noise_seed}
        else:
            msg = None  # openpi servers keep no episode state
        for attempt in (0, 1):
            try:
                if not self.client.connected:
                    meta = self.client.connect()
                    if meta.get("policy") != self._served:
                        raise EpisodeError(
                            f"{self.client.url} now serves '{meta.get('policy')}', not '{self._served}'"
                        )
                if msg is not None:
                    self.client.call(msg, timeout_s=self.settings.reset_timeout_s)
                return
            except ServerGone as exc:
                if attempt == 1:
                    raise EpisodeError(f"policy server unavailable at reset: {exc}") from None
                self.client.close()  # a server restarted since the last episode: reconnect once
            except RemoteError as exc:
                raise EpisodeError(f"policy server refused the reset: {exc}") from None

    def observe(self, obs: Observation) -> None:
        """The runner's per-step hook: the frames seen during a chunk. LingBot-VA's server gets its key
        frames with the next chunk request; a wambench server gets every one before the next `act`
        (its policy picks what it keeps, as in-process)."""
        if self.protocol in ("lingbot", "wambench"):
            self._steps.append(obs)

    def act(self, obs: Observation) -> ActionChunk:
        if self._episode is None:
            raise RuntimeError("act before reset")
        try:
            if self.protocol == "wambench":
                chunk = self._act_wambench(obs)
            elif self.protocol == "lingbot":
                chunk = self._act_lingbot(obs)
            else:
                chunk = self._act_openpi(obs)
        except ServerGone as exc:
            self.client.close()
            raise EpisodeError(f"policy server went away mid-episode (chunk {self._chunks}): {exc}") from None
        except RemoteError as exc:
            raise EpisodeError(f"policy server error (chunk {self._chunks}): {exc}") from None
        except AdapterError as exc:
            raise EpisodeError(f"unexpected reply from the policy server: {exc}") from None
        self._chunks += 1
        self._steps = []
        return chunk

    def _timed_call(self, msg: dict[str, Any]) -> tuple[dict[str, Any], float]:
        t0 = time.perf_counter()
        reply = self.client.call(msg)
        return reply, (time.perf_counter() - t0) * 1000.0

    @staticmethod
    def _server_ms(reply: Mapping[str, Any]) -> float | None:
        timing = reply.get("server_timing")
        if isinstance(timing, Mapping) and isinstance(timing.get("infer_ms"), (int, float)):
            return float(timing["infer_ms"])
        return None

    def _actions(self, raw: Any) -> np.ndarray:
        actions = np.asarray(raw)
        if actions.ndim != 2 or actions.dtype.kind != "f":
            raise AdapterError(f"actions must be a [T, D] float array, got {actions.shape} {actions.dtype}")
        dim = self.suite.action_space.dim
        if actions.shape[1] != dim:
            raise AdapterError(
                f"actions have {actions.shape[1]} channels; suite '{self.suite.name}' takes {dim}"
            )
        return actions

    def _act_wambench(self, obs: Observation) -> ActionChunk:
        for step in self._steps:
            self.client.call({"wambench": PROTOCOL_VERSION, "kind": "observe", **observation_to_wire(step)})
        reply, rt = self._timed_call(
            {"wambench": PROTOCOL_VERSION, "kind": "act", **observation_to_wire(obs)}
        )
        timings = {str(k): float(v) for k, v in dict(reply.get("timings") or {}).items()}
        server = self._server_ms(reply)
        if server is not None:
            timings["server_infer"] = server
        timings["round_trip"] = rt
        nfe = {str(k): int(v) for k, v in dict(reply.get("nfe") or {}).items()}
        return ActionChunk(
            self._actions(reply.get("actions")),
            timings,
            nfe,
            str(reply.get("device", "remote")),
            execute_from=int(reply.get("execute_from", 0)),  # the runner checks it
        )

    def _lingbot_obs(self, obs: Observation) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for cam, img in obs.images.items():
            out[self.camera_keys.get(cam, f"observation.images.{cam}")] = img
        out["observation.state"] = np.asarray(obs.state)
        out["task"] = self._instruction
        return out

    def _keyframes(self, obs: Observation) -> list[dict[str, Any]]:
        """The frames observed during the last chunk, one per `per_frame / keyframes_per_frame` actions.

        Without per-step observations (a runner that does not call `observe`) only the final frame is
        known; it is repeated, which LingBot-VA's streaming encoder accepts but which is not what it was
        trained on (a documented gap).
        """
        assert self._lingbot_action is not None
        _, frames, per_frame = self._lingbot_action.shape
        executed = frames - 1 if self._chunks == 1 else frames
        stride = max(1, per_frame // self.settings.keyframes_per_frame)
        count = executed * (per_frame // stride)
        if len(self._steps) >= executed * per_frame:
            picked = [self._steps[(i + 1) * stride - 1] for i in range(count)]
        else:
            picked = [obs] * count
        return [self._lingbot_obs(o) for o in picked]

    def _act_lingbot(self, obs: Observation) -> ActionChunk:
        timings: dict[str, float] = {}
        rt = 0.0
        server_total = 0.0
        if self._lingbot_action is not None:
            msg = {
                "obs": self._keyframes(obs),
                "compute_kv_cache": True,
                "imagine": False,
                "state": self._lingbot_action,
            }
            reply, rt = self._timed_call(msg)
            encode = self._server_ms(reply)
            if encode is not None:
                timings["encode"] = encode
                server_total += encode
        first = self._chunks == 0
        reply, rt2 = self._timed_call({"obs": self._lingbot_obs(obs), "prompt": self._instruction})
        action = reply.get("action")
        if not isinstance(action, np.ndarray):
            raise AdapterError(f"LingBot-VA reply lacks 'action' (keys: {sorted(reply)})")
        self._lingbot_action = action
        infer = self._server_ms(reply)
        if infer is not None:
            server_total += infer
            timings["server_infer"] = server_total
            timings["total"] = server_total
        timings["round_trip"] = rt + rt2
        actions = self._actions(from_lingbot_actions(action).astype(np.float64))
        nfe = {k: v for k, v in (("video", self.spec.nfe_video), ("action", self.spec.nfe_action)) if v}
        device = str(self.client.metadata.get("device", "remote"))
        # Their clients skip latent frame 0 of an episode's first chunk (the observed frame).
        return ActionChunk(actions, timings, nfe, device, execute_from=action.shape[2] if first else 0)

    def _act_openpi(self, obs: Observation) -> ActionChunk:
        msg: dict[str, Any] = {}
        for cam, img in obs.images.items():
            msg[self.camera_keys.get(cam, f"observation/{cam}")] = img
        msg[self.settings.state_key] = np.asarray(obs.state, dtype=np.float32)
        msg["prompt"] = self._instruction
        reply, rt = self._timed_call(msg)
        # A wambench server adds its policy's stages; openpi's reports only its wall-clock infer_ms.
        timings = {str(k): float(v) for k, v in dict(reply.get("timings") or {}).items()}
        server = self._server_ms(reply)
        if server is not None:
            timings["server_infer"] = server
            timings.setdefault("total", server)
        timings["round_trip"] = rt
        return ActionChunk(
            self._actions(reply.get("actions")), timings, {}, str(reply.get("device", "remote"))
        )

    def close(self) -> None:
        self.client.close()


def _requested_spec(method: Any) -> PolicySpec:
    """What the config asked for; `method` is a WamMethod (or anything with its names)."""
    return PolicySpec(
        name=str(getattr(method, "policy_name", None) or getattr(method, "name", "remote")),
        method=str(getattr(method, "name", "remote")),
        nfe_video=getattr(method, "nfe_video", None),
        nfe_action=getattr(method, "nfe_action", None),
        backend="remote",
        checkpoint=getattr(method, "checkpoint", None),
        description=str(getattr(method, "description", "")),
    )


def build_remote_policy(method: Any, suite: Suite, options: Mapping[str, Any]) -> RemotePolicy:
    """The backend-registry entry: `method` names what the server must be serving (its policy name)."""
    return RemotePolicy(_requested_spec(method), suite, options)


def validate(method: Any, suite: Any, options: Mapping[str, Any]) -> PolicySpec:
    """The runner's pre-flight check: options, then one probe of the server, so that a server that is
    not up (or serves another policy) stops the run before any worker starts, not in every episode."""
    return probe(_requested_spec(method), suite, options)


class RemoteFactory:
    """A registry entry for servers that serve something wambench has no name for (LingBot-VA's own
    teacher, an openpi model): `policies: [{name: "harness.serving.remote:remote", options: {...}}]`.
    Its results are stored under the label the config gives it."""

    spec = PolicySpec("remote", "remote", backend="remote", description="a policy server over websocket")

    def build(self, suite: Suite, options: Mapping[str, Any]) -> RemotePolicy:
        return RemotePolicy(self.spec, suite, {"check_policy": False, **dict(options)})

    def validate(self, suite: Suite, options: Mapping[str, Any]) -> PolicySpec:
        return probe(self.spec, suite, {"check_policy": False, **dict(options)})


remote = RemoteFactory()

__all__ = [
    "DEFAULT_URL",
    "PROTOCOLS",
    "RemoteFactory",
    "RemotePolicy",
    "RemoteSettings",
    "build_remote_policy",
    "probe",
    "remote",
    "served_spec",
    "validate",
]
