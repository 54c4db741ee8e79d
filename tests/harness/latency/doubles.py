"""A test double of a WAM policy whose per-chunk cost is known, standing in where the real policies
(policies/wam) are not the point: it follows the Policy contract (reset/act/close, StageTimer stages,
NFE with CFG counted twice) and spends a controlled busy-wait per network evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from harness.testing import spin
from harness.timing import StageTimer
from harness.types import ActionChunk, EpisodeSpec, Observation, PolicySpec


@dataclass
class CostDoublePolicy:
    spec: PolicySpec
    c0_ms: float
    video_eval_ms: float
    action_eval_ms: float
    cfg_video: bool
    cold_extra_ms: float
    action_dim: int
    resets: list[EpisodeSpec] = field(default_factory=list)
    calls: int = 0

    def reset(self, episode: EpisodeSpec, instruction: str) -> None:
        self.resets.append(episode)

    def act(self, obs: Observation) -> ActionChunk:
        assert obs.images and obs.state.ndim == 1
        nv = (self.spec.nfe_video or 1) * (2 if self.cfg_video else 1)
        na = self.spec.nfe_action or 1
        timer = StageTimer("cpu")
        with timer:
            with timer.stage("encode"):
                spin(self.c0_ms / 2 + (self.cold_extra_ms if self.calls == 0 else 0.0))
            with timer.stage("video"):
                for _ in range(nv):
                    spin(self.video_eval_ms)
            with timer.stage("action"):
                for _ in range(na):
                    spin(self.action_eval_ms)
            with timer.stage("decode"):
                spin(self.c0_ms / 2)
        self.calls += 1
        return ActionChunk(np.zeros((4, self.action_dim)), dict(timer.timings), {"video": nv, "action": na})

    def close(self) -> None:
        pass


@dataclass
class CostDoubleFactory:
    """Registered as a policy in tests; honours the options contract (device, dtype, nfe overrides)."""

    spec: PolicySpec
    c0_ms: float = 1.0
    video_eval_ms: float = 0.3
    action_eval_ms: float = 0.1
    cfg_video: bool = True
    cold_extra_ms: float = 5.0
    built: list[Mapping[str, Any]] = field(default_factory=list)

    def build(self, suite: Any, options: Mapping[str, Any]) -> CostDoublePolicy:
        self.built.append(dict(options))
        spec = replace(
            self.spec,
            nfe_video=int(options.get("nfe_video", self.spec.nfe_video)),
            nfe_action=int(options.get("nfe_action", self.spec.nfe_action)),
        )
        return CostDoublePolicy(
            spec,
            self.c0_ms,
            self.video_eval_ms,
            self.action_eval_ms,
            self.cfg_video,
            self.cold_extra_ms,
            suite.action_space.dim,
        )


def double_factory(
    name: str = "cost-double", nfe: tuple[int, int] = (25, 50), **kw: Any
) -> CostDoubleFactory:
    return CostDoubleFactory(PolicySpec(name, "double", nfe[0], nfe[1], backend="double"), **kw)
