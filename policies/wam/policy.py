"""The per-chunk loop of a WAM policy: encode -> video -> action -> decode, timed and counted.

`WamPolicy` is backend-agnostic: any `WamNetwork` (network.py) plugs in. It owns the per-episode state
(the network's context and a torch.Generator seeded from the episode's noise seed), so two episodes
never share a cache or a noise stream, and the same seed with the same observations gives the same
actions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from harness.timing import StageTimer, device_name
from harness.types import (
    EVERY_IMAGE,
    ActionChunk,
    EpisodeSpec,
    ImageReads,
    Observation,
    PolicySpec,
    ReadsImages,
)
from policies.adapters import ActionAdapter
from policies.wam.method import WamMethod
from policies.wam.network import Stream, WamNetwork
from policies.wam.plan import ChunkPlan, StreamPlan
from policies.wam.samplers import guided, sample

_SEED_MASK = (1 << 63) - 1


class WamPolicy:
    def __init__(
        self, network: WamNetwork, plan: ChunkPlan, adapter: ActionAdapter, spec: PolicySpec
    ) -> None:
        self.network = network
        self.plan = plan
        self.adapter = adapter
        self.spec = spec
        self._geometry = network.geometry()
        self._device = torch.device(plan.device)
        self._device_label = device_name(plan.device)
        self._ctx: Any = None
        self._gen: torch.Generator | None = None

    def reset(self, episode: EpisodeSpec, instruction: str) -> None:
        """A fresh context and noise stream; nothing of the previous episode survives. The instruction
        is encoded without autograd: a graph kept per live episode would hold the text encoder's
        activations (gigabytes at UMT5-XXL size)."""
        self._end_episode()
        with torch.inference_mode():
            self._ctx = self.network.start_episode(instruction)
        self._gen = torch.Generator(device=self._device)
        self._gen.manual_seed(int(episode.noise_seed) & _SEED_MASK)

    def _denoise(
        self, stream: Stream, plan: StreamPlan, shape: tuple[int, ...], evals: dict[str, int]
    ) -> torch.Tensor:
        guidance: tuple[Any, ...] = ("cond", "uncond") if plan.guided else ("cond",)
        # What one velocity call costs: a network may evaluate more rows than asked for (LingBot-VA
        # runs every pass at its CFG batch of two once either stream guides).
        cost = getattr(self.network, "evaluations", None)
        per_call = int(cost(self._ctx, stream, guidance)) if callable(cost) else len(guidance)

        def count() -> None:
            evals[stream] += per_call

        x = torch.randn(shape, generator=self._gen, device=self._device, dtype=torch.float32)
        return self._sample(stream, plan, guidance, x, count)

    def _sample(
        self,
        stream: Stream,
        plan: StreamPlan,
        guidance: tuple[Any, ...],
        x: torch.Tensor,
        count: Callable[[], None],
    ) -> torch.Tensor:
        """The sampler over the stream's grid, one velocity call per step (`count` after each). A
        batched server's policy hands the whole stream to its batcher instead (policies/serving)."""
        ctx, net = self._ctx, self.network

        def velocity(x: torch.Tensor, sigma: float) -> torch.Tensor:
            v = net.velocity(ctx, stream, x, sigma, guidance)
            count()
            return direction(plan, v)

        return sample(plan.sampler, x, plan.grid, velocity, self._gen)

    def act(self, obs: Observation) -> ActionChunk:
        if self._ctx is None:
            raise RuntimeError("WamPolicy.act() called before reset(): every episode starts with reset")
        evals = {"video": 0, "action": 0}
        net, ctx = self.network, self._ctx
        timer = StageTimer(self._device)
        with torch.inference_mode(), timer:
            with timer.stage("encode"):
                net.encode(ctx, obs)
            with timer.stage("video"):
                video = self._denoise("video", self.plan.video, self._geometry.video_shape, evals)
                net.condition_on_video(ctx, video)
            with timer.stage("action"):
                actions = self._denoise("action", self.plan.action, self._geometry.action_shape, evals)
            with timer.stage("decode"):
                out = self.adapter(actions.float().cpu().numpy())
            start = self._execute_from(ctx)  # before end_chunk: it may depend on the chunk index
            net.end_chunk(ctx, video, actions)
        return ActionChunk(
            np.ascontiguousarray(out),
            dict(timer.timings),
            nfe=evals,
            device=self._device_label,
            execute_from=start,
        )

    def _execute_from(self, ctx: Any) -> int:
        """The first executed row of this chunk, as the network says (its optional `execute_from(ctx)`;
        LingBot-VA: frame 0 of an episode's first chunk is the observed frame, its actions a condition)."""
        rows = getattr(self.network, "execute_from", None)
        start = int(rows(ctx)) if callable(rows) else 0
        if not 0 <= start < self._geometry.action_shape[0]:
            raise RuntimeError(
                f"network says execute_from={start} for a chunk of {self._geometry.action_shape[0]}"
            )
        return start

    def observe(self, obs: Observation) -> None:
        """Every observation after an env step (the runner calls this): a network that keeps the key
        frames of the executed chunk (LingBot-VA's compute_kv_cache) takes them through its optional
        `observe(ctx, obs)`; one that only needs the last frame does without."""
        observe = getattr(self.network, "observe", None)
        if observe is not None and self._ctx is not None:
            observe(self._ctx, obs)

    def image_reads(self) -> ImageReads:
        """A network sees observations only in encode (act()'s) and through its optional observe():
        one without observe() reads act()'s images alone (the tiny WAM); one with it reads all, unless
        it declares fewer with its own `image_reads()` (LingBot-VA: the key frames of each chunk)."""
        if isinstance(self.network, ReadsImages):
            return self.network.image_reads()
        return EVERY_IMAGE if getattr(self.network, "observe", None) is not None else ImageReads(every=0)

    def _end_episode(self) -> None:
        """Let the network release what the episode holds now (its optional `end_episode(ctx)`:
        LingBot-VA's KV cache and debug directory), not whenever the context is collected."""
        end = getattr(self.network, "end_episode", None)
        if self._ctx is not None and callable(end):
            end(self._ctx)
        self._ctx = None

    def close(self) -> None:
        self._end_episode()
        self._gen = None


def direction(plan: StreamPlan, v: torch.Tensor) -> torch.Tensor:
    """The network's velocity rows (one per guidance entry, along the first axis) -> the sampler's
    velocity: the conditional one, or classifier-free guidance between the two."""
    v = v.float()
    return guided(v[0], v[1], plan.cfg) if plan.guided else v[0]


def policy_spec(
    method: WamMethod,
    plan: ChunkPlan,
    backend: str,
    checkpoint: str | None,
    trained: bool,
    extra: Mapping[str, Any] | None = None,
) -> PolicySpec:
    """The built policy's spec: what actually runs (resolved NFE, samplers, shifts, training state)."""
    details = {**plan.describe(), "trained": trained, **(extra or {})}
    if not trained:
        details["warning"] = "untrained network (random initialisation): success rates are meaningless"
    name = method.policy_name
    declared = (method.nfe_video or plan.video.nfe, method.nfe_action or plan.action.nfe)
    if declared != (plan.video.nfe, plan.action.nfe):  # a latency sweep ran the method at other NFE
        details["nfe_override"] = True
    return PolicySpec(
        name=name,
        method=method.name,
        nfe_video=plan.video.nfe,
        nfe_action=plan.action.nfe,
        backend=backend,
        checkpoint=checkpoint,
        description=method.description,
        details=details,
    )


__all__ = ["WamPolicy", "direction", "policy_spec"]
