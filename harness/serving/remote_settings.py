"""The options of a `remote` policy (url, protocol, timeouts, camera keys), checked without the network.

Options that belong to the served policy rather than to the client (e.g. a WAM's NFE) are refused
with the fix (`wambench serve -o KEY=VALUE`): the adapter that knows the policy names them
(`policy_options`); the generic client knows none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import UserError
from harness.serving.client import WireClient
from harness.serving.dialects import DIALECTS
from harness.types import Suite

PROTOCOLS: tuple[str, ...] = tuple(DIALECTS)
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


def _number(options: Mapping[str, Any], key: str, default: float) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise UserError(f"remote option {key} must be a positive number of seconds, got {value!r}")
    return float(value)


def default_camera_keys(suite: Suite, protocol: str) -> Mapping[str, str]:
    """How the protocol's own clients name the suite's cameras, as the suite declares it
    (`client_camera_keys`: protocol -> suite camera -> key); {} where it declares none."""
    declared = getattr(suite, "client_camera_keys", None)
    keys = declared.get(protocol) if isinstance(declared, Mapping) else None
    return keys if isinstance(keys, Mapping) else {}


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
    def parse(
        cls, suite: Suite, options: Mapping[str, Any], policy_options: frozenset[str] = frozenset()
    ) -> RemoteSettings:
        served = sorted((set(options) & policy_options) - OPTIONS)
        if served:
            raise UserError(
                f"option(s) {', '.join(served)} belong to the server's policy, not the remote client: give "
                "them to `wambench serve -o KEY=VALUE` (the stored spec is what the server reports)"
            )
        unknown = sorted(set(options) - OPTIONS - policy_options)
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
        # wambench's own protocol names cameras as the suite does; its keys are the openpi ones, unused
        keys = options.get("camera_keys") or default_camera_keys(
            suite, "lingbot" if protocol == "lingbot" else "openpi"
        )
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


__all__ = ["DEFAULT_URL", "OPTIONS", "PROTOCOLS", "RemoteSettings", "default_camera_keys"]
