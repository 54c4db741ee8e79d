"""A LIBERO suite as the harness sees it: task listing, the episode list, envs (options: options.py).

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
from suites.libero import catalog, paths
from suites.libero.options import (
    ACTION_SPACE,
    CLIENT_CAMERA_KEYS,
    SPLITS,
    STATE_DIM,
    LiberoOptions,
    camera_shapes,
    state_dim,
)

# Resident memory of one worker process holding one live env (2-core CPU, EGL/llvmpipe, 128 px):
# measured 1.9-2.2 GB; rounded up so the default worker count leaves headroom.
ENV_MEMORY_GB = 2.5
# Control rate: robosuite's control_freq, 20 Hz by default (robosuite 1.4 environments/base.py), and
# LIBERO's envs keep it (libero/envs/env_wrapper.py and bddl_base_domain.py: control_freq=20); one
# env.step is one policy action at that rate. Delayed execution turns latency into steps with it.
CONTROL_HZ = 20.0


@dataclass
class LiberoSuite:
    name: str  # libero_spatial, ..., libero_10 (the alias libero_long builds libero_10: one name in results)
    options: LiberoOptions
    action_space: ActionSpace = ACTION_SPACE
    splits: tuple[str, ...] = SPLITS
    state_dim: int = STATE_DIM  # + privileged.PRIVILEGED_STATE_DIM with privileged_state (options.py)
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
        self.state_dim = state_dim(self.options)
        self.camera_shapes = camera_shapes(self.options)

    @property
    def privileged_inputs(self) -> bool:
        """Object boxes handed out or appended to the state: every table marks such runs (‡)."""
        return bool(self.options.privileged or self.options.privileged_state)

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
