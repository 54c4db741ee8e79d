"""Batched serving of stateful WAM sessions: one device thread, many sessions' contexts.

Every session of a batched server runs its own `WamPolicy` (its own context, KV cache and noise
generator) on a `SessionNetwork`: a stand-in for the shared network that hands each call to the
`NetworkBatcher`'s device thread and waits for the answer. The device thread is the only one that runs
the network. Velocity requests at the same point of the per-chunk loop (same stream, same guidance,
same sigma, i.e. the same step of the same grid, same input shape) are gathered into one
`velocity_batch(ctxs, stream, xs, sigmas, guidance)` call; every other call (encode, the video
condition pass, end of chunk, ...) runs alone, in arrival order.

When a group runs (the field's convention, vla-eval's BatchPredictModelServer, plus one rule): as soon
as it holds `max_batch_size` requests; when its oldest request has waited `max_wait_ms`; or at once when
no other session can still join it: every session inside a chunk that has not passed that step is
already waiting (and, for a chunk's first velocity, so is every session between chunks). Waiting longer
would only add latency. Of several ready groups the one furthest behind in the loop runs first, so a
late session catches up and joins the others' batches. With `max_batch_size` 1 every request runs alone
through the network's own `velocity`: exactly the unbatched path.

Nothing of one session reaches another: a session's noise is drawn in its own thread from its own
generator, its context is only ever passed as its own row, and the network's batched call must make
row i depend on row i's inputs alone (the tiny backend pads and masks caches: equal to the unbatched
path within 1e-5 in float32, tests/policies/serving/test_batching.py).
"""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.serving.sharing import BatchSettings


@dataclass
class _Request:
    session: int
    key: tuple[Any, ...] | None  # None: a call that runs alone
    run: Callable[[], Any] | None = None  # the alone call
    velocity: tuple[Any, Any, float] | None = None  # (ctx, x, sigma) of a velocity request
    arrived: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


def _supports_batch(network: Any) -> bool:
    return callable(getattr(network, "velocity_batch", None))


@dataclass
class _SessionState:
    in_chunk: bool = False  # between its chunk's encode and end_chunk
    position: int = 0  # index of its next velocity call within the chunk (both streams counted)


class NetworkBatcher:
    """Owns one network and the thread that runs it; sessions talk to it through `SessionNetwork`."""

    def __init__(self, network: Any, settings: BatchSettings | None = None) -> None:
        self.network = network
        self.settings = settings or BatchSettings()
        self._batchable = _supports_batch(network)
        self._cv = threading.Condition()
        self._queue: list[_Request] = []
        self._sessions: dict[int, _SessionState] = {}  # open sessions
        self._next_session = 0
        self._closed = False
        self.batch_sizes: Counter[int] = Counter()  # velocity batches run, by size
        self._thread = threading.Thread(target=self._loop, name="wambench-device", daemon=True)
        self._thread.start()

    # -- sessions --------------------------------------------------------------------------------
    def session(self) -> SessionNetwork:
        with self._cv:
            self._next_session += 1
            self._sessions[self._next_session] = _SessionState()
            return SessionNetwork(self, self._next_session)

    def _submit(self, request: _Request) -> Any:
        with self._cv:
            if self._closed:
                raise RuntimeError("the policy server's device thread has stopped")
            self._queue.append(request)
            self._cv.notify_all()
        request.done.wait()
        if request.error is not None:
            raise request.error
        return request.result

    def call(self, session: int, fn: Callable[..., Any], *args: Any) -> Any:
        return self._submit(_Request(session, None, run=lambda: fn(*args)))

    def velocity(
        self, session: int, ctx: Any, stream: str, x: Any, sigma: float, guidance: Sequence[str]
    ) -> Any:
        guide = tuple(guidance)
        state = self._sessions.get(session)
        position = state.position if state is not None else 0
        try:
            if not self._batchable or self.settings.max_batch_size == 1:
                return self.call(session, self.network.velocity, ctx, stream, x, sigma, guide)
            key = (position, stream, guide, float(sigma), tuple(x.shape), str(x.dtype))
            return self._submit(_Request(session, key, velocity=(ctx, x, float(sigma))))
        finally:
            with self._cv:
                if state is not None:
                    state.position = position + 1
                self._cv.notify_all()

    def chunk(self, session: int, inside: bool) -> None:
        """A session starts (encode) or ends (end_chunk, or a failure) a chunk."""
        with self._cv:
            state = self._sessions.get(session)
            if state is not None:
                state.in_chunk, state.position = inside, 0
            self._cv.notify_all()

    def leave(self, session: int) -> None:
        """A closed session is never waited for again."""
        with self._cv:
            self._sessions.pop(session, None)
            self._cv.notify_all()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._thread.join(timeout=10)

    # -- the device thread -----------------------------------------------------------------------
    def _could_join(self, position: int, waiting: set[int]) -> bool:
        """Whether a session not waiting now may still ask for the velocity at `position`: one inside a
        chunk that has not passed it (it runs host code between two calls, or catches up), or, for a
        chunk's first velocity, one between chunks (its next request may start a chunk right away)."""
        for sid, state in self._sessions.items():
            if sid in waiting:
                continue
            if state.in_chunk and state.position <= position:
                return True
            if not state.in_chunk and position == 0:
                return True
        return False

    def _take(self) -> list[_Request] | None:
        """The next work (an alone call, or a velocity group), or None to wait; under the lock."""
        for i, req in enumerate(self._queue):
            if req.key is None:
                return [self._queue.pop(i)]
        if not self._queue:
            return None
        groups: dict[tuple[Any, ...], list[_Request]] = {}
        for req in self._queue:
            assert req.key is not None
            groups.setdefault(req.key, []).append(req)
        waiting = {req.session for req in self._queue}
        now, limit, wait_s = time.monotonic(), self.settings.max_batch_size, self.settings.max_wait_ms / 1e3
        ready = [
            (key, g)
            for key, g in groups.items()
            if len(g) >= limit or now - g[0].arrived >= wait_s or not self._could_join(key[0], waiting)
        ]
        if not ready:
            return None
        # the group furthest behind first: its sessions catch up with the others and join their batches
        _, group = min(ready, key=lambda kg: (kg[0][0], kg[1][0].arrived))
        group = group[:limit]
        taken = {id(r) for r in group}
        self._queue = [r for r in self._queue if id(r) not in taken]
        return group

    def _next_deadline(self) -> float | None:
        keyed = [r.arrived for r in self._queue if r.key is not None]
        return min(keyed) + self.settings.max_wait_ms / 1e3 if keyed else None

    def _loop(self) -> None:
        import torch

        with torch.inference_mode():
            while True:
                with self._cv:
                    work = self._take()
                    while work is None:
                        if self._closed:
                            self._fail_all(RuntimeError("the policy server is shutting down"))
                            return
                        deadline = self._next_deadline()
                        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                        self._cv.wait(timeout)
                        work = self._take()
                self._run(work)

    def _fail_all(self, error: BaseException) -> None:
        for req in self._queue:
            req.error = error
            req.done.set()
        self._queue.clear()

    def _run(self, work: list[_Request]) -> None:
        try:
            if work[0].key is None:
                assert work[0].run is not None
                work[0].result = work[0].run()
            else:
                self._run_group(work)
        except BaseException as exc:  # the callers re-raise it; the device thread goes on
            for req in work:
                req.error = exc
        for req in work:
            req.done.set()

    def _run_group(self, group: list[_Request]) -> None:
        stream, guidance = group[0].key[1], group[0].key[2]  # type: ignore[index]
        rows = [req.velocity for req in group]
        assert all(r is not None for r in rows)
        ctxs = [r[0] for r in rows]  # type: ignore[index]
        xs = [r[1] for r in rows]  # type: ignore[index]
        sigmas = [r[2] for r in rows]  # type: ignore[index]
        if len(group) == 1:
            out = self.network.velocity(ctxs[0], stream, xs[0], sigmas[0], guidance).unsqueeze(0)
        else:
            out = self.network.velocity_batch(ctxs, stream, xs, sigmas, guidance)
        self.batch_sizes[len(group)] += 1
        for i, req in enumerate(group):
            req.result = out[i]


_DEVICE_CALLS = ("observe", "end_episode", "execute_from", "evaluations")


class SessionNetwork:
    """One session's view of the shared network (a `WamNetwork`): every call runs on the device thread."""

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
        """A WamPolicy on a SessionNetwork; a chunk that fails midway, or a closed session, is never
        waited for again."""

        batched = True

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
    return _batched_policy_class()(batcher.session(), template.plan, template.adapter, template.spec)


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
