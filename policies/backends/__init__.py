"""WAM backends: name -> `module:attr` of a builder `(method, suite, options) -> Policy`, loaded lazily.

`tiny` is the built-in CPU model, `lingbot` a LingBot-VA / Flash-WAM checkpoint folder, `remote` a
policy server. A run selects one with the policy option `backend`; any `module:attr` string works too,
so a researcher's backend needs no registration here.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

from harness.errors import UserError
from harness.registry import load_object

BackendBuilder = Callable[[Any, Any, Mapping[str, Any]], Any]

BACKENDS: dict[str, str] = {
    "tiny": "policies.backends.tiny:build_tiny_policy",
    "remote": "policies.backends.remote:build_remote_policy",
    "lingbot": "policies.backends.lingbot:build_lingbot_policy",
}


def validate_backend(name: str, method: Any, suite: Any, options: Mapping[str, Any]) -> Any:
    """Run the backend module's optional `validate(method, suite, options) -> PolicySpec | None`.

    A backend module may define `validate` next to its builder: the checks a build would make, without
    loading weights or connecting anywhere, raising UserError on bad input. Without one, only the
    backend name is checked here and the build reports the rest.
    """
    import sys

    builder = get_backend(name)
    check = getattr(sys.modules.get(getattr(builder, "__module__", "")), "validate", None)
    return check(method, suite, options) if callable(check) else None


def register_backend(name: str, ref: str) -> None:
    BACKENDS[name] = ref


def get_backend(name: str) -> BackendBuilder:
    if name in BACKENDS:
        ref = BACKENDS[name]
    elif ":" in name:
        ref = name
    else:
        close = difflib.get_close_matches(name, list(BACKENDS), n=2, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UserError(f"unknown WAM backend '{name}'{hint} (have: {', '.join(BACKENDS)}, or 'module:attr')")
    builder = load_object(ref)
    if not callable(builder):
        raise UserError(f"backend '{name}' resolved to {builder!r}, which is not callable")
    return builder


__all__ = ["BACKENDS", "BackendBuilder", "get_backend", "register_backend", "validate_backend"]
