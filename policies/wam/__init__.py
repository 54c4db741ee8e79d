"""World-action-model policies: schedules, consistency functions, samplers, the per-chunk loop, and the
Flash-WAM paper's methods as data (methods.py). Backends (the networks) live in policies.backends.

The face a method author imports: a method is a `WamMethod` (one `StreamMethod` per modality, at one
NFE configuration), and `WamPolicyFactory(method)` is the policy factory a package registers.
"""

from __future__ import annotations

from policies.wam.factory import WamPolicyFactory
from policies.wam.method import StreamMethod, WamMethod

__all__ = ["StreamMethod", "WamMethod", "WamPolicyFactory"]
