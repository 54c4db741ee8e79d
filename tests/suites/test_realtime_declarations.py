"""What LIBERO and RoboTwin declare for delayed execution: control rate and a hold action that holds."""

from __future__ import annotations

import numpy as np
import pytest

from suites.libero.options import LiberoOptions
from suites.libero.suite import LiberoSuite
from suites.robotwin.actions import initial_ee_from_state, to_take_action
from suites.robotwin.options import RobotwinOptions
from suites.robotwin.suite import RobotwinSuite


def test_libero_runs_at_robosuites_20_hz_and_holds_with_a_zero_delta() -> None:
    suite = LiberoSuite("libero_object", LiberoOptions.parse("libero_object", {}))
    assert suite.control_hz == 20.0
    before = suite.hold_action(None, np.zeros(8))
    assert before.tolist() == [0.0] * 6 + [suite.options.wait_gripper]
    holding = suite.hold_action(np.array([0.3, -0.2, 0.1, 0.0, 0.0, 0.1, 1.0]), np.zeros(8))
    assert holding.tolist() == [0.0] * 6 + [1.0]  # a closed gripper stays closed


def _state() -> np.ndarray:
    rng = np.random.default_rng(0)
    state = rng.normal(size=30)
    for q in (slice(17, 21), slice(25, 29)):  # the two end-effector quaternions (w, x, y, z): unit
        state[q] /= np.linalg.norm(state[q])
    return state


@pytest.mark.parametrize(
    "options",
    [{}, {"delta_quat_order": "wxyz"}, {"ee_mode": "absolute"}, {"action_type": "qpos"}],
)
def test_robotwin_hold_before_any_action_targets_the_initial_state(options: dict) -> None:
    suite = RobotwinSuite(RobotwinOptions(**options))
    assert suite.control_hz is None  # no fixed rate upstream: delayed mode needs --control-hz
    state = _state()
    hold = suite.hold_action(None, state)
    o = suite.options
    arg = to_take_action(hold, o.action_type, o.ee_mode, initial_ee_from_state(state), o.delta_quat_order)
    want = state[:14] if o.action_type == "qpos" else initial_ee_from_state(state)
    np.testing.assert_allclose(arg, want, atol=1e-12)
    last = np.arange(len(hold), dtype=float)
    assert suite.hold_action(last, state).tolist() == last.tolist()  # a target repeated holds
