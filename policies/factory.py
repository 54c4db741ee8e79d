"""One generic PolicyFactory for every WAM method, and the paper's methods registered through it.

The method is data (policies/wam/methods.py), the backend an option (policies/backends/). The factory
dispatches to the backends, which build on policies/wam, so it sits above both: nothing in
policies/wam imports it or a backend. The `wambench.policies` entry points (pyproject.toml) name the
factories at the end of this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from harness.errors import UserError
from harness.types import Policy, PolicySpec
from policies.wam import methods
from policies.wam.method import WamMethod

if TYPE_CHECKING:  # the serving package imports websockets: only a server needs it
    from harness.serving.sharing import BatchSettings, SharedSessions

DEFAULT_BACKEND = "tiny"
SUITE_DEFAULTS = "suite default (LIBERO 5 / 0.05, RoboTwin 5 / 1)"


def _static_spec(method: WamMethod) -> PolicySpec:
    """What `wambench list policies` shows, before any suite or option is known."""

    def per_stream(video: Any, action: Any, default: str) -> str:
        return default if video is None and action is None else f"video {video} / action {action}"

    details = {
        "samplers": method.samplers_label(),
        "consistency": f"video {method.video.consistency or '-'} / action {method.action.consistency or '-'}",
        "distilled": f"video {method.video.trained_as} / action {method.action.trained_as}",
        "shifts": per_stream(method.video.shift, method.action.shift, SUITE_DEFAULTS),
        "cfg": per_stream(method.video.cfg, method.action.cfg, "video 5 / action 1"),
        "sampler_options": "sampler: default | euler | consistency (see policies/wam/plan.py)",
        # The default backend has no trained weights: until a checkpoint is given, say so everywhere.
        "trained": False,
        "paper": method.paper,
    }
    return PolicySpec(
        name=method.policy_name,
        method=method.name,
        nfe_video=method.nfe_video,
        nfe_action=method.nfe_action,
        backend=DEFAULT_BACKEND,
        checkpoint=method.checkpoint,
        description=method.description,
        details=details,
    )


class WamPolicyFactory:
    """A `PolicyFactory` (harness.types) for a `WamMethod`; `build` hands off to the chosen backend."""

    def __init__(self, method: WamMethod) -> None:
        self.method = method
        self.spec = _static_spec(method)

    def _options(self, options: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
        opts = dict(options or {})
        if self.method.checkpoint is not None:
            opts.setdefault("checkpoint", self.method.checkpoint)
        backend = opts.get("backend") or DEFAULT_BACKEND
        if not isinstance(backend, str):
            raise UserError(f"option backend must be a name, got {backend!r}")
        return backend, opts

    def build(self, suite: Any, options: Mapping[str, Any]) -> Policy:
        from policies.backends import get_backend

        backend, opts = self._options(options)
        policy: Policy = get_backend(backend)(self.method, suite, opts)
        return policy

    def validate(self, suite: Any, options: Mapping[str, Any]) -> PolicySpec | None:
        """Check a run's options for this suite in the main process, before any worker starts.

        Delegates to the backend's cheap check (`policies.backends.validate_backend`); returns the spec
        the built policy will have (resolved NFE, samplers, shifts, checkpoint, trained), or None where
        the backend cannot say without its weights or server.
        """
        from policies.backends import validate_backend

        backend, opts = self._options(options)
        return validate_backend(backend, self.method, suite, opts)

    def request_observations(self, suite: Any) -> int:
        """The most observations one client request carries for this suite (a server sizes its frame
        limit with it, harness/serving/sizing.py): LingBot-VA's key frames of one chunk."""
        from harness.serving.sizing import KEYFRAMES_PER_LATENT_FRAME
        from policies.wam.profiles import profile_for

        return profile_for(suite).frames_per_chunk * KEYFRAMES_PER_LATENT_FRAME

    def shared_sessions(self, template: Policy, settings: BatchSettings) -> SharedSessions | None:
        """A server's sessions on `template`'s network, their velocity calls batched on one device
        thread (policies/serving/batching.py); None where `template` cannot share (remote backend)."""
        from policies.serving.batching import share

        return share(template, settings)

    def __repr__(self) -> str:
        return f"WamPolicyFactory({self.method.policy_name})"


# -- the paper's methods, registered ------------------------------------------------------------------
# The `wambench.policies` entry point `wam` names this table: every method's policy name -> its factory.
POLICIES: dict[str, WamPolicyFactory] = {m.policy_name: WamPolicyFactory(m) for m in methods.ALL_METHODS}

__all__ = ["DEFAULT_BACKEND", "POLICIES", "WamPolicyFactory"]
