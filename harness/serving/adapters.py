"""Translate the observation and action layouts of foreign clients to wambench's contracts.

LingBot-VA's clients send `{"observation.images.<camera>": HxWx3 uint8, "observation.state": ...,
"task": ...}` and expect actions as `[channels, latent_frames, actions_per_frame]`; openpi's clients
send flat keys such as `observation/image`, `observation/wrist_image`, `observation/state`, `prompt`
(or a nested `images` map, sometimes channel-first) and expect `actions` as `[T, D]`. A wambench
policy takes an `Observation` whose cameras are named as its suite names them, and returns `[T, D]`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from harness.types import Observation

_PREFIXES = (
    "observation.images.",
    "observation/images/",
    "observation.",
    "observation/",
    "images.",
    "images/",
)
_SUFFIXES = ("_rgb", "_image", "_images", "_camera", "_img")
# Names that mean the same camera in different projects (openpi's LIBERO "image" is the third-person
# view and "wrist_image" the hand camera; LingBot-VA's RoboTwin "cam_high" is wambench's "head").
_GROUPS = (
    frozenset({"agentview", "image", "base", "front", "third_person", "head", "high", "cam_high", "main"}),
    frozenset({"wrist", "eye_in_hand", "hand", "gripper"}),
)


def _group(name: str) -> int | None:
    return next((i for i, g in enumerate(_GROUPS) if name in g), None)


class AdapterError(ValueError):
    """The client's message does not carry what the policy needs (the reply says what)."""


def _normalise(key: str) -> str:
    name = key.lower()
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return name


def _as_hwc_uint8(key: str, value: Any) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.ndim != 3:
        raise AdapterError(
            f"image '{key}' must be an HxWx3 array, got {getattr(value, 'shape', value)!r:.60}"
        )
    img = value
    if img.shape[-1] != 3 and img.shape[0] == 3:  # openpi's ALOHA clients send CHW
        img = np.moveaxis(img, 0, -1)
    if img.shape[-1] != 3:
        raise AdapterError(f"image '{key}' has shape {value.shape}; expected HxWx3 (or 3xHxW)")
    if img.dtype == np.uint8:
        return np.ascontiguousarray(img)
    if img.dtype.kind == "f":  # openpi's image_tools accept floats in [0, 1] or [-1, 1]
        lo = -1.0 if float(img.min(initial=0.0)) < 0.0 else 0.0
        scaled = (img.astype(np.float32) - lo) / (1.0 - lo) * 255.0
        return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    raise AdapterError(f"image '{key}' has dtype {img.dtype}; expected uint8")


def _resize(img: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Bilinear resize to the suite's camera size (clients render at their own resolution)."""
    if img.shape == tuple(shape):
        return img
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(img).permute(2, 0, 1)[None].float()
    out = F.interpolate(t, size=shape[:2], mode="bilinear", align_corners=False, antialias=True)
    return out[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()


def match_cameras(images: Mapping[str, np.ndarray], wanted: Sequence[str]) -> dict[str, np.ndarray]:
    """Name the client's images as the suite does: exact, alias, then substring matches, then order."""
    if not wanted:
        return {_normalise(k): v for k, v in images.items()}
    by_norm = {_normalise(k): k for k in images}
    out: dict[str, np.ndarray] = {}
    used: set[str] = set()
    for cam in wanted:
        target = _normalise(cam)
        hit = by_norm.get(target)
        if hit is None:
            hit = next(
                (k for n, k in by_norm.items() if (n in target or target in n) and k not in used), None
            )
        if hit is None and _group(target) is not None:
            hit = next((k for n, k in by_norm.items() if _group(n) == _group(target) and k not in used), None)
        if hit is not None and hit not in used:
            out[cam] = images[hit]
            used.add(hit)
    rest = [k for k in images if k not in used]
    for cam in wanted:
        if cam not in out and rest:
            out[cam] = images[rest.pop(0)]
    missing = [c for c in wanted if c not in out]
    if missing:
        raise AdapterError(
            f"the message has images {sorted(images)} but the policy needs cameras {list(wanted)} "
            f"(missing: {missing})"
        )
    return out


def _collect_images(msg: Mapping[str, Any]) -> dict[str, np.ndarray]:
    images: dict[str, np.ndarray] = {}
    for key, value in msg.items():
        if isinstance(value, Mapping) and _normalise(str(key)) in ("images", "image"):
            for sub, img in value.items():
                images[str(sub)] = _as_hwc_uint8(str(sub), img)
        elif isinstance(value, np.ndarray) and value.ndim == 3:
            images[str(key)] = _as_hwc_uint8(str(key), value)
    return images


def _find_state(msg: Mapping[str, Any], state_dim: int) -> np.ndarray:
    for key, value in msg.items():
        if _normalise(str(key)) in ("state", "states", "proprio") and value is not None:
            arr = np.asarray(value, dtype=np.float64).reshape(-1)
            if arr.dtype.kind not in "fiub":
                raise AdapterError(f"state '{key}' must be numeric")
            return arr
    return np.zeros(state_dim, dtype=np.float64)  # LingBot-VA's LIBERO client sends no state


def foreign_observation(
    msg: Mapping[str, Any],
    instruction: str,
    cameras: Mapping[str, tuple[int, int, int]],
    state_dim: int,
) -> Observation:
    """An Observation from a LingBot-VA obs map or an openpi infer message."""
    images = _collect_images(msg)
    if not images:
        raise AdapterError(f"the message has no HxWx3 images (keys: {sorted(map(str, msg))})")
    named = match_cameras(images, list(cameras))
    if cameras:
        named = {cam: _resize(img, cameras[cam]) for cam, img in named.items()}
    return Observation(images=named, state=_find_state(msg, state_dim), instruction=instruction)


def to_lingbot_actions(
    actions: np.ndarray, actions_per_frame: int, first_chunk: bool, execute_from: int = 0
) -> np.ndarray:
    """[T, D] -> [D, frames, actions_per_frame], as LingBot-VA's clients index it.

    Their clients execute every frame but latent frame 0 of an episode's first chunk. So the rows the
    policy executes (`execute_from` on) are sent as frames, and a first chunk gets one leading frame
    in front of them: the policy's own unexecuted frame when it has one (LingBot-VA's observed frame),
    else a copy of the first executed frame (never executed either).
    """
    dim = actions.shape[1]
    executed = actions[execute_from:]
    if actions_per_frame < 1 or len(executed) % actions_per_frame:
        raise AdapterError(
            f"a chunk of {len(executed)} executed actions does not split into frames of "
            f"{actions_per_frame} actions (set the server's --actions-per-frame)"
        )
    frames = executed.reshape(len(executed) // actions_per_frame, actions_per_frame, dim)
    if first_chunk:
        own = actions[execute_from - actions_per_frame : execute_from]
        lead = own[None] if execute_from >= actions_per_frame else frames[:1]
        frames = np.concatenate([lead, frames], axis=0)
    return np.ascontiguousarray(frames.transpose(2, 0, 1))


def from_lingbot_actions(action: np.ndarray) -> np.ndarray:
    """[D, frames, actions_per_frame] -> [T, D], every frame (which rows run is the chunk's
    `execute_from`: their clients skip frame 0 of a first chunk)."""
    if not isinstance(action, np.ndarray) or action.ndim != 3:
        raise AdapterError(
            f"expected an action of shape [D, frames, per_frame], got {getattr(action, 'shape', action)}"
        )
    dim = action.shape[0]
    return np.ascontiguousarray(action.transpose(1, 2, 0).reshape(-1, dim))


__all__ = [
    "AdapterError",
    "foreign_observation",
    "from_lingbot_actions",
    "match_cameras",
    "to_lingbot_actions",
]
