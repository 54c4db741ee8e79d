"""Many sessions on one network: what a policy factory may offer a server, and the server's settings.

A server gives every connection its own Policy. A factory whose policies can share one network
between sessions (the WAM factory: sessions taking turns on one network, batching their calls) offers that
through an optional method,

    factory.shared_sessions(template: Policy, settings: BatchSettings) -> SharedSessions | None

given a policy it built for the suite (the template, whose network is shared). It returns None where
that policy cannot share its network; a factory without the method never shares. Either way the
server then builds one policy per connection. The server knows no policy: it only asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from harness.types import Policy

DEFAULT_MAX_BATCH_SIZE = 16
DEFAULT_MAX_WAIT_MS = 2.0


@dataclass(frozen=True)
class BatchSettings:
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    max_wait_ms: float = DEFAULT_MAX_WAIT_MS

    def __post_init__(self) -> None:
        if self.max_batch_size < 1 or self.max_wait_ms < 0:
            raise ValueError("max_batch_size must be >= 1 and max_wait_ms >= 0")


class SharedSessions(Protocol):
    """Sessions on one shared network: `session()` is a fresh Policy for one connection."""

    @property
    def batch_sizes(self) -> Mapping[int, int]:
        """Batches run so far, by size (for benchmarks and tests)."""
        ...

    def session(self) -> Policy: ...

    def close(self) -> None: ...


def shared_sessions(factory: Any, template: Policy, settings: BatchSettings) -> SharedSessions | None:
    """What `factory` offers for sharing `template`'s network, or None (one policy per connection)."""
    offer = getattr(factory, "shared_sessions", None)
    if not callable(offer):
        return None
    shared: SharedSessions | None = offer(template, settings)
    return shared


__all__ = [
    "DEFAULT_MAX_BATCH_SIZE",
    "DEFAULT_MAX_WAIT_MS",
    "BatchSettings",
    "SharedSessions",
    "shared_sessions",
]
