"""Tiny checkpoints: a folder with config.json (architecture, action quantiles, trained flag) and
model.safetensors (every tensor, including the fixed encoder, so a checkpoint is self-contained).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness.errors import UserError
from policies.backends.tiny.config import TinyConfig
from policies.backends.tiny.model import TinyWam

FORMAT = "wambench-tiny/1"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


@dataclass(frozen=True)
class TinyCheckpoint:
    model: TinyWam
    q01: np.ndarray
    q99: np.ndarray
    trained: bool
    path: str | None  # None: built in memory, never saved
    notes: str = ""


# Buffers added after the first checkpoints were written; a checkpoint without them loads as before.
IDENTITY_BUFFERS = ("state_shift", "state_scale")


def init_model(cfg: TinyConfig) -> TinyWam:
    """Random initialisation, deterministic in cfg.seed and independent of the global RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        return TinyWam(cfg)


def save_checkpoint(
    folder: str | Path,
    model: TinyWam,
    q01: np.ndarray | list[float],
    q99: np.ndarray | list[float],
    trained: bool,
    notes: str = "",
    provenance: dict[str, Any] | None = None,
    half: bool = False,
) -> Path:
    """Write the folder; `provenance` (dataset hash, code revision, train config) goes into config.json."""
    from safetensors.torch import save_file

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "format": FORMAT,
        "config": model.cfg.to_json(),
        "trained": bool(trained),
        "action_q01": [float(v) for v in np.asarray(q01).reshape(-1)],
        "action_q99": [float(v) for v in np.asarray(q99).reshape(-1)],
        "notes": notes,
    }
    if provenance is not None:
        meta["provenance"] = provenance
    dtype = torch.float16 if half else torch.float32  # fp16: the zoo's committed checkpoints (half the bytes)
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(out / WEIGHTS_FILE), metadata={"format": FORMAT})
    (out / CONFIG_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")
    return out


def load_checkpoint(folder: str | Path) -> TinyCheckpoint:
    """Load and check a checkpoint folder; anything missing or mis-shaped is a UserError."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from policies.backends.tiny.zoo import resolve

    root = resolve(folder)
    if not root.is_dir():
        raise UserError(
            f"tiny checkpoint '{root}' is not a folder "
            "(write one with `python -m policies.backends.tiny init FOLDER`)"
        )
    missing = [name for name in (CONFIG_FILE, WEIGHTS_FILE) if not (root / name).is_file()]
    if missing:
        raise UserError(f"tiny checkpoint '{root}' lacks {', '.join(missing)}")
    try:
        meta = json.loads((root / CONFIG_FILE).read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"tiny checkpoint '{root}/{CONFIG_FILE}' is not valid JSON: {exc}") from exc
    if meta.get("format") != FORMAT:
        raise UserError(f"tiny checkpoint '{root}' has format {meta.get('format')!r}, expected {FORMAT!r}")
    cfg = TinyConfig.from_json(dict(meta.get("config", {})))
    q01 = np.asarray(meta.get("action_q01", []), dtype=np.float64)
    q99 = np.asarray(meta.get("action_q99", []), dtype=np.float64)
    if q01.size != cfg.action_dim or q99.size != cfg.action_dim:
        raise UserError(
            f"tiny checkpoint '{root}': action quantiles have {q01.size}/{q99.size} channels, "
            f"its config says action_dim {cfg.action_dim}"
        )
    try:
        tensors = load_file(str(root / WEIGHTS_FILE))
    except (SafetensorError, OSError) as exc:
        raise UserError(f"tiny checkpoint '{root}/{WEIGHTS_FILE}' cannot be read: {exc}") from exc
    model = init_model(cfg)
    expected = model.state_dict()
    for key in IDENTITY_BUFFERS:  # older checkpoints fed the raw state: the identity standardisation
        tensors.setdefault(key, expected[key])
    problems = [f"missing {k}" for k in expected if k not in tensors]
    problems += [f"unexpected {k}" for k in tensors if k not in expected]
    problems += [
        f"{k}: {tuple(tensors[k].shape)} != {tuple(v.shape)}"
        for k, v in expected.items()
        if k in tensors and tensors[k].shape != v.shape
    ]
    if problems:
        shown = "; ".join(problems[:5]) + (f"; ... {len(problems) - 5} more" if len(problems) > 5 else "")
        raise UserError(f"tiny checkpoint '{root}' does not fit its config: {shown}")
    model.load_state_dict(tensors)
    return TinyCheckpoint(
        model, q01, q99, bool(meta.get("trained", False)), str(root), str(meta.get("notes", ""))
    )


__all__ = [
    "CONFIG_FILE",
    "FORMAT",
    "WEIGHTS_FILE",
    "TinyCheckpoint",
    "init_model",
    "load_checkpoint",
    "save_checkpoint",
]
