"""wambench's own protocol (`wambench serve`): the whole EpisodeSpec at reset, so the server's policy
draws the same noise as an in-process one would (same seed, same actions); every observed frame before
the next `act` (its policy keeps what it keeps, as in-process); the policy's own stage timings back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.serving.dialects.base import Dialect
from harness.serving.session import PROTOCOL_VERSION, episode_to_wire, observation_to_wire
from harness.types import ActionChunk, EpisodeSpec, Observation


class WambenchDialect(Dialect):
    collects_steps = True

    def reset(self, episode: EpisodeSpec, instruction: str) -> dict[str, Any] | None:
        return {
            "wambench": PROTOCOL_VERSION,
            "kind": "reset",
            "episode": episode_to_wire(episode),
            "instruction": instruction,
        }

    def act(self, obs: Observation, steps: Sequence[Observation], chunk: int) -> ActionChunk:
        client = self.link.client
        for step in steps:
            client.call({"wambench": PROTOCOL_VERSION, "kind": "observe", **observation_to_wire(step)})
        reply, rt = self.timed_call({"wambench": PROTOCOL_VERSION, "kind": "act", **observation_to_wire(obs)})
        timings = {str(k): float(v) for k, v in dict(reply.get("timings") or {}).items()}
        server = self.server_ms(reply)
        if server is not None:
            timings["server_infer"] = server
        timings["round_trip"] = rt
        nfe = {str(k): int(v) for k, v in dict(reply.get("nfe") or {}).items()}
        return ActionChunk(
            self.actions(reply.get("actions")),
            timings,
            nfe,
            str(reply.get("device", "remote")),
            execute_from=int(reply.get("execute_from", 0)),  # the runner checks it
        )


__all__ = ["WambenchDialect"]
