"""Backend `tiny`: a small joint video-action transformer built into wambench.

It makes the whole pipeline real on a CPU (samplers, NFE, KV cache, timing, action adapters) and is the
template for wrapping another network. Without a `checkpoint` option it is a random initialisation
from `seed`, and its spec says so (`details["trained"] = False`): such a policy scores ~0.

Policy options: checkpoint (a folder written by `save_checkpoint` or `python -m policies.backends.tiny
init`), seed, window (KV cache, in chunks), threads (torch CPU threads of the process; default 1); for
a fresh initialisation also dim, depth, heads, image_size, patch, latent_channels; plus the common WAM
options (policies/wam/plan.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import UserError
from harness.types import PolicySpec
from policies.adapters import make_adapter
from policies.backends.tiny.checkpoint import TinyCheckpoint, init_model, load_checkpoint, save_checkpoint
from policies.backends.tiny.config import TinyConfig
from policies.wam.method import WamMethod
from policies.wam.plan import check_options, resolve_plan
from policies.wam.policy import WamPolicy, policy_spec
from policies.wam.profiles import profile_for

SIZE_OPTIONS = frozenset({"dim", "depth", "heads", "image_size", "patch", "latent_channels"})
OPTIONS = SIZE_OPTIONS | {"seed", "window", "blank_cameras"}
_DTYPES = {"float32": "float32", "bfloat16": "bfloat16", "float16": "float16"}


def config_for_suite(suite: Any, seed: int = 0, **overrides: Any) -> TinyConfig:
    """The default tiny architecture for a suite: its cameras, action and state sizes, chunk geometry."""
    profile = profile_for(suite)
    base: dict[str, Any] = {
        "cameras": tuple(suite.camera_shapes),
        "action_dim": int(suite.action_space.dim),
        "state_dim": int(suite.state_dim),
        "frames_per_chunk": profile.frames_per_chunk,
        "actions_per_frame": profile.actions_per_frame,
        "seed": int(seed),
    }
    return TinyConfig(**{**base, **overrides})


def untrained_quantiles(suite: Any) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles for a model that has seen no data: the action space's nominal range, else [-1, 1]."""
    space = suite.action_space
    lo = -1.0 if space.low is None else float(space.low)
    hi = 1.0 if space.high is None else float(space.high)
    return np.full(space.dim, lo), np.full(space.dim, hi)


def write_untrained_checkpoint(folder: str | Path, suite: Any, seed: int = 0, **overrides: Any) -> Path:
    """Write a random-initialisation checkpoint for `suite` (labelled untrained) to `folder`."""
    model = init_model(config_for_suite(suite, seed, **overrides))
    q01, q99 = untrained_quantiles(suite)
    return save_checkpoint(folder, model, q01, q99, trained=False, notes=f"random init, seed {seed}")


def _check_fits(ckpt: TinyCheckpoint, suite: Any) -> None:
    cfg = ckpt.model.cfg
    plain = not getattr(getattr(suite, "options", None), "privileged_state", True)
    missing = [c for c in cfg.cameras if c not in suite.camera_shapes]
    if missing:
        raise UserError(
            f"tiny checkpoint '{ckpt.path}' reads cameras {list(cfg.cameras)}, but suite '{suite.name}' has "
            f"{sorted(suite.camera_shapes)} (missing: {missing})"
        )
    if cfg.state_dim != suite.state_dim:
        raise UserError(
            f"tiny checkpoint '{ckpt.path}' expects a {cfg.state_dim}-d state, suite '{suite.name}' gives "
            f"{suite.state_dim}-d"
            + (
                " (a privileged-state checkpoint: give the suite the option privileged_state: true)"
                if cfg.state_dim > suite.state_dim and plain
                else ""
            )
        )


def _int_option(options: Mapping[str, Any], key: str) -> int:
    value = options[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"tiny backend option {key} must be an integer, got {value!r}")
    return value


def load_or_init(suite: Any, options: Mapping[str, Any]) -> TinyCheckpoint:
    if options.get("checkpoint"):
        given = sorted(SIZE_OPTIONS & set(options))
        if given:
            raise UserError(
                f"tiny backend: {', '.join(given)} size a fresh model; a checkpoint fixes its own size"
            )
        ckpt = load_checkpoint(str(options["checkpoint"]))
        _check_fits(ckpt, suite)
        return ckpt
    sizes = {k: _int_option(options, k) for k in SIZE_OPTIONS & set(options)}
    seed = _int_option(options, "seed") if "seed" in options else 0
    q01, q99 = untrained_quantiles(suite)
    return TinyCheckpoint(
        init_model(config_for_suite(suite, seed, **sizes)), q01, q99, False, None, "random init"
    )


def build_tiny_policy(method: WamMethod, suite: Any, options: Mapping[str, Any]) -> WamPolicy:
    """The backend entry point `(method, suite, options) -> Policy`; every check runs before any episode."""
    import torch

    from policies.backends.tiny.network import TinyNetwork

    check_options(options, OPTIONS)
    plan = resolve_plan(method, suite, options)
    # A model this small gains nothing from intra-op threads, and N workers on N cores would fight:
    # measured on a loaded 2-core machine, 2 threads made a teacher chunk 27x slower than 1 thread.
    # So a CPU tiny policy sets its process to 1 torch thread unless `threads` says otherwise.
    if options.get("threads") is not None:
        torch.set_num_threads(_int_option(options, "threads"))
    elif plan.device == "cpu":
        torch.set_num_threads(1)
    ckpt = load_or_init(suite, options)
    window = _int_option(options, "window") if "window" in options else None
    adapter = make_adapter(
        suite.action_space, ckpt.q01, ckpt.q99, source=f"tiny checkpoint '{ckpt.path or 'random init'}'"
    )
    dtype = getattr(torch, _DTYPES[plan.dtype])
    blank = options.get("blank_cameras", False)
    if not isinstance(blank, bool):
        raise UserError(f"tiny backend option blank_cameras must be true or false, got {blank!r}")
    network = TinyNetwork(
        ckpt.model, ckpt.q01, ckpt.q99, plan.device, dtype, window=window, blank_cameras=blank
    )
    cfg = ckpt.model.cfg
    extra = {
        "frames_per_chunk": cfg.frames_per_chunk,
        "actions_per_frame": cfg.actions_per_frame,
        "network": {
            "dim": cfg.dim,
            "depth": cfg.depth,
            "heads": cfg.heads,
            "window": network.window,
            "seed": cfg.seed,
        },
        "parameters": sum(p.numel() for p in ckpt.model.parameters()),
        **({"blank_cameras": True} if blank else {}),
    }
    spec = policy_spec(method, plan, "tiny", ckpt.path, ckpt.trained, extra)
    return WamPolicy(network, plan, adapter, spec)


def validate(method: WamMethod, suite: Any, options: Mapping[str, Any]) -> PolicySpec:
    """The runner's pre-flight check: a tiny model is cheap, so this builds one and returns its spec."""
    return build_tiny_policy(method, suite, options).spec


__all__ = [
    "OPTIONS",
    "TinyConfig",
    "build_tiny_policy",
    "config_for_suite",
    "load_checkpoint",
    "save_checkpoint",
    "untrained_quantiles",
    "validate",
    "write_untrained_checkpoint",
]
