"""WAM backends: name -> `module:attr` of a builder `(method, suite, options) -> Policy`, loaded lazily.

`tiny` is the built-in CPU model, `lingbot` a LingBot-VA / Flash-WAM checkpoint folder, `remote` a
policy server. A run selects one with the policy option `backend`; any `module:attr` string works too,
so a researcher's backend needs no registration here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from harness.registry import Registry

BackendBuilder = Callable[[Any, Any, Mapping[str, Any]], Any]

BACKENDS: Registry[BackendBuilder] = Registry("WAM backend", check=callable)
BACKENDS.register("tiny", "policies.backends.tiny:build_tiny_policy")
BACKENDS.register("remote", "policies.backends.remote:build_remote_policy")
BACKENDS.register("lingbot", "policies.backends.lingbot:build_lingbot_policy")


@runtime_checkable
class ValidatesBackend(Protocol):
    """Optional on a backend's module, next to its builder: the checks a build would make, without
    loading weights or connecting anywhere, raising UserError on bad input; returns the spec the
    built policy will have, or None where it cannot say."""

    def validate(self, method: Any, suite: Any, options: Mapping[str, Any]) -> Any: ...


def validate_backend(name: str, method: Any, suite: Any, options: Mapping[str, Any]) -> Any:
    """Run the backend module's `validate(method, suite, options) -> PolicySpec | None` if it has one
    (ValidatesBackend). Without one, only the backend name is checked here and the build reports the
    rest."""
    module = sys.modules.get(getattr(get_backend(name), "__module__", ""))
    return module.validate(method, suite, options) if isinstance(module, ValidatesBackend) else None


def register_backend(name: str, ref: str) -> None:
    BACKENDS.register(name, ref)


def get_backend(name: str) -> BackendBuilder:
    """A registered backend or a `module:attr` builder; unknown names suggest the closest."""
    return BACKENDS.get(name)


__all__ = [
    "BACKENDS",
    "BackendBuilder",
    "ValidatesBackend",
    "get_backend",
    "register_backend",
    "validate_backend",
]
