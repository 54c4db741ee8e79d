"""RoboTwin observations -> harness Observation, rendered when read or before the scene moves on.

RoboTwin's get_obs() renders every camera of the scene as it is now, which costs far more than a
take_action's bookkeeping; its own evaluation loop calls it once per policy call, not once per step.
The harness contract returns an observation from every step, and what it hands out stays valid after
later steps (a policy may keep it: LingBot-VA reads a chunk's key frames at the next chunk). So a step
returns a LazyObservation: get_obs() runs the first time its images or state are read, or, if it is
still referenced then, when the env is about to step, reset or close (`settle`), so a later read shows
this step's frame and never a later one. A step whose images nobody reads (the env was told so through
`next_images`) fetches the state alone, never rendering. get_obs() hands out fresh arrays each call
(Camera.get_rgb slices a new RGBA array), so nothing here aliases a simulator buffer. Pickling
materialises it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from harness.types import EpisodeError, Observation
from suites.robotwin.actions import state_from_obs

# harness camera name -> RoboTwin camera name in get_obs()["observation"]
CAMERAS: dict[str, str] = {"head": "head_camera", "left_wrist": "left_camera", "right_wrist": "right_camera"}
# D435 (task_config/_camera_config.yml), the head and wrist camera type of demo_clean/demo_randomized.
CAMERA_SHAPES: dict[str, tuple[int, int, int]] = {name: (240, 320, 3) for name in CAMERAS}
# How LingBot-VA's RoboTwin client names the cameras (protocol -> camera -> key): a `remote` policy
# speaking its protocol sends these keys (harness/serving/remote_settings.py).
CLIENT_CAMERA_KEYS: dict[str, dict[str, str]] = {
    "lingbot": {
        "head": "observation.images.cam_high",
        "left_wrist": "observation.images.cam_left_wrist",
        "right_wrist": "observation.images.cam_right_wrist",
    },
}


def convert(
    raw: dict[str, Any], shapes: dict[str, tuple[int, int, int]] | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    shapes = shapes or CAMERA_SHAPES
    cams = raw.get("observation") or {}
    images: dict[str, np.ndarray] = {}
    for name, rt_name in CAMERAS.items():
        try:
            rgb = cams[rt_name]["rgb"]
        except (KeyError, TypeError):
            raise EpisodeError(
                f"RoboTwin observation has no {rt_name} rgb image (the task config must collect head and "
                f"wrist cameras with data_type.rgb)"
            ) from None
        img = np.asarray(rgb)
        if img.dtype != np.uint8:  # RoboTwin already scales to uint8; accept [0, 1] floats defensively
            img = (np.clip(img, 0.0, 1.0) * 255.0).round().astype(np.uint8)
        if img.shape != shapes[name]:
            raise EpisodeError(
                f"RoboTwin {rt_name} image is {img.shape}, expected {shapes[name]} (D435 camera config)"
            )
        images[name] = np.ascontiguousarray(img)
    return images, state_from_obs(raw)


def state_without_render(sim: Any) -> np.ndarray:
    """The state get_obs() reports, read with the calls get_obs makes for its qpos and endpose entries
    (envs/_base_task.py), without updating the render scene or taking any picture: for observations
    whose images nobody reads (harness.types.DefersImages)."""
    robot = sim.robot
    left, right = robot.get_left_arm_jointState(), robot.get_right_arm_jointState()
    raw = {
        "joint_action": {"vector": np.array(left + right)},
        "endpose": {
            "left_endpose": sim.get_arm_pose("left"),
            "left_gripper": robot.get_left_gripper_val(),
            "right_endpose": sim.get_arm_pose("right"),
            "right_gripper": robot.get_right_gripper_val(),
        },
    }
    return state_from_obs(raw)


class LazyObservation(Observation):
    """An Observation whose images and state come from one get_obs() call, made on first read."""

    def __init__(
        self,
        fetch: Callable[[], tuple[dict[str, np.ndarray], np.ndarray]],
        instruction: str,
        is_current: Callable[[], bool],
    ) -> None:  # deliberately not calling the dataclass __init__: images/state are properties here
        self._fetch = fetch
        self._is_current = is_current
        self._data: tuple[dict[str, np.ndarray], np.ndarray] | None = None
        self.instruction = instruction

    def _load(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        if self._data is None:
            if not self._is_current():  # the env must settle a live observation before moving on
                raise RuntimeError(
                    "a RoboTwin observation was left unrendered while the env moved on (a bug in "
                    "RobotwinEnv: it settles every observation still referenced before it steps)"
                )
            self._data = self._fetch()
        return self._data

    def settle(self) -> None:
        """Render now, while the scene still shows this step (the env calls it before moving on)."""
        self._load()

    @property
    def images(self) -> dict[str, np.ndarray]:  # type: ignore[override]
        return self._load()[0]

    @property
    def state(self) -> np.ndarray:  # type: ignore[override]
        return self._load()[1]

    @property
    def rendered(self) -> bool:
        return self._data is not None

    def materialize(self) -> Observation:
        images, state = self._load()
        return Observation(images=images, state=state, instruction=self.instruction)

    def __reduce__(self) -> tuple[Any, ...]:
        obs = self.materialize()
        return (Observation, (obs.images, obs.state, obs.instruction))

    def __repr__(self) -> str:
        return f"LazyObservation(rendered={self.rendered}, instruction={self.instruction!r})"
