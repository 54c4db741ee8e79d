"""The LIBERO env on the real simulator (MuJoCo + robosuite, offscreen rendering), one shared env.

Task: libero_object's first task, "pick up the alphabet soup and place it in the basket"; its goal
predicate is (In alphabet_soup_1 basket_1_contain_region).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import suites.libero as libero_suites
from harness.types import EpisodeError, EpisodeSpec, Observation
from suites.libero.env import LiberoEnv

pytestmark = pytest.mark.sim

SOUP = "alphabet_soup_1"


@pytest.fixture(scope="module")
def suite() -> Any:
    # Rows-only flip: test_images_are_upright checks the true camera view (the default, `openpi`,
    # also mirrors left-right).
    return libero_suites.libero_object(image_flip="vertical")


@pytest.fixture(scope="module")
def env(suite: Any) -> Iterator[LiberoEnv]:
    built = suite.make_env(suite.tasks()[0].id, "default")
    yield built
    built.close()


def spec(suite: Any, i: int) -> EpisodeSpec:
    return suite.episodes(suite.tasks()[0].id, "default", i + 1)[i]


def move_object(env: LiberoEnv, name: str, position: np.ndarray) -> None:
    """Teleport a free-jointed object (position only) through the simulator state."""
    inner = env._env.env
    joint = inner.objects_dict[name].joints[-1]
    qpos = np.array(env.sim.data.get_joint_qpos(joint))
    qpos[:3] = position
    env.sim.data.set_joint_qpos(joint, qpos)
    env.sim.data.set_joint_qvel(joint, np.zeros(6))
    env.sim.forward()


def same(a: Observation, b: Observation) -> bool:
    return (
        all(np.array_equal(a.images[k], b.images[k]) for k in ("agentview", "wrist"))
        and np.array_equal(a.state, b.state)
        and a.instruction == b.instruction
    )


def test_reset_with_the_same_init_state_is_identical(suite: Any, env: LiberoEnv) -> None:
    rng_before = np.random.get_state()[1].copy()
    first = env.reset(spec(suite, 1))
    assert np.array_equal(np.random.get_state()[1], rng_before)  # reset leaves the global RNG alone
    other = env.reset(spec(suite, 2))
    again = env.reset(spec(suite, 1))
    assert same(first, again)
    assert not np.array_equal(first.state, other.state)  # a different init state is a different scene
    assert set(first.images) == {"agentview", "wrist"}
    for image in first.images.values():
        assert image.dtype == np.uint8 and image.shape == (128, 128, 3)
    assert first.state.shape == (8,) and np.all(np.isfinite(first.state))
    assert first.instruction == "pick up the alphabet soup and place it in the basket"
    assert env.episode_info()["policy_steps"] == 0  # the wait steps are not policy steps


def pinhole_pixel(env: LiberoEnv, camera: str, point: np.ndarray, size: int) -> tuple[float, float]:
    """Where a world point lands in an upright image of an ideal camera with MuJoCo's pose and fovy.

    MuJoCo cameras look along their -z axis with +y up and +x right, so an upright image has u growing
    with camera x and v growing with -camera y.
    """
    model, data = env.sim.model, env.sim.data
    cam = model.camera_name2id(camera)
    rotation = np.asarray(data.cam_xmat[cam]).reshape(3, 3)
    local = rotation.T @ (point - np.asarray(data.cam_xpos[cam]))
    focal = 0.5 * size / np.tan(np.deg2rad(model.cam_fovy[cam]) / 2)
    return size / 2 + focal * local[0] / -local[2], size / 2 - focal * local[1] / -local[2]


def test_images_are_upright(suite: Any, env: LiberoEnv) -> None:
    """Place the soup can at known points in front of the agentview camera, and find it in the image
    (pixels that change against the can hidden under the floor): it must sit where an ideal upright
    camera sees that point. Two points, upper right and lower left, so a flip of either axis fails."""
    env.reset(spec(suite, 0))
    model, data = env.sim.model, env.sim.data
    cam = model.camera_name2id("agentview")
    rotation = np.asarray(data.cam_xmat[cam]).reshape(3, 3)
    origin = np.asarray(data.cam_xpos[cam]).copy()
    move_object(env, SOUP, np.array([0.0, 0.0, -5.0]))
    hidden = env.observe().images["agentview"].astype(int)
    for offset in ([0.2, 0.15, -0.8], [-0.25, -0.1, -0.8]):
        target = origin + rotation @ np.array(offset)
        move_object(env, SOUP, target)
        image = env.observe().images["agentview"].astype(int)
        rows, cols = np.nonzero(np.abs(image - hidden).sum(-1) > 30)
        assert rows.size > 50, "the can should cover a visible patch"
        u, v = pinhole_pixel(env, "agentview", target, 128)
        assert abs(cols.mean() - u) < 4 and abs(rows.mean() - v) < 4
        assert abs((127 - cols.mean()) - u) > 20  # the mirrored ("both") convention would put it elsewhere


def test_success_comes_from_the_goal_predicate_and_latches(suite: Any, env: LiberoEnv) -> None:
    env.reset(spec(suite, 0))
    noop = np.array([0, 0, 0, 0, 0, 0, -1.0])
    assert env.step(noop).success is False
    basket_region = np.array(env.sim.data.get_site_xpos("basket_1_contain_region"))
    move_object(env, SOUP, basket_region + np.array([0.0, 0.0, 0.03]))
    result = env.step(noop)
    assert result.success is True and env.check_success()
    move_object(env, SOUP, basket_region + np.array([0.0, -0.4, 0.05]))  # out of the basket again
    result = env.step(noop)
    assert not env.check_success()
    assert result.success is True  # latched for the rest of the episode
    assert env.reset(spec(suite, 0)) is not None and env.step(noop).success is False  # a new episode


def test_actions_are_checked_and_out_of_range_counted(suite: Any, env: LiberoEnv) -> None:
    env.reset(spec(suite, 0))
    env.step(np.array([0.5, 0, 0, 0, 0, 0, -1.0]))
    env.step(np.array([2.0, 0, 0, 0, 0, 0, -1.0]))  # robosuite clips; we count
    env.step(np.array([0, 0, 0, 0, 0, -1.0, 1.0]))  # on the boundary: in range
    with pytest.raises(EpisodeError, match="NaN/inf"):
        env.step(np.array([0, np.nan, 0, 0, 0, 0, 0]))
    with pytest.raises(EpisodeError, match=r"shape \(2, 7\)"):
        env.step(np.zeros((2, 7)))
    info = env.episode_info()
    assert info["out_of_range_actions"] == 1
    assert info["max_abs_action"] == 2.0
    assert info["policy_steps"] == 3
    assert info["init_state"] == 0


def test_an_episode_through_the_harness_loop(suite: Any, env: LiberoEnv) -> None:
    """The worker's episode loop on this env with the bench's zero-cost policy: a clean failure."""
    from dataclasses import replace

    from harness.testing import ConstantPolicy
    from harness.worker import run_episode
    from suites.libero.bench import HOLD

    short = replace(spec(suite, 0), max_steps=5)
    record = run_episode(env, ConstantPolicy(HOLD, chunk=2), short, suite.action_space, policy_id="hold")
    assert (record.outcome, record.steps, record.error) == ("failure", 5, None)
    assert len(record.chunks) == 3  # 2 + 2 + 1 actions
    assert record.info["out_of_range_actions"] == 0 and record.info["policy_steps"] == 5
