"""wambench's LingBot-VA backend (LingbotNetwork) on RoboTwin observations as strict as RoboTwin's.

LingbotNetwork keeps every step's observation (the runner's per-step `observe`) and reads the chunk's
key frames when the next chunk starts (LingBot-VA's compute_kv_cache). The real VA_Server needs the
checkpoint and CUDA, so VAServerDouble (tests/policies/test_lingbot_network.py) stands in for it, here
in RoboTwin's geometry: 2 latent frames of 16 actions, three cameras, 16 of 30 action channels.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from harness import registry
from harness.types import PolicySpec
from harness.worker import run_episode
from policies.adapters import make_adapter
from policies.backends.lingbot_network import LingbotNetwork
from policies.wam.plan import resolve_plan
from policies.wam.policy import WamPolicy
from tests.policies import lingbot_double
from tests.policies.lingbot_double import ROBOTWIN_USED as USED
from tests.policies.test_lingbot_network import VAServerDouble, to_patch


def robotwin_config() -> SimpleNamespace:
    """lingbot_double's RoboTwin geometry with RoboTwin's own action ranges (metres and quaternions)."""
    cfg = lingbot_double.robotwin_config()
    q01 = [-0.05] * 3 + [-1.0] * 4 + [-0.05] * 3 + [-1.0] * 4 + [0.0] * 16
    q99 = [0.05] * 3 + [1.0] * 4 + [0.05] * 3 + [1.0] * 4 + [0.0] * 14 + [1.0, 1.0]
    cfg.env_type, cfg.norm_stat = "none", {"q01": q01, "q99": q99}
    return cfg


class RobotwinServerDouble(VAServerDouble):
    """VAServerDouble with RoboTwin's 16 used channels (the parent's (de)normalisation is LIBERO's 7)."""

    def preprocess_action(self, action: np.ndarray) -> torch.Tensor:
        padded = torch.nn.functional.pad(torch.from_numpy(action), [0, 0, 0, 0, 0, 1])
        inverse = [len(USED)] * 30
        for i, j in enumerate(USED):
            inverse[j] = i
        return ((padded[inverse] - self.actions_q01) / (self.actions_q99 - self.actions_q01 + 1e-6) * 2 - 1)[
            None, ..., None
        ]

    def postprocess_action(self, action: torch.Tensor) -> np.ndarray:
        a = action[0, ..., 0]
        a = (a + 1) / 2 * (self.actions_q99 - self.actions_q01 + 1e-6) + self.actions_q01
        return a.numpy()[USED]


def test_a_lingbot_network_runs_chunks_on_robotwin_observations(make_suite: Any) -> None:
    suite = make_suite()
    network = LingbotNetwork(RobotwinServerDouble(robotwin_config()), to_patch)
    method = registry.policies.get("flash-wam-1v1a").method
    plan = resolve_plan(method, suite, {"device": "cpu"})
    q01, q99 = network.action_quantiles()
    adapter = make_adapter(suite.action_space, q01, q99, channels=network.used_channels)
    policy = WamPolicy(network, plan, adapter, PolicySpec("flash-wam-1v1a", method.name, backend="lingbot"))
    env = suite.make_env("adjust_bottle", "clean")
    spec = dataclasses.replace(suite.episodes("adjust_bottle", "clean", 1)[0], max_steps=100)
    try:
        record = run_episode(env, policy, spec, suite.action_space, policy_id="lingbot-double")
    finally:
        env.close()
    assert record.error is None and record.outcome == "failure" and record.steps == 100
    assert len(record.chunks) >= 3
    updates = network.server.kv_updates  # type: ignore[attr-defined]
    assert len(updates) == len(record.chunks) - 1  # every later chunk fed the key frames in
    # Each key frame shows its own step (the double's head pixel is the step count): every 4th step
    # (16 actions per latent frame, 4 video frames each), in order, none read later than its step.
    levels = [level for _, _, chunk_levels in updates for level in chunk_levels]
    assert levels == sorted(set(levels)) and all(level % 4 == 0 for level in levels)
    assert 0 < levels[-1] < record.steps
