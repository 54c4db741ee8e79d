"""Batched serving of stateful WAM sessions: one device, one network, many sessions' contexts.

Every session of a batched server runs its own `WamPolicy` (its own context, KV cache and noise
generator) on a `SessionNetwork`: a stand-in for the shared network that hands each call to the
`NetworkBatcher` (turns.py), where the sessions take turns on the network. Velocity evaluations at the
same point of the per-chunk loop (same stream, same guidance, same sigma, i.e. the same step of the
same grid, same input shape) are gathered into one `velocity_batch(ctxs, stream, xs, sigmas,
guidance)` call; every other call (encode, the video condition pass, end of chunk, ...) runs alone.
A `BatchedWamPolicy` hands each stream over whole: its grid and its step (guidance, then the sampler
with the session's own generator), so its thread is not woken at every step. With `max_batch_size` 1,
or a network without `velocity_batch`, every step runs alone through the network's own `velocity`:
exactly the unbatched path.

Nothing of one session reaches another: its noise comes from its own generator, drawn in its own
order; its context is only ever passed as its own row, its step sees its own row alone, and the
network's batched call must make row i depend on row i's inputs alone (the tiny backend pads and
masks caches: equal to the unbatched path within 1e-5 in float32, tests/policies/serving/
test_batching.py). Rows whose steps draw no noise and share a plan take their step stacked
(`PlanStep.together`): the same elementwise operations, each row's numbers its own, bit for bit.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.serving.sharing import BatchSettings
from policies.serving.turns import NetworkBatcher


@dataclass
class PlanStep:
    """One session's step on one stream: guidance, then its plan's sampler with its own generator
    (`count` adds the step's network evaluations to the chunk's NFE)."""

    plan: Any  # the stream's StreamPlan
    gen: Any  # the session's torch.Generator
    count: Callable[[], None] = field(repr=False)

    def __call__(self, x: Any, v: Any, sigma: float, sigma_next: float) -> Any:
        from policies.wam.policy import direction

        self.count()
        return self.plan.sampler.step(x, direction(self.plan, v), sigma, sigma_next, self.gen)

    def together(
        self, steps: Sequence[Any], xs: Sequence[Any], rows: Any, sigma: float, sigma_next: float
    ) -> Any:
        """The step of a whole group at once (rows: [n, guidance, *x.shape]), or None where it cannot
        be: a step that draws noise (each row's from its own generator), or rows of other plans."""
        import torch

        from policies.wam.policy import direction

        plan = self.plan
        draws = getattr(plan.sampler, "draws_noise", None)
        if (
            not callable(draws)
            or draws(sigma_next)
            or any(getattr(s, "plan", None) is not plan for s in steps)
        ):
            return None
        for s in steps:
            s.count()
        v = direction(plan, rows.transpose(0, 1))  # [n, *x.shape]
        return plan.sampler.step(torch.stack(list(xs)), v, sigma, sigma_next, None).unbind(0)


_DEVICE_CALLS = ("observe", "end_episode", "execute_from", "evaluations")


class SessionNetwork:
    """One session's view of the shared network (a `WamNetwork`): every call takes its turn on it."""

    def __init__(self, batcher: NetworkBatcher, session: int) -> None:
        self._batcher, self._session = batcher, session
        net = batcher.network
        self.device, self.dtype = net.device, net.dtype
        for name in _DEVICE_CALLS:  # the network's optional hooks, only where it has them
            if callable(getattr(net, name, None)):
                setattr(self, name, self._forward(name))

    def _forward(self, name: str) -> Callable[..., Any]:
        fn = getattr(self._batcher.network, name)

        def call(*args: Any) -> Any:
            return self._batcher.call(self._session, fn, *args)

        return call

    def geometry(self) -> Any:
        return self._batcher.network.geometry()

    def action_quantiles(self) -> Any:
        return self._batcher.network.action_quantiles()

    def start_episode(self, instruction: str) -> Any:
        return self._batcher.call(self._session, self._batcher.network.start_episode, instruction)

    def encode(self, ctx: Any, obs: Any) -> None:
        self._batcher.chunk(self._session, True)
        self._batcher.call(self._session, self._batcher.network.encode, ctx, obs)

    def velocity(
        self, ctx: Any, stream: str, x: Any, sigma: float, guidance: Sequence[str] = ("cond",)
    ) -> Any:
        return self._batcher.velocity(self._session, ctx, stream, x, sigma, guidance)

    def denoise(
        self, ctx: Any, stream: str, guidance: Sequence[str], x: Any, grid: Sequence[float], step: Any
    ) -> Any:
        """A whole stream for the batcher: x over `grid`, `step` after each velocity."""
        return self._batcher.denoise(self._session, ctx, stream, guidance, x, grid, step)

    def condition_on_video(self, ctx: Any, video: Any) -> None:
        self._batcher.call(self._session, self._batcher.network.condition_on_video, ctx, video)

    def end_chunk(self, ctx: Any, video: Any, actions: Any) -> None:
        try:
            self._batcher.call(self._session, self._batcher.network.end_chunk, ctx, video, actions)
        finally:
            self._batcher.chunk(self._session, False)

    def abandon_chunk(self) -> None:
        """The chunk failed midway: its session is not waited for until its next chunk."""
        self._batcher.chunk(self._session, False)

    def leave(self) -> None:
        self._batcher.leave(self._session)


@functools.cache
def _batched_policy_class() -> type:
    from policies.wam.policy import WamPolicy

    class BatchedWamPolicy(WamPolicy):
        """A WamPolicy on a SessionNetwork: each stream goes to the batcher whole; a chunk that fails
        midway, or a closed session, is never waited for again."""

        batched = True

        def _sample(self, stream: Any, plan: Any, guidance: Any, x: Any, count: Any) -> Any:
            step = PlanStep(plan, self._gen, count)
            return self.network.denoise(self._ctx, stream, guidance, x, plan.grid, step)  # type: ignore[attr-defined]

        def act(self, obs: Any) -> Any:
            try:
                return super().act(obs)
            except BaseException:
                self.network.abandon_chunk()  # type: ignore[attr-defined]
                raise

        def close(self) -> None:
            try:
                super().close()
            finally:
                self.network.leave()  # type: ignore[attr-defined]

    return BatchedWamPolicy


def batched_policy(template: Any, batcher: NetworkBatcher) -> Any:
    """A fresh session policy like `template` (a WamPolicy: plan, adapter, spec) on the shared network."""
    network = SessionNetwork(batcher, batcher.open_session())
    return _batched_policy_class()(network, template.plan, template.adapter, template.spec)


def can_batch(policy: Any) -> bool:
    """A policy whose network a server can share between sessions: a WamPolicy (plan, adapter, network)."""
    from policies.wam.policy import WamPolicy

    return isinstance(policy, WamPolicy)


class SharedWamNetwork:
    """The `SharedSessions` (harness/serving/sharing.py) of one template WamPolicy: every session a
    policy like it, all on its network through one NetworkBatcher."""

    def __init__(self, template: Any, settings: BatchSettings) -> None:
        self.template = template
        self.batcher = NetworkBatcher(template.network, settings)

    @property
    def batch_sizes(self) -> Counter[int]:
        return self.batcher.batch_sizes

    def session(self) -> Any:
        return batched_policy(self.template, self.batcher)

    def close(self) -> None:
        self.batcher.close()


def share(template: Any, settings: BatchSettings) -> SharedWamNetwork | None:
    """What the WAM factory offers a server for `template` (policies/factory.py); None where the
    policy cannot share its network (not a WamPolicy, e.g. the remote backend)."""
    return SharedWamNetwork(template, settings) if can_batch(template) else None


__all__ = [
    "NetworkBatcher",
    "SessionNetwork",
    "SharedWamNetwork",
    "batched_policy",
    "can_batch",
    "share",
]
