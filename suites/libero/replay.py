"""`libero-replay`: one recorded demonstration's actions, executed open-loop (a baseline, not a policy).

Why: LIBERO's evaluation init states vary little (millimetres for some tasks), so replaying one demo
blind can succeed often. Reported beside a trained model, it shows what the task gives away without
looking. Options: `demos` (a `wambench demos` folder) and `episode` (which demo of the episode's task,
default 0: the folder's first demo of that task, so one folder of several tasks serves a run over all
of them). It reads no observation; after the demo's last action it holds still with the gripper as it
was.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import UserError
from harness.types import STAGES, ActionChunk, EpisodeError, EpisodeSpec, Observation, PolicySpec


def demos_by_task(folder: str | Path) -> dict[str, list[int]]:
    """{task name: its demos' episode indices, in order}, from the folder's meta/episodes.jsonl."""
    import json

    path = Path(folder) / "meta" / "episodes.jsonl"
    try:
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise UserError(f"libero-replay: {folder} is not a `wambench demos` folder ({path}: {exc})") from exc
    tasks: dict[str, list[int]] = {}
    for row in rows:
        tasks.setdefault(str(row["task_name"]), []).append(int(row["episode_index"]))
    return tasks


def load_actions(folder: str | Path, episode: int) -> np.ndarray:
    """The executed actions of demo `episode` (what the simulator ran, noise included)."""
    import pandas as pd

    path = Path(folder) / "data" / "chunk-000" / f"episode_{episode:06d}.parquet"
    if not path.is_file():
        raise UserError(
            f"libero-replay: no demo {episode} in {folder} ({path} missing); see `wambench demos`"
        )
    actions = pd.read_parquet(path, columns=["action"])["action"].to_numpy()[:-1]
    return np.stack(actions).astype(np.float64)


class Replay:
    def __init__(self, spec: PolicySpec, folder: str, nth: int) -> None:
        self.spec = spec
        self._folder = folder
        self._nth = nth
        self._tasks = demos_by_task(folder)
        self._actions = np.zeros((1, 7))
        self._t = 0

    def reset(self, episode: EpisodeSpec, instruction: str) -> None:
        demos = self._tasks.get(episode.task, [])
        if len(demos) <= self._nth:
            raise EpisodeError(
                f"libero-replay: {self._folder} has {len(demos)} demos of task {episode.task}, "
                f"not a demo {self._nth} to replay"
            )
        self._actions = load_actions(self._folder, demos[self._nth])
        self._t = 0

    def act(self, obs: Observation) -> ActionChunk:
        start = time.perf_counter()
        if self._t < len(self._actions):
            action = self._actions[self._t]
        else:
            action = np.zeros(7)
            action[6] = self._actions[-1, 6]
        self._t += 1
        ms = (time.perf_counter() - start) * 1e3
        return ActionChunk(actions=action[None], timings={s: 0.0 for s in STAGES} | {"total": ms})

    def close(self) -> None:
        pass


@dataclass
class ReplayFactory:
    spec: PolicySpec = field(
        default_factory=lambda: PolicySpec(
            "libero-replay",
            "open-loop-replay",
            backend="replay",
            description="One demonstration's actions replayed open-loop (baseline; reads no observation)",
        )
    )

    def validate(self, suite: Any, options: Mapping[str, Any]) -> PolicySpec:
        unknown = sorted(set(options) - {"demos", "episode"})
        if unknown or "demos" not in options:
            raise UserError(
                "libero-replay takes options demos: DIR (a `wambench demos` folder) and episode: N"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        episode = options.get("episode", 0)
        if isinstance(episode, bool) or not isinstance(episode, int) or episode < 0:
            raise UserError(f"libero-replay option episode must be an integer >= 0, got {episode!r}")
        tasks = demos_by_task(str(options["demos"]))
        if not any(len(demos) > episode for demos in tasks.values()):
            raise UserError(f"libero-replay: no demo {episode} of any task in {options['demos']}")
        details = {"demos": str(options["demos"]), "episode": episode, "trained": True}
        return PolicySpec(**{**self.spec.__dict__, "checkpoint": str(options["demos"]), "details": details})

    def build(self, suite: Any, options: Mapping[str, Any]) -> Replay:
        spec = self.validate(suite, options)
        return Replay(spec, str(options["demos"]), int(options.get("episode", 0)))


libero_replay = ReplayFactory()
