"""Expert demonstrations on LIBERO, written in the LeRobot dataset layout (v2.1) that pandas reads.

Why this shape:
- Initial conditions are LIBERO's own placement sampler (the BDDL regions) drawn from a demo seed, not
  the 50 fixed evaluation init states: a demo whose initial state lies within `MIN_DISTANCE` of any
  evaluation state (max |difference| over qpos) is discarded, and each kept demo records its distance.
- The expert runs without rendering (5-10x faster); the simulator state after every step is kept, and
  only successful demos are rendered, and only at the frames a model reads (every `frame_stride` steps
  and the last), from the saved states. Rendering is side-effect free for physics.
- Optional DART-style action noise: the executed action gets N(0, noise) on xyz, the clean expert
  action is kept apart as the label (`action.clean`), so a model sees varied timing with clean targets.
- LeRobot's layout (meta/info.json, meta/episodes.jsonl, meta/tasks.jsonl, data/chunk-000/*.parquet)
  over LIBERO's HDF5 one: it needs no h5py, pandas and pyarrow read it, and images are PNG bytes in the
  parquet (LeRobot's `image` feature, lossless). One deviation, documented in info.json: image columns
  are null on the steps that were not rendered; with --frame-stride 1 every step has its frames.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.types import EpisodeSpec
from suites.libero import catalog, privileged
from suites.libero.env import CAMERAS, LiberoEnv, upright
from suites.libero.expert import LiberoExpert, libero_expert
from suites.libero.options import LiberoOptions

DEMO_SEED_BASE = 1_000_000  # demo j of a task uses placement seed DEMO_SEED_BASE + j
MIN_DISTANCE = 1e-3  # an initial state closer than this to an evaluation state is not a new condition
FORMAT = "lerobot-v2.1"
FPS = 20  # LIBERO's control rate


@dataclass(frozen=True)
class DemoJob:
    suite: str
    tasks: Sequence[str]
    episodes: int  # successful demos wanted per task
    out: Path
    noise: float = 0.0  # std of the xyz action noise (action units), 0 for clean demos
    frame_stride: int = 4
    image_size: int = 128
    max_attempts_factor: int = 3  # give up a task after episodes * factor attempts


def _png(image: np.ndarray) -> dict[str, Any]:
    import imageio.v3 as iio

    buf = io.BytesIO()
    iio.imwrite(buf, image, extension=".png")
    return {"bytes": buf.getvalue(), "path": None}


def initial_distance(state: np.ndarray, eval_states: np.ndarray, nq: int) -> float:
    """min over evaluation states of max |difference| of qpos (flattened layout: time, qpos, qvel)."""
    qpos = slice(1, 1 + nq)
    return float(np.min(np.max(np.abs(eval_states[:, qpos] - state[None, qpos]), axis=1)))


class DemoCollector:
    """One task's camera-free env with an offscreen renderer kept for the frames that are written."""

    def __init__(self, suite: str, task: catalog.LiberoTask, job: DemoJob) -> None:
        self.task = task
        self.job = job
        self.options = LiberoOptions.parse(
            suite, {"privileged": True, "cameras": False, "image_size": job.image_size}
        )
        self.env = LiberoEnv(suite, task, self.options, renderer=True)
        self.expert = LiberoExpert(libero_expert.spec)

    def close(self) -> None:
        self.env.close()

    def attempt(self, demo_seed: int) -> dict[str, Any] | None:
        """One episode from a fresh placement; its steps if the expert succeeded, else None."""
        env, opts = self.env, self.options
        spec = EpisodeSpec(env.suite, self.task.name, "demo", demo_seed, demo_seed, opts.max_steps)
        obs = env.reset_placement(demo_seed)
        assert env.placement_state is not None
        distance = initial_distance(env.placement_state, env.init_states, env.nq)
        if distance < MIN_DISTANCE:
            return None
        rng = np.random.default_rng(demo_seed)
        self.expert.reset(spec, self.task.language)
        states, proprio, executed, clean = [env.flat_state()], [obs.state], [], []
        extra = [privileged.state_features(obs.privileged or {})]
        for _ in range(opts.max_steps):
            label = self.expert.act(obs).actions[0].astype(np.float64)
            action = label.copy()
            if self.job.noise > 0:
                action[:3] = np.clip(action[:3] + rng.normal(0.0, self.job.noise, 3), -1.0, 1.0)
            result = env.step(action)
            obs = result.obs
            executed.append(action)
            clean.append(label)
            states.append(env.flat_state())
            proprio.append(obs.state)
            extra.append(privileged.state_features(obs.privileged or {}))
            if result.success:
                return {
                    "seed": demo_seed,
                    "distance": distance,
                    "states": np.stack(states),
                    "state": np.stack(proprio),
                    "privileged_state": np.stack(extra),
                    "action": np.stack(executed),
                    "clean": np.stack(clean),
                }
        return None

    def render(self, states: np.ndarray, steps: Sequence[int]) -> dict[int, dict[str, np.ndarray]]:
        out = {}
        for t in steps:
            self.env.set_flat_state(states[t])
            out[t] = {name: self.env.render_camera(cam) for name, cam in CAMERAS.items()}
        return out


def _rows(
    demo: dict[str, Any],
    frames: dict[int, dict[str, np.ndarray]],
    episode: int,
    task_index: int,
    first_index: int,
    flip: str,
) -> dict[str, list[Any]]:
    """One parquet table: a row per observation (T + 1 of them: the last has no action)."""
    steps = len(demo["states"])
    zeros = np.full(7, np.nan)
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "index",
            "episode_index",
            "frame_index",
            "timestamp",
            "task_index",
            "observation.state",
            "observation.privileged_state",
            "action",
            "action.clean",
            "sim_state",
            "next.done",
            *[f"observation.images.{name}" for name in CAMERAS],
        )
    }
    for t in range(steps):
        cols["index"].append(first_index + t)
        cols["episode_index"].append(episode)
        cols["frame_index"].append(t)
        cols["timestamp"].append(t / FPS)
        cols["task_index"].append(task_index)
        cols["observation.state"].append(demo["state"][t].astype(np.float32).tolist())
        cols["observation.privileged_state"].append(demo["privileged_state"][t].tolist())
        has_action = t < steps - 1
        cols["action"].append((demo["action"][t] if has_action else zeros).astype(np.float32).tolist())
        cols["action.clean"].append((demo["clean"][t] if has_action else zeros).astype(np.float32).tolist())
        cols["sim_state"].append(demo["states"][t].tolist())
        cols["next.done"].append(t == steps - 1)
        for name in CAMERAS:
            image = frames.get(t, {}).get(name)
            cols[f"observation.images.{name}"].append(None if image is None else _png(upright(image, flip)))
    return cols


def collect(job: DemoJob, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the job; write the dataset; return its info.json content."""
    import pandas as pd

    tasks = [catalog.find_task(job.suite, t) for t in job.tasks]
    data_dir = job.out / "data" / "chunk-000"
    data_dir.mkdir(parents=True, exist_ok=True)
    (job.out / "meta").mkdir(exist_ok=True)
    episodes: list[dict[str, Any]] = []
    total, t0 = 0, time.perf_counter()
    for task_index, task in enumerate(tasks):
        collector = DemoCollector(catalog.canonical_suite(job.suite), task, job)
        kept = 0
        try:
            for j in range(job.episodes * job.max_attempts_factor):
                if kept == job.episodes:
                    break
                demo = collector.attempt(DEMO_SEED_BASE + j)
                if demo is None:
                    log(f"{task.name} seed {DEMO_SEED_BASE + j}: expert failed or overlapping, skipped")
                    continue
                steps = len(demo["states"])
                frames = collector.render(
                    demo["states"], sorted({*range(0, steps, job.frame_stride), steps - 1})
                )
                episode = len(episodes)
                cols = _rows(demo, frames, episode, task_index, total, collector.options.image_flip)
                pd.DataFrame(cols).to_parquet(data_dir / f"episode_{episode:06d}.parquet")
                episodes.append(
                    {
                        "episode_index": episode,
                        "tasks": [task.language],
                        "length": steps,
                        "demo_seed": demo["seed"],
                        "eval_distance": demo["distance"],
                        "task_name": task.name,
                    }
                )
                total += steps
                kept += 1
                log(f"{task.name} demo {kept}/{job.episodes}: {steps - 1} steps")
        finally:
            collector.close()
    info = {
        "codebase_version": "v2.1",
        "format": FORMAT,
        "robot_type": "panda",
        "fps": FPS,
        "suite": catalog.canonical_suite(job.suite),
        "total_episodes": len(episodes),
        "total_frames": total,
        "total_tasks": len(tasks),
        "chunks_size": 1000,
        "data_path": "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet",
        "frame_stride": job.frame_stride,
        "action_noise": job.noise,
        "demo_seed_base": DEMO_SEED_BASE,
        "min_eval_distance": MIN_DISTANCE,
        "wall_time_s": round(time.perf_counter() - t0, 1),
        "notes": "image columns are PNG bytes on every frame_stride-th step and the last, null elsewhere; "
        "action is what was executed, action.clean the expert's label; sim_state is MuJoCo's flattened "
        "state (time, qpos, qvel) after the step; the last row of an episode has no action (NaN).",
        "features": {
            "observation.state": {
                "dtype": "float32",
                "shape": [8],
                "names": ["eef_x", "eef_y", "eef_z", "rx", "ry", "rz", "finger_l", "finger_r"],
            },
            "observation.privileged_state": {
                "dtype": "float32",
                "shape": [8],
                "names": [
                    "obj_x",
                    "obj_y",
                    "obj_z",
                    "obj_top",
                    "target_x",
                    "target_y",
                    "target_z",
                    "target_top",
                ],
            },
            "action": {"dtype": "float32", "shape": [7]},
            "action.clean": {"dtype": "float32", "shape": [7]},
            "sim_state": {"dtype": "float64", "shape": [-1]},
            **{
                f"observation.images.{n}": {"dtype": "image", "shape": [job.image_size, job.image_size, 3]}
                for n in CAMERAS
            },
        },
    }
    (job.out / "meta" / "info.json").write_text(json.dumps(info, indent=2))
    (job.out / "meta" / "tasks.jsonl").write_text(
        "".join(
            json.dumps({"task_index": i, "task": t.language, "name": t.name}) + "\n"
            for i, t in enumerate(tasks)
        )
    )
    (job.out / "meta" / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in episodes))
    return info
