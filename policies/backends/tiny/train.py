"""`wambench train CONFIG`: flow-matching training of the tiny WAM on demonstrations.

Both streams are trained as the paper's teacher is: x_sigma = (1 - sigma) x0 + sigma eps, target
v = eps - x0, a sigma per chunk and stream drawn half from the suite's shifted schedule (video 5,
action 0.05 on LIBERO) and half uniform; the instruction is dropped 10% of the time (video CFG).
Noisy history (an option) noises the cached frames other than each chunk's last, real one, closing
the gap between training (real frames cached) and inference (predicted frames cached).

A run is resumable and deterministic for its seed: the output folder holds `state.pt` (model,
optimiser, step, RNG) beside the latest checkpoint, and `checkpoints/step-N/` snapshots, each a normal
tiny checkpoint whose config.json carries the provenance (dataset hash, code revision, train config).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from harness.errors import UserError
from policies.backends.tiny.checkpoint import init_model, save_checkpoint
from policies.backends.tiny.config import TinyConfig
from policies.backends.tiny.data import (
    action_quantiles,
    dataset_hash,
    read_episodes,
    state_statistics,
    to_batch,
)
from policies.backends.tiny.loopstate import restore_loop_state, save_loop_state, stored_provenance
from policies.backends.tiny.sequence import EpisodeBatch, episode_forward
from policies.wam.profiles import profile_for
from policies.wam.schedules import shift_sigma


class ModelSize(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    dim: int = 192
    depth: int = 4
    heads: int = 4
    image_size: int = 32
    patch: int = 16
    latent_channels: int = 8


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    data: list[str] = Field(min_length=1)  # dataset folders written by `wambench demos`
    out: str
    suite: str = "libero_object"  # for the chunk geometry and shifts (profile), and the cameras
    cameras: list[str] = ["agentview", "wrist"]
    privileged_state: bool = False  # append the object/target boxes to the state (privileged model)
    # standardise the state inside the model with the demos' mean and deviation (saved with it);
    # false: the raw state, as the first zoo checkpoint was trained
    standardise_state: bool = True
    steps: int = Field(2000, ge=1)
    batch: int = Field(4, ge=1)  # episodes per optimiser step
    lr: float = Field(3e-4, gt=0)
    weight_decay: float = 0.01
    warmup: int = 100
    text_dropout: float = Field(0.1, ge=0, le=1)
    history_noise: float = Field(0.0, ge=0, le=1)  # probability of noising the cached history
    history_sigma_max: float = Field(0.7, ge=0, le=1)
    uniform_sigma_fraction: float = Field(0.5, ge=0, le=1)
    window: int | None = Field(None, ge=1)  # KV window in chunks (inference too); None: the suite's
    # Train on random segments of this many chunks instead of whole episodes: cheaper, and history
    # is truncated as in truncated backprop (sequence.py); None: whole episodes.
    segment_chunks: int | None = Field(None, ge=1)
    init_from: str | None = None  # warm start from a tiny checkpoint (e.g. a zoo entry), fresh optimiser
    checkpoint_every: int = Field(250, ge=1)
    seed: int = 0
    threads: int = Field(1, ge=1)
    size: ModelSize = ModelSize()


def load_config(path: str | Path) -> TrainConfig:
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read train config {path}: {exc}") from exc
    try:
        return TrainConfig.model_validate(data)
    except Exception as exc:
        raise UserError(
            f"train config {path}: {exc}".splitlines()[0] + f" ({exc})".replace("\n", " ")
        ) from exc


def code_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _sigmas(gen: torch.Generator, n: int, shift: float, uniform: float) -> torch.Tensor:
    u = torch.rand(n, generator=gen)
    shifted = shift_sigma(u, shift)
    return torch.where(torch.rand(n, generator=gen) < uniform, u, shifted).clamp(1e-4, 1.0)


def losses(
    model: Any, ep: EpisodeBatch, cfg: TrainConfig, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    profile = profile_for(type("S", (), {"name": cfg.suite})())
    if cfg.segment_chunks is not None and ep.video.shape[0] > cfg.segment_chunks:
        span = ep.video.shape[0] - cfg.segment_chunks + 1
        ep = ep.segment(int(torch.randint(span, (1,), generator=gen)), cfg.segment_chunks)
    chunks = ep.video.shape[0]
    eps_v = torch.randn(ep.video.shape, generator=gen)
    eps_a = torch.randn(ep.actions.shape, generator=gen)
    s_v = _sigmas(gen, chunks, profile.video_shift, cfg.uniform_sigma_fraction)
    s_a = _sigmas(gen, chunks, profile.action_shift, cfg.uniform_sigma_fraction)
    noisy_v = (1 - s_v.view(-1, 1, 1, 1)) * ep.video + s_v.view(-1, 1, 1, 1) * eps_v
    noisy_a = (1 - s_a.view(-1, 1, 1)) * ep.actions + s_a.view(-1, 1, 1) * eps_a
    history = None
    if cfg.history_noise > 0 and float(torch.rand(1, generator=gen)) < cfg.history_noise:
        s_h = torch.rand(chunks, 1, 1, 1, generator=gen) * cfg.history_sigma_max
        noise = torch.randn(ep.video.shape, generator=gen)
        history = (1 - s_h) * ep.video + s_h * noise
        history[:, -1] = ep.video[:, -1]  # each chunk's last frame is observed at inference
    drop = float(torch.rand(1, generator=gen)) < cfg.text_dropout
    pred_v, pred_a = episode_forward(model, ep, noisy_v, s_v, noisy_a, s_a, drop_text=drop, history=history)
    loss_v = ((pred_v - (eps_v - ep.video)) ** 2).mean()
    err_a = ((pred_a - (eps_a - ep.actions)) ** 2).mean(-1)
    loss_a = (err_a * ep.action_valid).sum() / ep.action_valid.sum().clamp(min=1)
    return loss_v, loss_a


def step_progress() -> Any:
    """The bar `wambench train` and `wambench distill` show: description (losses), bar, steps, ETA."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        transient=False,
    )


def train(cfg: TrainConfig, log: Any = print) -> Path:

    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    roots = [Path(d) for d in cfg.data]
    missing = [str(r) for r in roots if not (r / "meta" / "info.json").is_file()]
    if missing:
        raise UserError(f"not demos datasets: {', '.join(missing)} (write them with `wambench demos`)")
    profile = profile_for(type("S", (), {"name": cfg.suite})())
    tcfg = TinyConfig(
        cameras=tuple(cfg.cameras),
        action_dim=7,
        state_dim=8 + (8 if cfg.privileged_state else 0),
        frames_per_chunk=profile.frames_per_chunk,
        actions_per_frame=profile.actions_per_frame,
        window=cfg.window or profile.window,
        seed=cfg.seed,
        **cfg.size.model_dump(),
    )
    model = init_model(tcfg)
    if cfg.init_from:
        from policies.backends.tiny.checkpoint import load_checkpoint

        warm = load_checkpoint(cfg.init_from).model
        if dataclasses.replace(warm.cfg, seed=tcfg.seed) != tcfg:
            raise UserError(f"init_from {cfg.init_from} has another architecture: {warm.cfg} != {tcfg}")
        model.load_state_dict(warm.state_dict())
    raw = [e for root in roots for e in read_episodes(root, cfg.cameras, cfg.privileged_state)]
    q01, q99 = action_quantiles(raw)
    if cfg.standardise_state and tcfg.state_dim:
        mean, std = state_statistics(raw)
        model.set_state_statistics(
            torch.as_tensor(mean, dtype=torch.float32), torch.as_tensor(std, dtype=torch.float32)
        )
    episodes = [to_batch(model, e, q01, q99) for e in raw]
    provenance = {
        "dataset": dataset_hash(roots),
        "code": code_revision(),
        "train_config": cfg.model_dump(),
        "episodes": len(episodes),
    }
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    order = np.random.default_rng(cfg.seed)
    previous = stored_provenance(out)
    if previous is not None and previous["dataset"] != provenance["dataset"]:
        raise UserError(f"{out} was trained on another dataset; choose a new out folder to start over")
    step = restore_loop_state(out, {"model": model}, opt, gen, order)
    if step:
        log(f"resuming {out} at step {step}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "train.yaml").write_text(json.dumps(cfg.model_dump(), indent=2))
    model.train()
    t0 = time.perf_counter()
    history: list[dict[str, float]] = []
    with step_progress() as bar:
        task = bar.add_task("train", total=cfg.steps, completed=step)
        while step < cfg.steps:
            lr = cfg.lr * min(1.0, (step + 1) / max(cfg.warmup, 1))
            for group in opt.param_groups:
                group["lr"] = lr
            opt.zero_grad()
            lv_sum, la_sum = 0.0, 0.0
            for index in order.integers(0, len(episodes), cfg.batch):
                loss_v, loss_a = losses(model, episodes[int(index)], cfg, gen)
                ((loss_v + loss_a) / cfg.batch).backward()
                lv_sum += float(loss_v.detach()) / cfg.batch
                la_sum += float(loss_a.detach()) / cfg.batch
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            history.append({"step": step, "video": lv_sum, "action": la_sum})
            line = f"train video {lv_sum:.3f} action {la_sum:.3f}"
            bar.update(task, completed=step, description=line)
            if not bar.console.is_terminal and (step % 25 == 0 or step == cfg.steps):  # CI logs, nohup
                log(f"step {step}/{cfg.steps} {line} ({time.perf_counter() - t0:.0f} s)")
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                notes = f"trained {step} steps on {len(episodes)} demos"
                save_checkpoint(
                    out / "checkpoints" / f"step-{step}",
                    model,
                    q01,
                    q99,
                    True,
                    notes,
                    provenance={**provenance, "step": step},
                )
                save_checkpoint(
                    out / "latest", model, q01, q99, True, notes, provenance={**provenance, "step": step}
                )
                save_loop_state(out, {"model": model}, opt, gen, order, step, provenance)
                with (out / "losses.jsonl").open("a") as fh:
                    fh.writelines(json.dumps(h) + "\n" for h in history)
                history.clear()
    log(f"trained to step {step} in {time.perf_counter() - t0:.0f} s -> {out / 'latest'}")
    return out / "latest"


__all__ = ["TrainConfig", "load_config", "losses", "train"]
