"""Resolve a method, a suite and run options into the concrete per-chunk plan, or fail early.

Everything a user can get wrong (NFE < 1, an unknown sampler or consistency function, an unknown option,
a CUDA device on a machine without one) is found here, inside `PolicyFactory.build`, before any episode
starts.

Sampler choice where the paper leaves inference open (option `sampler`, or per stream
`video_sampler` / `action_sampler`):
- `default`: the method's own default (Euler for the teacher and the LCM family, as the released
  Flash-WAM server does; the DMD2 rollout for DMD2 students);
- `euler`: Euler on the student's velocity for every stream;
- `consistency`: every stream distilled with a consistency function is sampled by consistency multistep
  with that function (re-noising per `renoise`); streams without one keep their default.
Per-stream values also accept `consistency:<fn>` and `dmd2`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from harness.errors import UserError
from policies.wam import consistency as cfns
from policies.wam.method import RENOISE_NAMES, StreamMethod, WamMethod
from policies.wam.profiles import SuiteProfile, profile_for
from policies.wam.samplers import Sampler, make_sampler

# Options every WAM backend understands; a backend adds its own and rejects the rest.
COMMON_OPTIONS = frozenset(
    {
        "backend",
        "checkpoint",
        "device",
        "dtype",
        "threads",
        "nfe_video",
        "nfe_action",
        "sampler",
        "video_sampler",
        "action_sampler",
        "renoise",
        "cfg_video",
        "cfg_action",
        "video_shift",
        "action_shift",
    }
)
DTYPES = ("float32", "bfloat16", "float16")


@dataclass(frozen=True)
class StreamPlan:
    sampler: Sampler
    nfe: int
    shift: float
    cfg: float
    grid: tuple[float, ...]

    @property
    def guided(self) -> bool:
        return self.cfg != 1.0

    @property
    def evals_per_step(self) -> int:
        """Network evaluations per step: CFG doubles them (conditional and unconditional)."""
        return 2 if self.guided else 1

    @property
    def evals(self) -> int:
        return self.nfe * self.evals_per_step


@dataclass(frozen=True)
class ChunkPlan:
    method: WamMethod
    profile: SuiteProfile
    video: StreamPlan
    action: StreamPlan
    device: str
    dtype: str
    sampler_choice: str

    def describe(self) -> dict[str, Any]:
        """The resolved settings, for the built policy's spec (and so for the store and reports)."""
        return {
            "samplers": f"video {self.video.sampler.label()} / action {self.action.sampler.label()}",
            "sampler_choice": self.sampler_choice,
            "shifts": {"video": self.video.shift, "action": self.action.shift},
            "cfg": {"video": self.video.cfg, "action": self.action.cfg},
            "sigmas": {"video": list(self.video.grid), "action": list(self.action.grid)},
            "evals_per_chunk": {"video": self.video.evals, "action": self.action.evals},
            "frames_per_chunk": self.profile.frames_per_chunk,
            "actions_per_frame": self.profile.actions_per_frame,
            "suite_family": self.profile.family,
            "distilled": {"video": self.method.video.trained_as, "action": self.method.action.trained_as},
            "device": self.device,
            "dtype": self.dtype,
        }


def check_options(options: Mapping[str, Any], extra: frozenset[str] | set[str] = frozenset()) -> None:
    unknown = sorted(set(options) - COMMON_OPTIONS - set(extra))
    if unknown:
        known = ", ".join(sorted(COMMON_OPTIONS | set(extra)))
        raise UserError(f"unknown WAM policy option(s) {', '.join(unknown)} (known: {known})")


def _int(options: Mapping[str, Any], key: str, default: int) -> int:
    value = options.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"option {key} must be an integer, got {value!r}")
    if value < 1:
        raise UserError(f"option {key} must be >= 1 (NFE counts network evaluations), got {value}")
    return value


def _float(options: Mapping[str, Any], key: str, default: float, positive: bool = True) -> float:
    value = options.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"option {key} must be a number, got {value!r}")
    if positive and value <= 0:
        raise UserError(f"option {key} must be positive, got {value}")
    return float(value)


def _choose(stream: StreamMethod, choice: str, label: str) -> StreamMethod:
    """Apply a sampler choice to one stream (see the module docstring)."""
    if choice == "default":
        return stream
    if choice == "euler":
        return replace(stream, sampler="euler")
    if choice == "consistency":
        return replace(stream, sampler="consistency") if stream.consistency else stream
    if choice == "dmd2":
        return replace(stream, sampler="dmd2")
    if choice.startswith("consistency:"):
        fn = choice.split(":", 1)[1]
        cfns.get(fn)
        return replace(stream, sampler="consistency", consistency=fn)
    raise UserError(
        f"unknown {label} '{choice}' (have: default, euler, consistency, consistency:<fn>, dmd2; "
        f"functions: {', '.join(cfns.names())})"
    )


def _device(options: Mapping[str, Any]) -> str:
    device = str(options.get("device") or "cpu")
    if device == "cpu":
        return device
    if not device.startswith("cuda"):
        raise UserError(f"option device must be 'cpu' or 'cuda[:i]', got '{device}'")
    import torch

    if not torch.cuda.is_available():
        raise UserError(f"option device is '{device}' but torch sees no CUDA device here; use device: cpu")
    return device


def resolve_plan(method: WamMethod, suite: Any, options: Mapping[str, Any]) -> ChunkPlan:
    profile = profile_for(suite)
    choice = str(options.get("sampler") or "default")
    renoise = options.get("renoise")
    if renoise is not None and renoise not in RENOISE_NAMES:
        raise UserError(f"option renoise must be one of {', '.join(RENOISE_NAMES)}, got {renoise!r}")
    dtype = str(options.get("dtype") or "float32")
    if dtype not in DTYPES:
        raise UserError(f"option dtype must be one of {', '.join(DTYPES)}, got '{dtype}'")

    def stream_plan(name: str, stream: StreamMethod, nfe: int, shift: float, cfg: float) -> StreamPlan:
        """One stream's sampler and grid: the method's choice, then the run's options (`sampler`,
        `{name}_sampler`, `renoise`, `nfe_{name}`, `{name}_shift`, `cfg_{name}`) over the defaults."""
        nfe = _int(options, f"nfe_{name}", nfe)
        stream = _choose(stream, choice, "sampler")
        stream = _choose(stream, str(options.get(f"{name}_sampler") or "default"), f"{name}_sampler")
        if renoise is not None:
            stream = replace(stream, renoise=renoise)
        stream.validate(name)
        sampler = make_sampler(stream.sampler, stream.consistency, stream.renoise, stream.sigmas)
        shift = _float(options, f"{name}_shift", stream.shift if stream.shift is not None else shift)
        cfg = _float(options, f"cfg_{name}", stream.cfg if stream.cfg is not None else cfg)
        return StreamPlan(sampler, nfe, shift, cfg, tuple(sampler.grid(nfe, shift)))

    nfe_video = method.nfe_video or profile.teacher_nfe_video
    nfe_action = method.nfe_action or profile.teacher_nfe_action
    video = stream_plan("video", method.video, nfe_video, profile.video_shift, profile.cfg_video)
    action = stream_plan("action", method.action, nfe_action, profile.action_shift, profile.cfg_action)
    return ChunkPlan(method, profile, video, action, _device(options), dtype, choice)


__all__ = ["COMMON_OPTIONS", "DTYPES", "ChunkPlan", "StreamPlan", "check_options", "resolve_plan"]
