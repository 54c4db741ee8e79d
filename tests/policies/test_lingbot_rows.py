"""In-process and remote LingBot-VA runs execute the same action rows (issue 11, defect 3).

LingBot-VA's first chunk predicts latent frame 0 too, but that frame is the observed one: its actions
are the zero condition (the quantile midpoints once decoded) and LingBot-VA's clients skip them. The
chunk's `execute_from` carries that from the network to the runner and to every server dialect, so an
episode run in-process, through `wambench serve` with the wambench protocol, and through the LingBot-VA
protocol steps the env with the same actions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from harness import registry
from harness.serving.remote import RemotePolicy
from harness.serving.server import PolicyServer
from harness.testing import EnvDefaults
from harness.types import EpisodeSpec, Observation, PolicySpec, StepResult
from harness.worker import run_episode
from policies.adapters import make_adapter
from policies.backends.lingbot_network import LingbotNetwork
from policies.wam.plan import resolve_plan
from policies.wam.policy import WamPolicy
from tests.policies.lingbot_double import VAServerDouble, libero_config, robotwin_config, to_patch

GEOMETRIES = {"libero_spatial": libero_config, "robotwin2": robotwin_config}


@dataclass
class LingbotDoubleFactory:
    """Builds a WamPolicy on LingbotNetwork over a fresh VA_Server double (deterministic: two builds
    give the same actions for the same episode and observations)."""

    config: Callable[[], SimpleNamespace]
    spec: PolicySpec = field(
        default_factory=lambda: PolicySpec("flash-wam-1v1a", "flash-wam", 1, 1, "lingbot")
    )
    servers: list[VAServerDouble] = field(default_factory=list)

    def build(self, suite: Any, options: Mapping[str, Any]) -> WamPolicy:
        self.servers.append(VAServerDouble(self.config()))
        network = LingbotNetwork(self.servers[-1], to_patch)
        method = registry.policies.get("flash-wam-1v1a").method
        plan = resolve_plan(method, suite, {"device": "cpu"})
        q01, q99 = network.action_quantiles()
        adapter = make_adapter(suite.action_space, q01, q99, channels=network.used_channels)
        details = {"actions_per_frame": network.per_frame}
        return WamPolicy(
            network,
            plan,
            adapter,
            PolicySpec("flash-wam-1v1a", "flash-wam", 1, 1, "lingbot", details=details),
        )


class RecordingEnv(EnvDefaults):
    """Observations of the suite's cameras that change every step; records every action it is given."""

    def __init__(self, suite: Any) -> None:
        self.cameras = dict(suite.camera_shapes)
        self.state_dim = int(suite.state_dim)
        self.steps = 0
        self.actions: list[np.ndarray] = []

    def _obs(self) -> Observation:
        rng = np.random.default_rng(self.steps)
        images = {c: rng.integers(0, 256, s, dtype=np.uint8) for c, s in self.cameras.items()}
        return Observation(images, rng.standard_normal(self.state_dim), "pick up the bowl")

    def reset(self, episode: EpisodeSpec) -> Observation:
        self.steps, self.actions = 0, []
        return self._obs()

    def step(self, action: np.ndarray) -> StepResult:
        self.actions.append(np.array(action, dtype=np.float64))
        self.steps += 1
        return StepResult(self._obs(), False)


def _run(env: RecordingEnv, policy: Any, suite: Any, steps: int) -> np.ndarray:
    spec = EpisodeSpec(suite.name, "t", "default", 0, 0, steps, noise_seed=1234)
    record = run_episode(env, policy, spec, suite.action_space, policy_id="p", instruction="pick up the bowl")
    assert record.outcome == "failure" and record.error is None, record.error
    return np.stack(env.actions)


@pytest.mark.parametrize("suite_name", sorted(GEOMETRIES))
def test_in_process_and_remote_lingbot_runs_execute_the_same_rows(suite_name: str) -> None:
    suite = registry.suites.get(suite_name)()
    factory = LingbotDoubleFactory(GEOMETRIES[suite_name])
    geometry = factory.config()
    per_frame, rows = geometry.action_per_frame, geometry.frame_chunk_size * geometry.action_per_frame
    steps = (rows - per_frame) + rows + per_frame  # 3 chunks: the first without its frame 0
    local_policy = factory.build(suite, {})
    local = _run(RecordingEnv(suite), local_policy, suite, steps)
    # frame 0 of the first chunk (normalised zero: the quantile midpoints) is not what runs first
    midpoint = local_policy.adapter(np.zeros((1, 30)))[0]
    assert not np.allclose(local[:per_frame], midpoint, atol=1e-4)

    key_frames = factory.servers[0].kv_updates  # (frame, state shape, key-frame levels) per update
    server = PolicyServer(factory, suite=suite_name, port=0).start()
    try:
        for protocol in ("lingbot", "wambench"):
            remote = RemotePolicy(
                factory.spec, suite, {"url": server.url, "protocol": protocol, "check_policy": False}
            )
            try:
                got = _run(RecordingEnv(suite), remote, suite, steps)
            finally:
                remote.close()
            assert got.shape == local.shape == (steps, suite.action_space.dim)
            assert np.allclose(got, local, atol=1e-5), protocol  # float32 on LingBot-VA's wire
            # the server's network saw the same key frames as the in-process one
            assert factory.servers[-1].kv_updates == key_frames, protocol
    finally:
        server.shutdown()

    # what the network planned for the first chunk: frame 0 decodes to the quantile midpoints
    probe = factory.build(suite, {})
    probe.reset(EpisodeSpec(suite.name, "t", "default", 0, 0, steps, noise_seed=1234), "pick up the bowl")
    first = probe.act(RecordingEnv(suite).reset(EpisodeSpec(suite.name, "t", "default", 0, 0, 1)))
    assert first.execute_from == per_frame
    assert np.array_equal(local[: rows - per_frame], first.actions[per_frame:])  # frame 0 never ran
