"""The suite's options (the `options:` of a robotwin2 entry in a run config), validated up front, and
the observation and action geometry they give.

Unknown keys and bad values are a UserError naming the key, before any simulator work starts. The
geometry (`geometry`) is declared without RoboTwin: the suite and its factory's `geometry()` both read
it here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import UserError
from harness.shapes import ShapeSuite
from harness.types import ActionSpace
from suites.robotwin.actions import EE_DIM, QPOS_DIM, STATE_DIM
from suites.robotwin.catalog import SPLITS
from suites.robotwin.observations import CAMERA_SHAPES, CLIENT_CAMERA_KEYS

# RoboTwin's script/eval_policy.py starts each evaluation at 100000 * (1 + seed) (LingBot-VA's and
# Flash-WAM's clients at 10000 * (1 + seed): the `seed_stride` of their protocols).
SEED_STRIDE = 100_000


class RobotwinOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    robotwin_root: str | None = None  # RoboTwin checkout (stable_2.0 layout); else $ROBOTWIN_ROOT
    episodes: int = Field(default=100, ge=1)  # per (task, split) when the run does not say
    action_type: Literal["ee", "qpos"] = "ee"  # ee: 16-d end-effector poses; qpos: 14-d joint targets
    # ee actions: absolute world poses, or deltas composed onto the episode's initial end-effector pose
    # the way LingBot-VA's RoboTwin client sends them.
    ee_mode: Literal["absolute", "delta"] = "delta"
    # How the delta composition reads the four quaternion numbers. LingBot-VA's client hands RoboTwin's
    # (w, x, y, z) numbers to scipy, which reads them as (x, y, z, w); its checkpoints were evaluated
    # that way, so "xyzw" reproduces it. "wxyz" is the geometrically plain composition.
    delta_quat_order: Literal["xyzw", "wxyz"] = "xyzw"
    seed: int = Field(default=0, ge=0)  # the evaluation seed: candidates start at seed_stride*(1+seed)
    seed_stride: int = Field(default=SEED_STRIDE, ge=1)  # RoboTwin 100000; LingBot-VA, Flash-WAM 10000
    start_seed: int | None = Field(default=None, ge=0)  # overrides seed_stride*(1+seed)
    # Seeds: a seed list written by `wambench robotwin seeds` (fast, no expert at run time), or else the
    # expert filter runs inside the env at reset and records its verdicts in seed_cache.
    seed_list: str | None = None
    seed_cache: str | None = None  # default: ~/.cache/wambench/robotwin/seeds-<checkout commit>.json
    allow_seed_list_commit_mismatch: bool = False
    # Expert filter bound: by the i-th episode at most this many candidates per episode were tried.
    max_candidates_per_episode: int = Field(default=10, ge=1)
    # Instruction templates: RoboTwin's deploy configs use "unseen"; LingBot-VA's client uses "seen".
    instruction_type: Literal["seen", "unseen"] = "unseen"
    # "module:attr" of a callable(task_name) -> task env with RoboTwin's task API. Default: the class
    # envs.<task>.<task> from the checkout. Tests and RoboTwin forks plug in here.
    task_factory: str | None = None

    @property
    def first_seed(self) -> int:
        return self.start_seed if self.start_seed is not None else self.seed_stride * (1 + self.seed)

    def root(self) -> Path | None:
        raw = self.robotwin_root or os.environ.get("ROBOTWIN_ROOT")
        return absolute(raw) if raw else None

    @field_validator("robotwin_root", "seed_list", "seed_cache")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        return str(absolute(value)) if value else value


# Relative paths mean relative to where wambench was started, even in a process whose working
# directory has moved since.
_LAUNCH_DIR = Path.cwd()


def absolute(path: str | os.PathLike[str]) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else _LAUNCH_DIR / p


def parse_options(options: dict[str, Any]) -> RobotwinOptions:
    try:
        return RobotwinOptions(**options)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(options)"
            msg = "unknown option (check its spelling)" if err["type"] == "extra_forbidden" else err["msg"]
            parts.append(f"{loc}: {msg}")
        known = ", ".join(RobotwinOptions.model_fields)
        raise UserError(f"robotwin2 options: {'; '.join(parts)} (known options: {known})") from None


def action_space(options: RobotwinOptions) -> ActionSpace:
    """ee: 16-d end-effector poses; qpos: 14-d joint targets."""
    return ActionSpace("ee16", EE_DIM) if options.action_type == "ee" else ActionSpace("qpos14", QPOS_DIM)


def geometry(options: RobotwinOptions) -> ShapeSuite:
    """robotwin2's observation and action geometry with these options (three D435 cameras)."""
    return ShapeSuite(
        "robotwin2",
        action_space(options),
        dict(CAMERA_SHAPES),
        STATE_DIM,
        splits=SPLITS,
        client_camera_keys=CLIENT_CAMERA_KEYS,
    )
