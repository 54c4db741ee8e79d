"""LingBot-VA's protocol (`wan_va_server.py`, and the Flash-WAM server built on it): `reset`, then per
chunk `obs` -> `action [channels, frames, per_frame]`, and after each chunk the observed key frames with
`compute_kv_cache`. Timings: only its wall-clock `infer_ms` (not CUDA-synchronised) as `total`, the
key-frame call as `encode`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.serving.adapters import AdapterError, from_lingbot_actions
from harness.serving.dialects.base import Dialect
from harness.types import ActionChunk, EpisodeSpec, Observation


class LingbotDialect(Dialect):
    collects_steps = True
    _instruction = ""
    _action: np.ndarray | None = None  # the last chunk's reply, sent back with its key frames

    def reset(self, episode: EpisodeSpec, instruction: str) -> dict[str, Any] | None:
        self._instruction, self._action = instruction, None
        # `seed` is ours: LingBot-VA's server ignores it, a wambench server seeds the episode with it.
        return {"reset": True, "prompt": instruction, "seed": episode.noise_seed}

    def _obs(self, obs: Observation) -> dict[str, Any]:
        keys = self.link.settings.camera_keys
        out: dict[str, Any] = {}
        for cam, img in obs.images.items():
            out[keys.get(cam, f"observation.images.{cam}")] = img
        out["observation.state"] = np.asarray(obs.state)
        out["task"] = self._instruction
        return out

    def _keyframes(self, obs: Observation, steps: Sequence[Observation], chunk: int) -> list[dict[str, Any]]:
        """The frames observed during the last chunk, one per `per_frame / keyframes_per_frame` actions.

        Without per-step observations (a runner that does not call `observe`) only the final frame is
        known; it is repeated, which LingBot-VA's streaming encoder accepts but which is not what it was
        trained on (a documented gap).
        """
        assert self._action is not None
        _, frames, per_frame = self._action.shape
        executed = frames - 1 if chunk == 1 else frames
        stride = max(1, per_frame // self.link.settings.keyframes_per_frame)
        count = executed * (per_frame // stride)
        if len(steps) >= executed * per_frame:
            picked = [steps[(i + 1) * stride - 1] for i in range(count)]
        else:
            picked = [obs] * count
        return [self._obs(o) for o in picked]

    def act(self, obs: Observation, steps: Sequence[Observation], chunk: int) -> ActionChunk:
        timings: dict[str, float] = {}
        rt = 0.0
        server_total = 0.0
        if self._action is not None:
            msg = {
                "obs": self._keyframes(obs, steps, chunk),
                "compute_kv_cache": True,
                "imagine": False,
                "state": self._action,
            }
            reply, rt = self.timed_call(msg)
            encode = self.server_ms(reply)
            if encode is not None:
                timings["encode"] = encode
                server_total += encode
        first = chunk == 0
        reply, rt2 = self.timed_call({"obs": self._obs(obs), "prompt": self._instruction})
        action = reply.get("action")
        if not isinstance(action, np.ndarray):
            raise AdapterError(f"LingBot-VA reply lacks 'action' (keys: {sorted(reply)})")
        self._action = action
        infer = self.server_ms(reply)
        if infer is not None:
            server_total += infer
            timings["server_infer"] = server_total
            timings["total"] = server_total
        timings["round_trip"] = rt + rt2
        actions = self.actions(from_lingbot_actions(action).astype(np.float64))
        spec = self.link.spec
        nfe = {k: v for k, v in (("video", spec.nfe_video), ("action", spec.nfe_action)) if v}
        device = str(self.link.client.metadata.get("device", "remote"))
        # Their clients skip latent frame 0 of an episode's first chunk (the observed frame).
        return ActionChunk(actions, timings, nfe, device, execute_from=action.shape[2] if first else 0)


__all__ = ["LingbotDialect"]
