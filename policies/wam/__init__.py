"""World-action-model policies: schedules, consistency functions, samplers, the per-chunk loop, and the
Flash-WAM paper's methods as data (methods.py). Backends (the networks) live in policies.backends.

The face a method author imports: a method is a `WamMethod` (one `StreamMethod` per modality, at one
NFE configuration), and `WamPolicyFactory(method)` is the policy factory a package registers. The
factory dispatches to the backends and so lives above them (policies/factory.py); it is re-exported
here lazily, on first use, so importing policies.wam never imports a backend.
"""

from __future__ import annotations

from typing import Any

from policies.wam.method import StreamMethod, WamMethod


def __getattr__(name: str) -> Any:
    if name == "WamPolicyFactory":
        from policies.factory import WamPolicyFactory

        return WamPolicyFactory
    raise AttributeError(f"module 'policies.wam' has no attribute {name!r}")


__all__ = ["StreamMethod", "WamMethod", "WamPolicyFactory"]
