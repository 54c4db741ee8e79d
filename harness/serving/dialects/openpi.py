"""openpi's protocol (`serve_policy.py`): `infer` with `observation/...` keys and `prompt`, reply
`actions`; the server keeps no episode state. Timings: its wall-clock `infer_ms` (a wambench server
adds its policy's stages)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.serving.dialects.base import Dialect
from harness.types import ActionChunk, EpisodeSpec, Observation


class OpenpiDialect(Dialect):
    _instruction = ""

    def reset(self, episode: EpisodeSpec, instruction: str) -> dict[str, Any] | None:
        self._instruction = instruction
        return None  # openpi servers keep no episode state

    def act(self, obs: Observation, steps: Sequence[Observation], chunk: int) -> ActionChunk:
        settings = self.link.settings
        msg: dict[str, Any] = {}
        for cam, img in obs.images.items():
            msg[settings.camera_keys.get(cam, f"observation/{cam}")] = img
        msg[settings.state_key] = np.asarray(obs.state, dtype=np.float32)
        msg["prompt"] = self._instruction
        reply, rt = self.timed_call(msg)
        timings = {str(k): float(v) for k, v in dict(reply.get("timings") or {}).items()}
        server = self.server_ms(reply)
        if server is not None:
            timings["server_infer"] = server
            timings.setdefault("total", server)
        timings["round_trip"] = rt
        return ActionChunk(
            self.actions(reply.get("actions")), timings, {}, str(reply.get("device", "remote"))
        )


__all__ = ["OpenpiDialect"]
