"""LIBERO's evaluation protocols: the values each profile puts into effect, read from what the env and
the manifest receive (the options a LiberoEnv is built with, the calls it makes on a stand-in
simulator, the episodes' step limits), not from the profile data. No simulator is needed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import suites.libero as libero_suites
from harness.config import SuiteConfig, parse_config
from harness.manifest import build_manifest, build_suite, entry_protocol
from harness.protocols import effective_options, record
from harness.types import EpisodeSpec
from suites.libero.catalog import find_task
from suites.libero.env import CAMERAS, LiberoEnv
from suites.libero.options import LiberoOptions
from suites.libero.suite import LiberoSuite

SUITES = ("libero_spatial", "libero_object", "libero_goal", "libero_10")
OPENPI_LIMITS = {"libero_spatial": 220, "libero_object": 280, "libero_goal": 300, "libero_10": 520}


class FakeSim:
    """Stands in for LIBERO's OffScreenRenderEnv: records what the env asks of it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.raw: dict[str, np.ndarray] = {
            f"{cam}_image": np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3) for cam in CAMERAS.values()
        }
        self.raw |= {
            "robot0_eef_pos": np.zeros(3),
            "robot0_eef_quat": np.array([0.0, 0.0, 0.0, 1.0]),
            "robot0_gripper_qpos": np.zeros(2),
        }

    def seed(self, seed: int) -> None:
        self.calls.append(("seed", seed))

    def reset(self) -> dict[str, np.ndarray]:
        self.calls.append(("reset", None))
        return self.raw

    def set_init_state(self, state: np.ndarray) -> dict[str, np.ndarray]:
        self.calls.append(("init", int(state[0])))
        return self.raw

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, dict[str, Any]]:
        self.calls.append(("step", action.tolist()))
        return self.raw, 0.0, False, {}


def options_under(suite: str, protocol: str | None, **options: Any) -> LiberoOptions:
    """The options the suite's envs are built with, through the harness's own path."""
    built = build_suite(SuiteConfig(name=suite, protocol=protocol, options=options))
    assert isinstance(built, LiberoSuite)
    return built.options


def reset_env(suite: str, protocol: str, index: int = 3) -> tuple[FakeSim, Any]:
    """One LiberoEnv reset on a stand-in simulator, with the options the protocol gives the suite."""
    built = build_suite(SuiteConfig(name=suite, protocol=protocol))
    assert isinstance(built, LiberoSuite)
    task = built.tasks()[0].id
    init_states = np.arange(50, dtype=float)[:, None] * np.ones((50, 2))
    sim = FakeSim()
    env = LiberoEnv.on_simulator(sim, built.name, find_task(built.name, task), built.options, init_states)
    obs = env.reset(EpisodeSpec(built.name, task, "default", index, index, built.options.max_steps))
    return sim, obs


@pytest.mark.parametrize("suite", SUITES)
def test_wait_steps(suite: str) -> None:
    for protocol, count, gripper in (("openpi", 10, -1.0), ("lingbot-va", 5, 0.0)):
        sim, _ = reset_env(suite, protocol)
        steps = [a for kind, a in sim.calls if kind == "step"]
        assert steps == [[0.0] * 6 + [gripper]] * count, protocol
        assert sim.calls.index(("init", 3)) < sim.calls.index(("step", steps[0]))  # after the init state


def test_step_limits() -> None:
    for protocol, limits in (("openpi", OPENPI_LIMITS), ("lingbot-va", dict.fromkeys(SUITES, 800))):
        cfg = parse_config(
            {"policies": ["p"], "suites": [{"name": s, "protocol": protocol} for s in SUITES], "episodes": 1}
        )
        manifest = build_manifest(cfg)
        assert {s.suite: s.max_steps for s in manifest.episodes} == limits, protocol


def test_image_flip() -> None:
    raw = FakeSim().raw["agentview_image"]
    _, both = reset_env("libero_goal", "openpi")
    _, rows = reset_env("libero_goal", "lingbot-va")
    assert np.array_equal(both.images["agentview"], raw[::-1, ::-1])
    assert np.array_equal(rows.images["agentview"], raw[::-1])


def test_env_seed() -> None:
    seeded, _ = reset_env("libero_object", "openpi", index=3)
    unseeded, _ = reset_env("libero_object", "lingbot-va", index=3)
    assert [c for c in seeded.calls if c[0] == "seed"] == [("seed", 7 + 3)]
    assert [c for c in unseeded.calls if c[0] == "seed"] == []  # LingBot-VA's client never seeds
    assert options_under("libero_object", "lingbot-va", env_seed=7).env_seed == 7  # paper/libero's pin


def test_episodes_per_task_when_the_run_does_not_say() -> None:
    for protocol in ("openpi", "lingbot-va"):
        cfg = parse_config({"policies": ["p"], "suites": [{"name": "libero_spatial", "protocol": protocol}]})
        per_task: dict[str, int] = {}
        for spec in build_manifest(cfg).episodes:
            per_task[spec.task] = per_task.get(spec.task, 0) + 1
        assert len(per_task) == 10 and set(per_task.values()) == {50}, protocol


def test_the_default_is_openpi_and_equals_the_suites_own_defaults() -> None:
    for suite in SUITES:
        assert options_under(suite, None) == options_under(suite, "openpi")
        assert getattr(libero_suites, suite)().options == options_under(suite, "openpi")


def test_an_override_is_recorded_with_its_profile() -> None:
    cfg = SuiteConfig(name="libero_10", protocol="lingbot-va", options={"max_steps": 64})
    entry = entry_protocol(cfg)
    suite = build_suite(cfg)
    rec = record(suite.name, entry, effective_options(suite, entry.options), 50, ["default"])
    assert rec is not None and (rec.protocol, rec.version) == ("lingbot-va", 1)
    assert rec.overrides == {"max_steps": {"profile": 800, "used": 64}}
    assert rec.values["num_steps_wait"] == 5 and rec.values["max_steps"] == 64
