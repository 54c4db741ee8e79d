"""Observations for timing a policy without its simulator.

Latency depends on the shapes a policy sees (image sizes, cameras, state width), not on the pixels, so
a suite's declared `camera_shapes` and `state_dim` are enough: synthetic frames are deterministic
random uint8 images, pre-generated before any timing so their cost is never charged to a chunk.
Recorded observations (an `.npz`) can replace them where content matters (e.g. a data-dependent
early exit); they are checked against the suite's geometry first.

Where a suite cannot be constructed here (its simulator or assets are not installed), the geometry
its factory declares without building it (`builtin_geometry`, from the factory's `geometry()`) stands
in; the result says which source was used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness import registry
from harness.errors import UserError
from harness.shapes import ShapeSuite
from harness.types import ActionSpace, Observation

DEFAULT_INSTRUCTION = "pick up the object and place it on the plate"


@dataclass(frozen=True)
class Geometry:
    """What a policy's inputs look like for one suite, and where that knowledge came from."""

    suite: str
    camera_shapes: Mapping[str, tuple[int, int, int]]
    state_dim: int
    action_space: ActionSpace
    source: str  # "suite" (from the suite object) or "builtin" (declared by the suite's factory)


def geometry_from_suite(suite: Any, name: str) -> Geometry:
    try:
        shapes = {str(k): tuple(int(x) for x in v) for k, v in dict(suite.camera_shapes).items()}
        state_dim = int(suite.state_dim)
        action_space = suite.action_space
    except (AttributeError, TypeError, ValueError) as exc:
        raise UserError(
            f"suite '{name}' does not declare camera_shapes/state_dim/action_space ({exc}); "
            f"it cannot be timed without its simulator"
        ) from exc
    for cam, shape in shapes.items():
        if len(shape) != 3 or shape[2] != 3 or min(shape) <= 0:
            raise UserError(f"suite '{name}' declares camera '{cam}' with shape {shape}; expected (H, W, 3)")
    return Geometry(name, shapes, state_dim, action_space, "suite")  # type: ignore[arg-type]


def declared_shape(name: str) -> ShapeSuite | None:
    """The geometry suite `name` declares without being built (its registered factory's
    `geometry()`), or None where the name is unknown or its factory declares none."""
    try:
        factory = registry.suites.get(name)
    except UserError:
        return None
    declare = getattr(factory, "geometry", None)
    if not callable(declare):
        return None
    shape: ShapeSuite = declare()
    return shape


def builtin_geometry(name: str) -> Geometry:
    """The geometry suite `name` declares (its factory's `geometry()`, the same numbers its suite
    object has), for a suite that cannot be built on this machine."""
    shape = declared_shape(name)
    if shape is None:
        raise UserError(
            f"suite '{name}' could not be built here and declares no geometry (a suite factory's "
            "`geometry()`); install the suite, or use one that declares it"
        )
    return Geometry(name, dict(shape.camera_shapes), shape.state_dim, shape.action_space, "builtin")


def synthetic_observations(geometry: Geometry, n: int, seed: int = 0) -> list[Observation]:
    """n distinct, deterministic observations (a fresh frame per chunk, as in an episode)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        images = {
            cam: rng.integers(0, 256, size=shape, dtype=np.uint8)
            for cam, shape in geometry.camera_shapes.items()
        }
        state = rng.standard_normal(geometry.state_dim).astype(np.float32)
        out.append(Observation(images=images, state=state, instruction=DEFAULT_INSTRUCTION))
    return out


def recorded_observations(path: str | Path, geometry: Geometry, n: int) -> list[Observation]:
    """n observations cycled from an `.npz` with `images/<camera>` [N, H, W, 3] uint8 and `state`
    [N, D] (optional `instruction`), checked against the suite's geometry before any timing."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"recorded observations '{p}' not found (give an .npz file or drop --obs)")
    with np.load(p, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    missing = [c for c in geometry.camera_shapes if f"images/{c}" not in arrays]
    if missing or "state" not in arrays:
        need = [f"images/{c}" for c in geometry.camera_shapes] + ["state"]
        raise UserError(f"'{p}' lacks arrays {missing or ['state']}; it needs {need}")
    state = np.asarray(arrays["state"], dtype=np.float32)
    if state.ndim != 2 or state.shape[1] != geometry.state_dim:
        raise UserError(f"'{p}': state has shape {state.shape}, expected [N, {geometry.state_dim}]")
    count = state.shape[0]
    for cam, shape in geometry.camera_shapes.items():
        img = arrays[f"images/{cam}"]
        if img.dtype != np.uint8 or img.ndim != 4 or tuple(img.shape[1:]) != tuple(shape):
            raise UserError(
                f"'{p}': images/{cam} is {img.dtype} {img.shape}, "
                f"expected uint8 [N, {', '.join(map(str, shape))}]"
            )
        if img.shape[0] != count:
            raise UserError(f"'{p}': images/{cam} has {img.shape[0]} frames but state has {count}")
    if count == 0:
        raise UserError(f"'{p}' holds no observations")
    instruction = str(arrays["instruction"]) if "instruction" in arrays else DEFAULT_INSTRUCTION
    return [
        Observation(
            images={
                cam: np.ascontiguousarray(arrays[f"images/{cam}"][i % count])
                for cam in geometry.camera_shapes
            },
            state=state[i % count].copy(),
            instruction=instruction,
        )
        for i in range(n)
    ]


__all__ = [
    "DEFAULT_INSTRUCTION",
    "Geometry",
    "builtin_geometry",
    "declared_shape",
    "geometry_from_suite",
    "recorded_observations",
    "synthetic_observations",
]
