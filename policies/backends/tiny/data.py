"""Demonstrations (the LeRobot layout `wambench demos` writes) as tiny-WAM training episodes.

An episode of T actions becomes C = ceil(T / A) chunks of A = frames x actions_per_frame actions, the
chunk geometry inference uses: chunk c's frame f is the observation after action c*A + (f+1)*k
(k = actions_per_frame), its state the observation at step c*A. Actions after the episode's end are
padding (the last action's gripper, no motion), masked out of the loss; frames after it repeat the last.
Images are encoded once, at load, by the model's fixed encoder: training never decodes a PNG twice.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from harness.errors import UserError
from policies.adapters import normalise
from policies.backends.tiny.model import TinyWam
from policies.backends.tiny.sequence import EpisodeBatch


@dataclass(frozen=True)
class RawEpisode:
    text: str
    states: np.ndarray  # [T + 1, state_dim]
    actions: np.ndarray  # [T, action_dim] (the clean labels)
    frames: dict[int, dict[str, np.ndarray]]  # step -> camera -> uint8 HxWx3


def dataset_hash(roots: Sequence[Path]) -> str:
    """sha256 over every dataset file's name and bytes: what a checkpoint's provenance names."""
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def read_episodes(root: Path, cameras: Sequence[str], privileged_state: bool = False) -> list[RawEpisode]:
    import imageio.v3 as iio
    import pandas as pd

    info_file = root / "meta" / "info.json"
    if not info_file.is_file():
        raise UserError(f"{root} is not a demos dataset (no meta/info.json); write one with `wambench demos`")
    info = json.loads(info_file.read_text())
    episodes = []
    for path in sorted((root / "data").glob("chunk-*/episode_*.parquet")):
        table = pd.read_parquet(path)
        state = np.stack(table["observation.state"].to_numpy()).astype(np.float32)
        if privileged_state:
            extra = np.stack(table["observation.privileged_state"].to_numpy()).astype(np.float32)
            state = np.concatenate([state, extra], axis=1)
        actions = np.stack(table["action.clean"].to_numpy()[:-1]).astype(np.float32)
        frames: dict[int, dict[str, np.ndarray]] = {}
        for cam in cameras:
            column = table[f"observation.images.{cam}"]
            for step in np.flatnonzero(column.notna().to_numpy()):
                image = iio.imread(io.BytesIO(column.iloc[step]["bytes"]))
                frames.setdefault(int(step), {})[cam] = image
        text = json.loads(
            (root / "meta" / "tasks.jsonl").read_text().splitlines()[int(table["task_index"][0])]
        )
        episodes.append(RawEpisode(str(text["task"]), state, actions, frames))
    if not episodes:
        raise UserError(f"{root} holds no episodes ({info.get('total_episodes')} listed in info.json)")
    return episodes


def action_quantiles(episodes: Sequence[RawEpisode]) -> tuple[np.ndarray, np.ndarray]:
    allacts = np.concatenate([e.actions for e in episodes])
    return np.quantile(allacts, 0.01, axis=0), np.quantile(allacts, 0.99, axis=0)


def state_statistics(episodes: Sequence[RawEpisode], floor: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of the demos' states, the deviation at least `floor`
    (1 cm for positions: a channel that never varies in the demos is not blown up into noise)."""
    states = np.concatenate([e.states for e in episodes]).astype(np.float64)
    return states.mean(0), np.maximum(states.std(0), floor)


def _frame_at(ep: RawEpisode, step: int) -> dict[str, np.ndarray]:
    last = len(ep.states) - 1
    step = min(step, last)
    if step not in ep.frames:
        raise UserError(
            f"demos have no frame at step {step}: record them with --frame-stride dividing "
            "the model's actions_per_frame"
        )
    return ep.frames[step]


def to_batch(model: TinyWam, ep: RawEpisode, q01: np.ndarray, q99: np.ndarray) -> EpisodeBatch:
    cfg = model.cfg
    n_act, per = cfg.actions_per_chunk, cfg.actions_per_frame
    steps = len(ep.actions)
    chunks = math.ceil(steps / n_act)
    norm = normalise(ep.actions.astype(np.float64), q01, q99).astype(np.float32)
    hold = norm[-1].copy()
    hold[:-1] = normalise(np.zeros_like(ep.actions[-1:], dtype=np.float64), q01, q99)[0, :-1]
    padded = np.concatenate([norm, np.repeat(hold[None], chunks * n_act - steps, axis=0)])
    valid = np.arange(chunks * n_act) < steps

    def encode(step: int) -> torch.Tensor:
        images = _frame_at(ep, step)
        with torch.no_grad():
            return torch.cat([model.encoder(torch.from_numpy(images[c])[None])[0] for c in cfg.cameras])

    video = torch.stack(
        [
            torch.stack([encode(c * n_act + (f + 1) * per) for f in range(cfg.frames_per_chunk)])
            for c in range(chunks)
        ]
    )
    states = np.stack([ep.states[min(c * n_act, steps)] for c in range(chunks)])
    return EpisodeBatch(
        text=ep.text,
        first_frame=encode(0),
        video=video,
        states=torch.from_numpy(states),
        actions=torch.from_numpy(padded.reshape(chunks, n_act, -1)),
        action_valid=torch.from_numpy(valid.reshape(chunks, n_act)),
    )


__all__ = ["RawEpisode", "action_quantiles", "dataset_hash", "read_episodes", "to_batch"]
