"""A LIBERO suite's options (the `options:` of a run config's libero_* entry) and the observation and
action geometry they give, declared without building anything.

The suite (suite.py), its env (env.py) and its factory's `geometry()` (what a policy is built and timed
against where the simulator is absent: `wambench latency`, the serving benchmark) all read them here,
so the env and the suite never import each other for them, and the declared geometry is the built
suite's by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import UserError
from harness.shapes import ShapeSuite
from harness.types import ActionSpace
from suites.libero import catalog, protocols

SPLITS: tuple[str, ...] = ("default",)
ACTION_SPACE = ActionSpace(kind="ee_delta7", dim=7, low=-1.0, high=1.0)
STATE_DIM = 8  # eef position (3) + eef axis-angle (3) + gripper finger qpos (2)
CAMERAS: tuple[str, ...] = ("agentview", "wrist")
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


def camera_shapes(options: LiberoOptions) -> dict[str, tuple[int, int, int]]:
    """Square images of `image_size` from both cameras; none without a renderer (`cameras: false`)."""
    size = options.image_size
    return {name: (size, size, 3) for name in CAMERAS} if options.cameras else {}


def state_dim(options: LiberoOptions) -> int:
    if options.privileged_state:
        from suites.libero.privileged import PRIVILEGED_STATE_DIM

        return STATE_DIM + PRIVILEGED_STATE_DIM
    return STATE_DIM


def geometry(suite: str, options: Mapping[str, Any]) -> ShapeSuite:
    """The observation and action geometry of suite `suite` with these options: no installation check,
    no simulator."""
    name = catalog.canonical_suite(suite)
    parsed = LiberoOptions.parse(name, options)
    return ShapeSuite(
        name,
        ACTION_SPACE,
        camera_shapes(parsed),
        state_dim(parsed),
        splits=SPLITS,
        client_camera_keys=CLIENT_CAMERA_KEYS,
    )


__all__ = [
    "ACTION_SPACE",
    "CAMERAS",
    "CLIENT_CAMERA_KEYS",
    "IMAGE_FLIPS",
    "SPLITS",
    "STATE_DIM",
    "LiberoOptions",
    "camera_shapes",
    "geometry",
    "state_dim",
]
