"""`wambench train` on a small synthetic demos dataset written in the `wambench demos` layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from harness.errors import UserError
from policies.backends.tiny.checkpoint import load_checkpoint
from policies.backends.tiny.train import TrainConfig, load_config, train
from suites.libero.demos import _rows


def write_dataset(root: Path, episodes: int = 3, steps: int = 21) -> Path:
    rng = np.random.default_rng(0)
    (root / "data" / "chunk-000").mkdir(parents=True)
    (root / "meta").mkdir()
    for e in range(episodes):
        demo = {
            "seed": e,
            "distance": 1.0,
            "states": rng.normal(size=(steps + 1, 10)),
            "state": rng.normal(size=(steps + 1, 8)).astype(np.float32),
            "privileged_state": rng.normal(size=(steps + 1, 8)).astype(np.float32),
            "action": rng.uniform(-1, 1, size=(steps, 7)),
            "clean": rng.uniform(-1, 1, size=(steps, 7)),
        }
        shown = sorted({*range(0, steps + 1, 4), steps})
        frames = {
            t: {c: rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for c in ("agentview", "wrist")}
            for t in shown
        }
        cols = _rows(demo, frames, e, 0, e * (steps + 1), "vertical")
        pd.DataFrame(cols).to_parquet(root / "data" / "chunk-000" / f"episode_{e:06d}.parquet")
    (root / "meta" / "info.json").write_text(json.dumps({"total_episodes": episodes}))
    (root / "meta" / "tasks.jsonl").write_text(
        json.dumps({"task_index": 0, "task": "pick up the soup"}) + "\n"
    )
    return root


def config(tmp: Path, data: Path, out: str, steps: int, **extra: object) -> TrainConfig:
    return TrainConfig.model_validate(
        {
            "data": [str(data)],
            "out": str(tmp / out),
            "steps": steps,
            "batch": 2,
            "checkpoint_every": 2,
            "size": {"dim": 32, "depth": 1, "heads": 2},
            **extra,
        }
    )


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(folder).model.state_dict()


def test_training_lowers_the_loss_and_writes_a_trained_checkpoint_with_provenance(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "ds")
    latest = train(
        config(tmp_path, data, "run", 30, lr=3e-3, warmup=1, checkpoint_every=10), log=lambda _: None
    )
    losses = [json.loads(line) for line in (tmp_path / "run" / "losses.jsonl").read_text().splitlines()]
    assert len(losses) == 30
    first = np.mean([h["action"] for h in losses[:5]])
    last = np.mean([h["action"] for h in losses[-5:]])
    assert last < first
    meta = json.loads((latest / "config.json").read_text())
    assert meta["trained"] is True and meta["provenance"]["step"] == 30
    assert len(meta["provenance"]["dataset"]) == 16 and meta["provenance"]["episodes"] == 3
    assert (tmp_path / "run" / "checkpoints" / "step-20").is_dir()


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "ds")
    straight = train(config(tmp_path, data, "straight", 4, history_noise=0.5), log=lambda _: None)
    train(config(tmp_path, data, "resumed", 2, history_noise=0.5), log=lambda _: None)
    resumed = train(config(tmp_path, data, "resumed", 4, history_noise=0.5), log=lambda _: None)
    a, b = weights(straight), weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_privileged_state_widens_the_model_state(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "ds", episodes=1)
    latest = train(config(tmp_path, data, "priv", 2, privileged_state=True), log=lambda _: None)
    assert load_checkpoint(latest).model.cfg.state_dim == 16


def test_bad_config_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("data: [x]\nout: y\nstepz: 3\n")
    with pytest.raises(UserError, match="stepz"):
        load_config(path)
    with pytest.raises(UserError, match="not demos datasets"):
        train(TrainConfig(data=[str(tmp_path / "none")], out=str(tmp_path / "o")), log=lambda _: None)


def test_segments_and_a_warm_start_train_the_same_architecture(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "ds", episodes=2, steps=60)  # 4 chunks of 16 actions
    first = train(config(tmp_path, data, "a", 2, window=2, segment_chunks=2), log=lambda _: None)
    assert load_checkpoint(first).model.cfg.window == 2
    warm = train(config(tmp_path, data, "b", 1, window=2, init_from=str(first)), log=lambda _: None)
    assert not all(torch.equal(weights(first)[k], weights(warm)[k]) for k in weights(first))
    with pytest.raises(UserError, match="another architecture"):
        train(config(tmp_path, data, "c", 1, window=3, init_from=str(first)), log=lambda _: None)


def test_the_state_is_standardised_with_the_demos_statistics_saved_in_the_checkpoint(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "ds")
    states = np.concatenate(
        [
            np.stack(pd.read_parquet(f)["observation.state"].to_numpy())
            for f in sorted(data.glob("data/*/*.parquet"))
        ]
    )
    model = load_checkpoint(train(config(tmp_path, data, "std", 1), log=lambda _: None)).model
    np.testing.assert_allclose(model.state_shift.numpy(), states.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.state_scale.numpy(), np.maximum(states.std(0), 0.01), rtol=1e-5)
    x = torch.as_tensor(states[:3], dtype=torch.float32)
    standardised = (x - model.state_shift) / model.state_scale
    torch.testing.assert_close(model.embed_state(x), model.state_in(standardised).unsqueeze(1))
    raw = load_checkpoint(
        train(config(tmp_path, data, "raw", 1, standardise_state=False), log=lambda _: None)
    )
    assert torch.all(raw.model.state_shift == 0) and torch.all(raw.model.state_scale == 1)


def test_a_checkpoint_written_before_standardisation_loads_with_the_raw_state(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    folder = train(config(tmp_path, write_dataset(tmp_path / "ds"), "old", 1), log=lambda _: None)
    tensors = load_file(str(folder / "model.safetensors"))
    del tensors["state_shift"], tensors["state_scale"]
    save_file(tensors, str(folder / "model.safetensors"))
    model = load_checkpoint(folder).model
    assert torch.all(model.state_shift == 0) and torch.all(model.state_scale == 1)
