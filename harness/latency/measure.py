"""Build a policy for one configuration, time its chunks, and close it.

Each configuration gets a freshly built policy, so every configuration has its own cold chunk and
warm-up, and nothing cached by one configuration (compiled kernels, a filled context) flatters the
next. The options passed to the factory are the registry contract: `device`, `dtype`, `backend` (when
given), and `nfe_video` / `nfe_action` for a sweep's overrides, plus any `--option KEY=VALUE`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness import registry
from harness.errors import UserError
from harness.latency.runner import ChunkLoop, RunResult, run_interleaved
from harness.types import Observation

_DEVICE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")
DTYPES = ("float32", "bfloat16", "float16")


def check_device(device: str) -> None:
    """Refuse a device this machine does not have, before anything is built."""
    if not _DEVICE.match(device):
        raise UserError(f"--device '{device}' is not one of cpu, cuda, cuda:N, mps")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise UserError(
                f"--device {device}: CUDA is not available here (torch {torch.__version__}); use cpu"
            )
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise UserError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) here")
    if device == "mps":
        import torch

        if not torch.backends.mps.is_available():
            raise UserError("--device mps: MPS is not available here; use cpu")


def default_dtype(device: str) -> str:
    return "bfloat16" if device.startswith("cuda") else "float32"


@dataclass(frozen=True)
class Setting:
    """One configuration to time: a registered policy and, for a sweep, the NFE overrides."""

    policy: str
    nfe_video: int | None = None
    nfe_action: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def factory_options(self, device: str, dtype: str) -> dict[str, Any]:
        opts: dict[str, Any] = {**dict(self.options), "device": device, "dtype": dtype}
        if self.nfe_video is not None:
            opts["nfe_video"] = self.nfe_video
        if self.nfe_action is not None:
            opts["nfe_action"] = self.nfe_action
        return opts


def steps_label(nfe_video: int | None, nfe_action: int | None) -> str:
    if nfe_video is None and nfe_action is None:
        return "default"
    return f"{nfe_video if nfe_video is not None else '?'}v{nfe_action if nfe_action is not None else '?'}a"


@dataclass
class _Built:
    setting: Setting
    policy: Any
    label: str
    steps: tuple[int | None, int | None]
    meta: dict[str, Any]


def _build(setting: Setting, suite: Any, device: str, dtype: str) -> _Built:
    factory = registry.policies.get(setting.policy)
    options = setting.factory_options(device, dtype)
    policy = factory.build(suite, options)
    spec = getattr(policy, "spec", factory.spec)
    steps = (
        setting.nfe_video if setting.nfe_video is not None else spec.nfe_video,
        setting.nfe_action if setting.nfe_action is not None else spec.nfe_action,
    )
    meta = {"options": dict(options), "method": spec.method, "backend": spec.backend}
    return _Built(setting, policy, steps_label(*steps), steps, meta)


def measure_all(
    settings: Sequence[Setting],
    suite: Any,
    observations: Sequence[Observation],
    *,
    device: str,
    dtype: str,
    warmup: int,
    iters: int,
    chunks_per_episode: int = 0,
    seed: int = 0,
    interleave: bool = False,
    progress: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Time every setting. Sequentially (one policy alive at a time), or interleaved: every policy
    built first and stepped round-robin, one chunk each per round (needs memory for all of them)."""
    suite_name = str(getattr(suite, "name", "suite"))

    def loop_for(b: _Built) -> ChunkLoop:
        return ChunkLoop(
            b.policy,
            observations,
            warmup=warmup,
            iters=iters,
            suite=suite_name,
            label=b.label,
            device=device,
            chunks_per_episode=chunks_per_episode,
            seed=seed,
        )

    def result(b: _Built, loop: ChunkLoop) -> RunResult:
        r = RunResult(
            b.label, b.setting.policy, loop.samples, device, b.steps, {**b.meta, "interleaved": interleave}
        )
        if progress:
            progress(r)
        return r

    results: list[RunResult] = []
    if not interleave:
        for setting in settings:
            b = _build(setting, suite, device, dtype)
            try:
                loop = loop_for(b)
                loop.run()
            finally:
                b.policy.close()
            results.append(result(b, loop))
        return results
    built: list[_Built] = []
    try:
        for setting in settings:
            built.append(_build(setting, suite, device, dtype))
        loops = [loop_for(b) for b in built]
        run_interleaved(loops)
        results = [result(b, loop) for b, loop in zip(built, loops, strict=True)]
    finally:
        for b in built:
            b.policy.close()
    return results


__all__ = ["DTYPES", "Setting", "check_device", "default_dtype", "measure_all", "steps_label"]
