"""A suite reduced to its observation and action geometry: no tasks, no simulator.

A policy is built against a suite (it reads camera shapes, state width and action space) and can be
timed on synthetic observations of those shapes; where the real suite cannot be built on a machine
(its simulator is not installed) this stands in. It can never run an episode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.errors import SetupError
from harness.types import ActionSpace, EpisodeSpec, TaskInfo


@dataclass
class ShapeSuite:
    name: str
    action_space: ActionSpace
    camera_shapes: Mapping[str, tuple[int, int, int]]
    state_dim: int
    splits: Sequence[str] = ("default",)
    env_memory_gb: float = 0.0
    reason: str = ""  # why the real suite is not used, for messages
    client_camera_keys: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # as the suite's
    _tasks: Sequence[TaskInfo] = field(default_factory=tuple)

    def tasks(self) -> Sequence[TaskInfo]:
        return self._tasks

    def episodes(self, task: str, split: str, n: int | None) -> list[EpisodeSpec]:
        return [EpisodeSpec(self.name, task, split, i, i, 100) for i in range(n or 1)]

    def make_env(self, task: str, split: str) -> Any:
        why = f" ({self.reason})" if self.reason else ""
        raise SetupError(f"'{self.name}' here is a shape description{why}; it has no simulator")


__all__ = ["ShapeSuite"]
