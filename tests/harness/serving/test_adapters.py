"""Foreign observation and action layouts (LingBot-VA, openpi) against wambench's contracts."""

from __future__ import annotations

import numpy as np
import pytest

from harness.serving.adapters import (
    AdapterError,
    foreign_observation,
    from_lingbot_actions,
    match_cameras,
    to_lingbot_actions,
)

LIBERO_CAMS = {"agentview": (16, 16, 3), "wrist": (16, 16, 3)}


def _img(value: int, shape: tuple[int, ...] = (16, 16, 3)) -> np.ndarray:
    return np.full(shape, value, np.uint8)


def test_lingbot_libero_keys_map_to_wambench_cameras() -> None:
    msg = {"observation.images.eye_in_hand_rgb": _img(2), "observation.images.agentview_rgb": _img(1)}
    obs = foreign_observation(msg, "pick", LIBERO_CAMS, 8)
    assert obs.images["agentview"][0, 0, 0] == 1 and obs.images["wrist"][0, 0, 0] == 2
    assert obs.state.shape == (8,) and not obs.state.any()  # their LIBERO client sends no state
    assert obs.instruction == "pick"


def test_lingbot_robotwin_keys_map_by_name_not_order() -> None:
    cams = {"head": (4, 4, 3), "left_wrist": (4, 4, 3), "right_wrist": (4, 4, 3)}
    images = {
        "observation.images.cam_right_wrist": _img(3, (4, 4, 3)),
        "observation.images.cam_high": _img(1, (4, 4, 3)),
        "observation.images.cam_left_wrist": _img(2, (4, 4, 3)),
    }
    named = match_cameras(images, list(cams))
    assert [int(named[c][0, 0, 0]) for c in cams] == [1, 2, 3]


def test_openpi_libero_keys_state_and_channel_first() -> None:
    msg = {
        "observation/wrist_image": np.moveaxis(_img(2), -1, 0),  # CHW, as some openpi clients send
        "observation/image": _img(1),
        "observation/state": np.arange(8, dtype=np.float32),
        "prompt": "go",
    }
    obs = foreign_observation(msg, "go", LIBERO_CAMS, 8)
    assert obs.images["agentview"][0, 0, 0] == 1 and obs.images["wrist"].shape == (16, 16, 3)
    assert np.array_equal(obs.state, np.arange(8))


def test_nested_images_map_and_float_images() -> None:
    msg = {"images": {"cam_high": np.full((16, 16, 3), 1.0, np.float32), "wrist": _img(9)}, "state": [0.5]}
    obs = foreign_observation(msg, "", LIBERO_CAMS, 1)
    assert obs.images["agentview"].dtype == np.uint8 and obs.images["agentview"][0, 0, 0] == 255
    assert obs.state.tolist() == [0.5]


def test_images_are_resized_to_the_suite_camera_size() -> None:
    msg = {"observation/image": _img(100, (32, 24, 3)), "observation/wrist_image": _img(50, (8, 8, 3))}
    obs = foreign_observation(msg, "", LIBERO_CAMS, 0)
    assert obs.images["agentview"].shape == (16, 16, 3) and obs.images["wrist"].shape == (16, 16, 3)
    assert int(obs.images["agentview"].mean()) == 100 and int(obs.images["wrist"].mean()) == 50


def test_missing_cameras_and_bad_images_are_named() -> None:
    with pytest.raises(AdapterError, match="missing"):
        foreign_observation({"observation/image": _img(1)}, "", LIBERO_CAMS, 0)
    with pytest.raises(AdapterError, match="no HxWx3 images"):
        foreign_observation({"prompt": "x"}, "", LIBERO_CAMS, 0)
    with pytest.raises(AdapterError, match="expected HxWx3"):
        foreign_observation({"a": np.zeros((4, 4, 5), np.uint8), "b": _img(1)}, "", LIBERO_CAMS, 0)


def test_lingbot_action_layout_round_trip_with_first_chunk_padding() -> None:
    actions = np.arange(16 * 7, dtype=np.float32).reshape(16, 7)
    first = to_lingbot_actions(actions, 4, first_chunk=True)
    assert first.shape == (7, 5, 4)  # channels, frames (+1 never executed), actions per frame
    later = to_lingbot_actions(actions, 4, first_chunk=False)
    assert later.shape == (7, 4, 4)
    # LingBot-VA's clients execute action[:, i, j] for i from 1 (first chunk) or 0, j in order.
    executed = [first[:, i, j] for i in range(1, 5) for j in range(4)]
    assert np.array_equal(np.stack(executed), actions)
    assert np.array_equal(from_lingbot_actions(first)[4:], actions)  # the chunk's execute_from: 4
    assert np.array_equal(from_lingbot_actions(later), actions)


def test_a_policys_own_unexecuted_frame_is_sent_as_frame_0() -> None:
    # LingBot-VA's network: rows 0-3 are the observed frame's actions, executed from row 4
    actions = np.arange(16 * 7, dtype=np.float32).reshape(16, 7)
    first = to_lingbot_actions(actions, 4, first_chunk=True, execute_from=4)
    assert first.shape == (7, 4, 4) and np.array_equal(from_lingbot_actions(first), actions)
    later = to_lingbot_actions(actions, 4, first_chunk=False, execute_from=4)
    assert np.array_equal(from_lingbot_actions(later), actions[4:])  # only the rows that run


def test_lingbot_action_layout_needs_whole_frames() -> None:
    with pytest.raises(AdapterError, match="actions-per-frame"):
        to_lingbot_actions(np.zeros((10, 7), np.float32), 4, first_chunk=False)
    with pytest.raises(AdapterError, match="per_frame"):
        from_lingbot_actions(np.zeros((7, 4)))
