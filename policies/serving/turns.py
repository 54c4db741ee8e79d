"""Sessions taking turns on one network: who runs it, when a batch is complete, who gets which row.

There is no device thread. Each session's own thread runs the network when its turn comes (`busy` is
the device lock): the one whose arrival completes a batch runs it; one whose wait times out runs its
group; one that finds the device free runs its alone call at once; one that finishes work while it
still waits runs the next ready work too, else hands it to a thread of that work (one wake-up). A
session hands over a whole stream (`denoise`: its grid and its step), and whoever runs a batch also
takes each row's sampler step, so a session's thread sleeps from a stream's first step to its last.
The first design had a device thread and one request per step: every step then cost each session two
thread hand-offs, as much as a small network's pass on a CPU (policies/backends/README.md).

When a group runs (the field's convention, vla-eval's BatchPredictModelServer, plus one rule): as soon
as it holds `max_batch_size` requests; when its oldest request has waited `max_wait_ms`; or at once
when no other session can still join it: every session inside a chunk that has not passed that step
is queued at it (one queued at an earlier step runs first and catches up; a chunk's first velocity
also waits for sessions between chunks). Of ready groups the one furthest behind runs first; alone
calls (encode, the condition pass, end of chunk, ...) go before any group.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# A session's sampler step: (x, the network's velocity rows at x, sigma, next sigma) -> next x. It may
# offer `together(steps, xs, rows, sigma, sigma_next) -> next xs | None`: the whole group's step at once.
Step = Callable[[Any, Any, float, float], Any]


@dataclass
class _Request:
    session: int
    run: Callable[[], Any] | None = None  # an alone call; else a stream at its next step:
    ctx: Any = None
    stream: str = ""
    guidance: tuple[str, ...] = ()
    x: Any = None
    grid: Sequence[float] = ()
    step: Step | None = None
    taken: int = 0  # steps of the grid done
    key: tuple[Any, ...] | None = None  # (position in the chunk, stream, guidance, sigma, shape, dtype)
    arrived: float = field(default_factory=time.monotonic)
    wake: threading.Event = field(default_factory=threading.Event)  # done, or work handed to it
    done: bool = False
    assigned: list[_Request] | None = None  # work handed to this request's thread to run
    result: Any = None
    error: BaseException | None = None


@dataclass
class _SessionState:
    in_chunk: bool = False  # between its chunk's encode and end_chunk
    position: int = 0  # index of its next velocity call within the chunk (both streams counted)


def _rows(x: Any, v: Any, sigma: float, sigma_next: float) -> Any:
    return v.clone()  # a lone `velocity` call: its own rows, not a view of the batch's output


class NetworkBatcher:
    """Owns one network; sessions talk to it through `SessionNetwork` (batching.py) and take turns.
    `settings`: a `BatchSettings` (max_batch_size, max_wait_ms)."""

    def __init__(self, network: Any, settings: Any) -> None:
        self.network = network
        self.settings = settings
        self._batchable = callable(getattr(network, "velocity_batch", None)) and settings.max_batch_size > 1
        self._lock = threading.Lock()
        self._queue: list[_Request] = []
        self._busy = False  # a thread is running the network (the device lock)
        self._sessions: dict[int, _SessionState] = {}  # open sessions
        self._next_session = 0
        self._closed = False
        self.batch_sizes: Counter[int] = Counter()  # velocity batches run, by size

    # -- what sessions call ----------------------------------------------------------------------
    def open_session(self) -> int:
        with self._lock:
            self._next_session += 1
            self._sessions[self._next_session] = _SessionState()
            return self._next_session

    def call(self, session: int, fn: Callable[..., Any], *args: Any) -> Any:
        return self._submit(_Request(session, run=lambda: fn(*args)))

    def velocity(
        self, session: int, ctx: Any, stream: str, x: Any, sigma: float, guidance: Sequence[str]
    ) -> Any:
        """One step's velocity rows for one session (the `WamNetwork` call)."""
        return self.denoise(session, ctx, stream, guidance, x, [sigma, sigma], _rows)

    def denoise(
        self,
        session: int,
        ctx: Any,
        stream: str,
        guidance: Sequence[str],
        x: Any,
        grid: Sequence[float],
        step: Step,
    ) -> Any:
        """A whole stream: x integrated over `grid`, `step` after each velocity (the sampler's loop)."""
        guide = tuple(guidance)
        if not self._batchable:  # every step alone through the network's own velocity: the unbatched path
            for sigma, sigma_next in itertools.pairwise(grid):
                v = self.call(session, self.network.velocity, ctx, stream, x, sigma, guide)
                x = step(x, v, sigma, sigma_next)
            return x
        if len(grid) < 2:
            return x
        return self._submit(_Request(session, None, ctx, stream, guide, x, list(grid), step))

    def chunk(self, session: int, inside: bool) -> None:
        """A session starts (encode) or ends (end_chunk, or a failure) a chunk."""
        with self._lock:
            state = self._sessions.get(session)
            if state is not None:
                state.in_chunk, state.position = inside, 0
            if not self._busy:
                self._hand_on(None)

    def leave(self, session: int) -> None:
        """A closed session is never waited for again."""
        with self._lock:
            self._sessions.pop(session, None)
            if not self._busy:
                self._hand_on(None)

    def close(self) -> None:
        """Fail what is queued; what runs now finishes and is handed back."""
        with self._lock:
            self._closed = True
            for req in self._queue:
                req.error, req.done = RuntimeError("the policy server is shutting down"), True
                req.wake.set()
            self._queue.clear()

    # -- taking turns ----------------------------------------------------------------------------
    def _enqueue(self, req: _Request) -> None:
        """Under the lock: a stream's request takes its place in the loop (the session's next call)."""
        if req.run is None:
            state = self._sessions.get(req.session)
            position = state.position if state is not None else 0
            if state is not None:
                state.position = position + 1
            sigma = float(req.grid[req.taken])
            req.key = (position, req.stream, req.guidance, sigma, tuple(req.x.shape), str(req.x.dtype))
            req.arrived = time.monotonic()
        self._queue.append(req)

    def _submit(self, req: _Request) -> Any:
        with self._lock:
            if self._closed:
                raise RuntimeError("the policy server's batcher is closed")
            self._enqueue(req)
            work = self._claim()
        while True:
            if work is not None:
                work = self._execute(work, req)
                continue
            timeout: float | None = None
            with self._lock:
                work, req.assigned = req.assigned, None
                if work is None:
                    if req.done:
                        break
                    work = self._claim()
                if work is None:
                    req.wake.clear()
                    # while the device is busy, until its holder hands on; else until its group may run
                    # on time alone (the oldest request's thread is the one that times its group)
                    if not self._busy and req.key is not None:
                        timeout = max(0.0, req.arrived + self.settings.max_wait_ms / 1e3 - time.monotonic())
            if work is None:
                req.wake.wait(timeout)
        if req.error is not None:
            raise req.error
        return req.result

    def _claim(self) -> list[_Request] | None:
        """Under the lock: the next ready work, the device taken for it; None if busy or none ready."""
        if self._busy:
            return None
        work = self._take()
        if work is not None:
            self._busy = True
        return work

    def _hand_on(self, me: _Request | None) -> list[_Request] | None:
        """Under the lock, the device free: the next ready work, for `me` to run if it still waits, else
        handed to a thread of its own. With none ready, the oldest queued request's thread is woken to
        time its group (it may have gone to sleep while the device was busy)."""
        work = self._claim()
        if work is None:
            oldest = min(self._queue, key=lambda r: r.arrived, default=None)
            if oldest is not None and oldest is not me:
                oldest.wake.set()
            return None
        if me is not None and not me.done:
            return work
        work[0].assigned = work
        work[0].wake.set()
        return None

    def _execute(self, work: list[_Request], me: _Request) -> list[_Request] | None:
        """Run claimed work and hand each request its result (a stream with steps left goes back into
        the queue at its next step); returns the next work if `me` still waits."""
        going_on = self._run(work)
        with self._lock:
            for req in work:
                if id(req) in going_on and not self._closed:
                    self._enqueue(req)
                    continue
                if id(req) in going_on:
                    req.error = RuntimeError("the policy server is shutting down")
                req.done = True
                if req is not me:
                    req.wake.set()
            self._busy = False
            return self._hand_on(me)

    def _could_join(self, position: int, queued: set[int]) -> bool:
        """Whether a session not queued now may still ask for the velocity at `position`: one inside a
        chunk that has not passed it (it runs host code between two calls), or, for a chunk's first
        velocity, one between chunks (its next request may start a chunk right away). One queued at an
        earlier step needs no waiting for: it runs first and catches up."""
        for sid, state in self._sessions.items():
            if sid in queued:
                continue
            if state.position <= position if state.in_chunk else position == 0:
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
        queued = {req.session for req in self._queue}
        now, limit, wait_s = time.monotonic(), self.settings.max_batch_size, self.settings.max_wait_ms / 1e3
        ready = [
            (key, g)
            for key, g in groups.items()
            if len(g) >= limit or now - g[0].arrived >= wait_s or not self._could_join(key[0], queued)
        ]
        if not ready:
            return None
        # the group furthest behind first: its sessions catch up with the others and join their batches
        _, group = min(ready, key=lambda kg: (kg[0][0], kg[1][0].arrived))
        group = group[:limit]
        taken = {id(r) for r in group}
        self._queue = [r for r in self._queue if id(r) not in taken]
        return group

    # -- running ---------------------------------------------------------------------------------
    def _run(self, work: list[_Request]) -> set[int]:
        """Run an alone call or one step of a group of streams; returns the ids of streams that go on."""
        import torch

        try:
            with torch.inference_mode():
                if work[0].run is not None:
                    work[0].result = work[0].run()
                    return set()
                return self._run_group(work)
        except BaseException as exc:  # each caller re-raises it; the others go on
            for req in work:
                req.error = exc
            return set()

    def _run_group(self, group: list[_Request]) -> set[int]:
        # rows in session order, not arrival order: a batch in lockstep then passes the same contexts
        # in the same order at every step, and the network may reuse what it built for the last step
        group = sorted(group, key=lambda r: r.session)
        first, sigma = group[0], float(group[0].grid[group[0].taken])
        if len(group) == 1:
            out = self.network.velocity(first.ctx, first.stream, first.x, sigma, first.guidance).unsqueeze(0)
        else:
            xs, ctxs = [r.x for r in group], [r.ctx for r in group]
            out = self.network.velocity_batch(ctxs, first.stream, xs, [sigma] * len(group), first.guidance)
        self.batch_sizes[len(group)] += 1
        nexts = {float(r.grid[r.taken + 1]) for r in group}
        together = getattr(first.step, "together", None)
        stepped = None
        if len(group) > 1 and len(nexts) == 1 and callable(together):
            stepped = together([r.step for r in group], [r.x for r in group], out, sigma, nexts.pop())
        if stepped is None:  # each row through its own step
            return {id(r) for i, r in enumerate(group) if self._advance(r, out[i], None)}
        return {id(r) for r, x in zip(group, stepped, strict=True) if self._advance(r, None, x)}

    @staticmethod
    def _advance(req: _Request, v: Any, stepped: Any) -> bool:
        """A stream's sampler step on its own row (or the row of the group's step); True while steps
        are left. A row's failure is its session's, not the batch's."""
        assert req.step is not None
        sigma, sigma_next = float(req.grid[req.taken]), float(req.grid[req.taken + 1])
        try:
            req.x = req.step(req.x, v, sigma, sigma_next) if stepped is None else stepped
        except Exception as exc:
            req.error = exc
            return False
        req.taken += 1
        if req.taken < len(req.grid) - 1:
            return True
        # the last x is the session's own: not a view of the group's stacked rows
        req.result, req.x = (req.x if stepped is None else req.x.clone()), None
        return False


__all__ = ["NetworkBatcher", "Step"]
