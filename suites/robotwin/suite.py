"""The robotwin2 Suite: catalog, splits, the frozen episode list, and envs.

Episode lists (decided before anything runs, without the simulator):
- with a seed list (`seed_list`, written by `wambench robotwin seeds`): episode i of (task, split) has
  the i-th expert-solvable seed >= start as its `seed`. This is RoboTwin's protocol with the expert
  already run, and the fast path on a GPU machine.
- without one: every episode's `seed` is the start seed, and the env finds the i-th solvable seed at
  reset by running the expert (sharing verdicts with every other worker and policy through the
  seed cache), exactly the seeds RoboTwin's loop would use. The resolved seed is in the episode's info.
Either way an episode key maps to one RoboTwin seed for every policy, so runs pair across policies.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from harness.errors import SetupError, UserError
from harness.types import ActionSpace, EpisodeSpec, TaskInfo
from suites.robotwin import readiness
from suites.robotwin.actions import QPOS_DIM, STATE_DIM, STATE_EE_SLICE
from suites.robotwin.catalog import SPLITS, check_split, get_task, load_catalog
from suites.robotwin.checkout import Checkout
from suites.robotwin.env import RobotwinEnv
from suites.robotwin.instructions import task_description
from suites.robotwin.observations import CAMERA_SHAPES, CLIENT_CAMERA_KEYS
from suites.robotwin.options import RobotwinOptions, action_space
from suites.robotwin.runtime import RuntimePackage
from suites.robotwin.seeds import SeedBook, default_cache_path


class ProtocolWarning(UserWarning):
    """A task runs, but not as RoboTwin stable_2.0's protocol defines it (episodes carry the flag)."""


class RobotwinSuite:
    name: str = "robotwin2"
    splits: Sequence[str] = SPLITS
    state_dim: int = STATE_DIM
    # Resident memory of one worker's env (SAPIEN scene, renderer, cuRobo planner): an estimate from
    # RoboTwin's requirements, not a measurement here (no GPU). GPU memory per env is separate.
    env_memory_gb: float = 6.0
    # GPU memory of one env (two cuRobo motion planners, one per arm, and SAPIEN's renderer): also an
    # estimate, not a measurement. It sizes the default worker count per visible GPU (harness.gpus).
    env_gpu_memory_gb: float = 4.0

    # No fixed control rate upstream: one action is one take_action call (envs/_base_task.py, RoboTwin
    # cf47ab5), which plans a path to the target (TOPP at the 1/250 s physics step for qpos, the cuRobo
    # planner for ee) and runs the physics until it is reached, so a step's duration depends on how far
    # the target is (50 physics steps, 0.2 s, where planning fails). Delayed execution on RoboTwin thus
    # needs an explicit execution.control_hz (a modelling choice, stated in the run's config).
    control_hz: float | None = None
    client_camera_keys: Mapping[str, Mapping[str, str]] = CLIENT_CAMERA_KEYS

    def hold_action(self, last: np.ndarray | None, initial_state: np.ndarray) -> np.ndarray:
        """Keep still: actions are targets (absolute, or ee deltas from the episode's initial pose), so
        repeating the last one holds; before any action, the target that is the initial state."""
        if last is not None:
            return np.array(last, dtype=float, copy=True)
        if self.options.action_type == "qpos":
            return np.array(initial_state[:QPOS_DIM], dtype=float)
        ee = np.array(initial_state[STATE_EE_SLICE], dtype=float)
        if self.options.ee_mode == "absolute":
            return ee
        identity = [0.0, 0.0, 0.0, 1.0] if self.options.delta_quat_order == "xyzw" else [1.0, 0.0, 0.0, 0.0]
        return np.array([0.0, 0.0, 0.0, *identity, ee[7], 0.0, 0.0, 0.0, *identity, ee[15]])

    def __init__(self, options: RobotwinOptions) -> None:
        self.options = options
        self.camera_shapes: Mapping[str, tuple[int, int, int]] = dict(CAMERA_SHAPES)
        self.action_space: ActionSpace = action_space(options)
        self._ready = False

    # ---- where RoboTwin lives -------------------------------------------------------------------
    @property
    def simulator_mode(self) -> bool:
        """False when a task_factory stands in for RoboTwin's task classes (tests, forks)."""
        return self.options.task_factory is None

    @cached_property
    def checkout(self) -> Checkout | None:
        """The checkout if one is configured (robotwin_root / ROBOTWIN_ROOT), else the pip runtime."""
        root = self.options.root()
        if root is not None:
            return Checkout(root) if root.is_dir() else None
        return RuntimePackage.installed()

    def describe_source(self) -> str:
        return self.checkout.describe() if self.checkout else "no RoboTwin checkout or pip runtime found"

    def _commit(self) -> str:
        return self.checkout.revision if self.checkout else "unknown"

    def seed_book(self) -> SeedBook:
        if self.options.seed_list:
            return SeedBook(self.options.seed_list, self._commit())
        path = self.options.seed_cache or default_cache_path(self._commit())
        return SeedBook(path, self._commit())

    # ---- readiness ----------------------------------------------------------------------------
    def problems(self, *, gpu: bool = True) -> list[str]:
        root, source = self.options.root(), self.checkout
        if isinstance(source, RuntimePackage):
            problems = readiness.runtime_problems(source, simulator=self.simulator_mode)
        else:
            problems = readiness.checkout_problems(root, simulator=self.simulator_mode)
            if self.simulator_mode:
                problems += readiness.asset_problems(root)
        if self.simulator_mode:
            problems += readiness.package_problems()
            if gpu:
                problems += readiness.gpu_problems()
        problems += self._seed_list_problems()
        return problems

    def _seed_list_problems(self) -> list[str]:
        if not self.options.seed_list:
            return []
        book = SeedBook(self.options.seed_list, self._commit())
        if not book.path.is_file():
            return [f"seed list {book.path} does not exist (write it with `wambench robotwin seeds`)"]
        try:
            data = book.read()
        except UserError as exc:
            return [str(exc)]
        listed, here = str(data.get("robotwin_commit", "unknown")), self._commit()
        if (
            "unknown" not in (listed, here)
            and listed != here
            and not self.options.allow_seed_list_commit_mismatch
        ):
            return [
                f"seed list {book.path} was made with RoboTwin {listed[:12]}, the checkout is {here[:12]} "
                "(regenerate it, or set allow_seed_list_commit_mismatch: true)"
            ]
        return []

    def check_ready(self) -> None:
        """Raise SetupError listing everything missing; cached once it passed in this process."""
        if self._ready:
            return
        problems = self.problems()
        if problems:
            listing = "\n".join(f"  - {p}" for p in problems)
            raise SetupError(
                f"RoboTwin is not ready ({len(problems)} problem(s)); `wambench doctor robotwin` "
                f"rechecks:\n{listing}"
            )
        self._ready = True

    def preflight(self) -> None:
        self.check_ready()

    def effective_options(self) -> dict[str, Any]:
        """What every env of this suite receives (recorded with the run's evaluation protocol)."""
        return {**self.options.model_dump(), "first_seed": self.options.first_seed}

    # ---- the suite contract -------------------------------------------------------------------
    def tasks(self) -> list[TaskInfo]:
        desc_dir = self.checkout.description_dir if self.checkout else None
        out = []
        for t in load_catalog():
            text = task_description(desc_dir, t.name) if desc_dir else None
            out.append(TaskInfo(t.name, text or t.display_name, t.step_limit, t.horizon, t.display_name))
        return out

    def episodes(self, task: str, split: str, n: int | None) -> list[EpisodeSpec]:
        info = get_task(task)
        check_split(split)
        why = self.checkout.not_faithful(task) if self.checkout else None
        if why:
            warnings.warn(
                f"{self.name}/{task} is not protocol-faithful: {why}", ProtocolWarning, stacklevel=2
            )
        n = n or self.options.episodes
        start = self.options.first_seed
        if not self.options.seed_list:
            return [EpisodeSpec(self.name, task, split, i, start, info.step_limit) for i in range(n)]
        book = SeedBook(self.options.seed_list)
        if not book.path.is_file():
            raise UserError(f"seed list {book.path} does not exist (write it with `wambench robotwin seeds`)")
        kept = book.solvable(task, split, start)
        if len(kept) < n:
            raise UserError(
                f"seed list {book.path} has {len(kept)} expert-checked seeds for {task}/{split} "
                f"from {start}, "
                f"{n} are needed: extend it with `wambench robotwin seeds --tasks {task} --splits {split} "
                f"-n {n} --start-seed {start} --out {book.path}`"
            )
        return [EpisodeSpec(self.name, task, split, i, kept[i].seed, info.step_limit) for i in range(n)]

    def make_env(self, task: str, split: str) -> RobotwinEnv:
        info = get_task(task)
        check_split(split)
        self.check_ready()
        assert self.checkout is not None  # check_ready guarantees it
        return RobotwinEnv(
            info, split, self.options, self.checkout, self.seed_book(), not self.options.seed_list
        )


def build(options: dict[str, Any]) -> RobotwinSuite:
    from suites.robotwin.options import parse_options

    return RobotwinSuite(parse_options(options))


__all__ = ["RobotwinSuite", "SetupError", "build"]
