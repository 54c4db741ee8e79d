"""A LIBERO suite as the harness sees it: protocol options, task listing, the episode list, envs.

Building a suite is cheap (no simulator import) but checks the installation first, so a missing asset
link or config is reported before any manifest is built or worker started.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from harness.errors import UserError
from harness.types import ActionSpace, EpisodeSpec, TaskInfo
from suites.libero import catalog, paths, protocols

SPLITS: tuple[str, ...] = ("default",)
ACTION_SPACE = ActionSpace(kind="ee_delta7", dim=7, low=-1.0, high=1.0)
STATE_DIM = 8  # eef position (3) + eef axis-angle (3) + gripper finger qpos (2)
# Resident memory of one worker process holding one live env (2-core CPU, EGL/llvmpipe, 128 px):
# measured 1.9-2.2 GB; rounded up so the default worker count leaves headroom.
ENV_MEMORY_GB = 2.5
# Control rate: robosuite's control_freq, 20 Hz by default (robosuite 1.4 environments/base.py), and
# LIBERO's envs keep it (libero/envs/env_wrapper.py and bddl_base_domain.py: control_freq=20); one
# env.step is one policy action at that rate. Delayed execution turns latency into steps with it.
CONTROL_HZ = 20.0


IMAGE_FLIPS = ("vertical", "both")
# How other projects' LIBERO clients name the cameras (protocol -> camera -> key): a `remote` policy
# speaking their protocol sends these keys (harness/serving/remote_settings.py).
CLIENT_CAMERA_KEYS: dict[str, dict[str, str]] = {
    "lingbot": {
        "agentview": "observation.images.agentview_rgb",
        "wrist": "observation.images.eye_in_hand_rgb",
    },
    "openpi": {"agentview": "observation/image", "wrist": "observation/wrist_image"},
}


@dataclass(frozen=True)
class LiberoOptions:
    """The protocol knobs. Unset ones come from the suite's default protocol, `openpi`
    (suites/libero/protocols.py; why it is the default: suites/libero/README.md).

    `image_flip`: MuJoCo's offscreen buffer is stored bottom row first. "vertical" undoes exactly that
    (the true camera view, checked against a pinhole projection in the tests; LingBot-VA's LIBERO
    client does this); "both" also mirrors left-right (a 180 degree rotation: the OpenVLA/openpi
    convention, for policies trained on their datasets).
    """

    max_steps: int  # policy steps per episode after the wait
    num_steps_wait: int  # no-op steps after reset, not counted
    wait_gripper: float  # gripper command of the no-op steps (-1 open, 0 as LingBot-VA's client)
    image_flip: str
    # Fixture placement at reset is drawn from np.random seeded env_seed + init index; None leaves
    # np.random unseeded (LingBot-VA's client: scenes then differ between runs).
    env_seed: int | None
    image_size: int = 128  # square camera images, as LingBot-VA feeds its model
    privileged: bool = False  # hand out the goal's object and target boxes (Observation.privileged)
    cameras: bool = True  # False: no renderer at all, state-only observations (scripted experts, demos)
    privileged_state: bool = False  # append the object and target boxes to the state (privileged policies)

    @classmethod
    def parse(cls, suite: str, options: Mapping[str, Any]) -> LiberoOptions:
        types = {"max_steps": int, "num_steps_wait": int, "image_size": int, "env_seed": int}
        flags = ("privileged", "cameras", "privileged_state")
        known = [*types, "wait_gripper", "image_flip", *flags]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise UserError(
                f"unknown option(s) {', '.join(unknown)} for suite {suite} (have: {', '.join(known)})"
            )
        values: dict[str, Any] = {**protocols.openpi(suite).options, **options}
        for key, kind in types.items():
            value = values.get(key)
            if key == "env_seed" and value is None:
                continue
            if key in values and (isinstance(value, bool) or not isinstance(value, kind)):
                raise UserError(f"suite option {key} must be an integer, got {value!r}")
        if values["max_steps"] < 1:
            raise UserError(f"suite option max_steps must be >= 1, got {values['max_steps']}")
        if values.get("num_steps_wait", 0) < 0:
            raise UserError(f"suite option num_steps_wait must be >= 0, got {values['num_steps_wait']}")
        if not 16 <= values.get("image_size", 128) <= 1024:
            raise UserError(f"suite option image_size must be in [16, 1024], got {values['image_size']}")
        for key in flags:
            if key in values and not isinstance(values[key], bool):
                raise UserError(f"suite option {key} must be true or false, got {values[key]!r}")
        grip = values.get("wait_gripper", -1.0)
        if isinstance(grip, bool) or not isinstance(grip, (int, float)) or not -1.0 <= grip <= 1.0:
            raise UserError(f"suite option wait_gripper must be a number in [-1, 1], got {grip!r}")
        values["wait_gripper"] = float(grip)
        if values.get("image_flip", "vertical") not in IMAGE_FLIPS:
            raise UserError(
                f"suite option image_flip must be one of {', '.join(IMAGE_FLIPS)}, "
                f"got {values['image_flip']!r}"
            )
        return cls(**values)


@dataclass
class LiberoSuite:
    name: str  # libero_spatial, ..., libero_10 (the alias libero_long builds libero_10: one name in results)
    options: LiberoOptions
    action_space: ActionSpace = ACTION_SPACE
    splits: tuple[str, ...] = SPLITS
    state_dim: int = STATE_DIM  # + privileged.PRIVILEGED_STATE_DIM with privileged_state
    env_memory_gb: float = ENV_MEMORY_GB
    camera_shapes: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    control_hz: float = CONTROL_HZ
    client_camera_keys: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: CLIENT_CAMERA_KEYS)

    def hold_action(self, last: np.ndarray | None, initial_state: np.ndarray) -> np.ndarray:
        """Keep still: a zero OSC delta pose (the wait steps' no-op), the gripper as last commanded
        (absolute in LIBERO, so an object in hand stays held); before any action, the wait steps' gripper."""
        grip = float(last[6]) if last is not None else self.options.wait_gripper
        return np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, grip])

    def __post_init__(self) -> None:
        self.name = catalog.canonical_suite(self.name)
        size = self.options.image_size
        if self.options.privileged_state:
            from suites.libero.privileged import PRIVILEGED_STATE_DIM

            self.state_dim = STATE_DIM + PRIVILEGED_STATE_DIM
        cameras = ("agentview", "wrist") if self.options.cameras else ()
        self.camera_shapes = {name: (size, size, 3) for name in cameras}

    def effective_options(self) -> dict[str, Any]:
        """What every env of this suite receives (recorded with the run's evaluation protocol)."""
        return asdict(self.options)

    def preflight(self) -> None:
        """Called by the runner before any work: the installation, and a renderer backend to use."""
        paths.reset_check_cache()
        paths.check_installed()

    def tasks(self) -> list[TaskInfo]:
        return [
            TaskInfo(
                id=t.name,
                instruction=t.language,
                max_steps=self.options.max_steps,
                display_name=t.language,
                n_episodes=catalog.INIT_STATES_PER_TASK,
            )
            for t in catalog.tasks(self.name)
        ]

    def _check_split(self, split: str) -> None:
        if split not in SPLITS:
            raise UserError(f"unknown split '{split}' for {self.name} (LIBERO has one split: 'default')")

    def episodes(self, task: str, split: str, n: int | None) -> list[EpisodeSpec]:
        """Episode i uses LIBERO's fixed init state i, so `--episodes n` always means the first n."""
        catalog.find_task(self.name, task)
        self._check_split(split)
        limit = catalog.INIT_STATES_PER_TASK
        count = limit if n is None else n
        if not 1 <= count <= limit:
            raise UserError(
                f"{self.name} has {limit} episodes (fixed init states) per task; asked for {n} "
                f"(use --episodes between 1 and {limit})"
            )
        return [
            EpisodeSpec(self.name, task, split, index=i, seed=i, max_steps=self.options.max_steps)
            for i in range(count)
        ]

    def make_env(self, task: str, split: str) -> Any:
        from suites.libero.env import LiberoEnv  # imports the simulator; only workers get here

        info = catalog.find_task(self.name, task)
        self._check_split(split)
        paths.check_installed()
        return LiberoEnv(self.name, info, self.options)


def make_suite(name: str, options: Mapping[str, Any]) -> LiberoSuite:
    paths.check_installed()
    libero_suite = catalog.canonical_suite(name)
    return LiberoSuite(libero_suite, LiberoOptions.parse(libero_suite, options))
