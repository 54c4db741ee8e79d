"""Backend `remote` of the WAM factory: the method's policy, served by a policy server.

The client itself (connection, the wambench / LingBot-VA / openpi dialects, reconnects, failures) is
generic: harness/serving/remote.py. This adapter adds what only the WAM factory knows: the spec the
config asked for (the method's name, NFE, checkpoint), and which options belong to the served policy
rather than to the client (a WAM's NFE, samplers, shifts: given to `wambench serve -o`, refused here
with that fix). Options: see policies/backends/README.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.serving.remote import RemotePolicy, probe
from harness.serving.remote_settings import RemoteSettings
from harness.types import PolicySpec, Suite
from policies.wam.plan import COMMON_OPTIONS

# The factory adds the method's own checkpoint to every build; the server's policy has its own.
_FACTORY_ADDED = ("checkpoint",)


def _client_options(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k not in _FACTORY_ADDED}


def parse_settings(suite: Suite, options: Mapping[str, Any]) -> RemoteSettings:
    """The remote options as the WAM backend checks them (the served WAM's options refused)."""
    return RemoteSettings.parse(suite, _client_options(options), COMMON_OPTIONS)


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
    return RemotePolicy(_requested_spec(method), suite, _client_options(options), COMMON_OPTIONS)


def validate(method: Any, suite: Any, options: Mapping[str, Any]) -> PolicySpec:
    """The runner's pre-flight check: options, then one probe of the server, so that a server that is
    not up (or serves another policy) stops the run before any worker starts, not in every episode."""
    return probe(_requested_spec(method), suite, _client_options(options), COMMON_OPTIONS)


__all__ = ["build_remote_policy", "parse_settings", "validate"]
