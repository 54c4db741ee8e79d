"""What every client dialect of a `remote` policy shares: the link it talks through, and the checks of
a reply's actions and timings."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from harness.serving.adapters import AdapterError
from harness.types import ActionChunk, EpisodeSpec, Observation, PolicySpec, Suite

if TYPE_CHECKING:
    from harness.serving.client import WireClient
    from harness.serving.remote_settings import RemoteSettings


class Link(Protocol):
    """What a dialect reads of its `RemotePolicy`: the connection, the options, the suite, the spec."""

    client: WireClient
    settings: RemoteSettings
    suite: Suite
    spec: PolicySpec


class Dialect:
    """One protocol's client side, with its per-episode state. `reset` returns the message that
    starts an episode (None: the protocol keeps no episode state); `act` asks for one chunk, given the
    frames observed since the last one (kept only where `collects_steps`) and the chunk's index."""

    collects_steps = False

    def __init__(self, link: Link) -> None:
        self.link = link

    def reset(self, episode: EpisodeSpec, instruction: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def act(self, obs: Observation, steps: Sequence[Observation], chunk: int) -> ActionChunk:
        raise NotImplementedError

    # -- shared by the dialects -----------------------------------------------------------------
    def timed_call(self, msg: dict[str, Any]) -> tuple[dict[str, Any], float]:
        t0 = time.perf_counter()
        reply = self.link.client.call(msg)
        return reply, (time.perf_counter() - t0) * 1000.0

    @staticmethod
    def server_ms(reply: Mapping[str, Any]) -> float | None:
        timing = reply.get("server_timing")
        if isinstance(timing, Mapping) and isinstance(timing.get("infer_ms"), (int, float)):
            return float(timing["infer_ms"])
        return None

    def actions(self, raw: Any) -> np.ndarray:
        actions = np.asarray(raw)
        if actions.ndim != 2 or actions.dtype.kind != "f":
            raise AdapterError(f"actions must be a [T, D] float array, got {actions.shape} {actions.dtype}")
        suite = self.link.suite
        dim = suite.action_space.dim
        if actions.shape[1] != dim:
            raise AdapterError(f"actions have {actions.shape[1]} channels; suite '{suite.name}' takes {dim}")
        return actions


__all__ = ["Dialect", "Link"]
