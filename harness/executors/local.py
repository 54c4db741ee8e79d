"""N spawned worker processes on this machine, supervised by the runner's process.

Each worker has its own duplex pipe; the supervisor sends it one item at a time, preferring an item
of the task whose env the worker already holds. A worker that runs past the episode timeout is
killed (render and physics hangs exist); a worker that dies is replaced. Either way its item comes
back as an `error` record with the reason, and the runner may retry it.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import signal
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from harness.executors.affinity import take_item
from harness.manifest import group_key
from harness.records import EpisodeRecord
from harness.worker import WorkerSetup, WorkItem, worker_main


@dataclass
class _Slot:
    worker_id: int
    process: Any  # multiprocessing.context.SpawnProcess
    conn: Connection
    item: WorkItem | None = None
    started: float = 0.0
    group: tuple[str, str, str] | None = None


class LocalExecutor:
    def __init__(self, workers: int, episode_timeout_s: float) -> None:
        self.n_workers = workers
        self.timeout = episode_timeout_s
        self._ctx = mp.get_context("spawn")
        self._setup: WorkerSetup | None = None
        self._slots: dict[int, _Slot] = {}
        self._pending: deque[WorkItem] = deque()
        self._next_id = 0
        self.replaced = 0  # workers started to replace dead or killed ones

    # ---- lifecycle -----------------------------------------------------------------------------
    def start(self, setup: WorkerSetup) -> None:
        self._setup = setup
        for _ in range(self.n_workers):
            self._spawn()

    def _spawn(self) -> _Slot:
        assert self._setup is not None
        parent, child = self._ctx.Pipe(duplex=True)
        wid = self._next_id
        self._next_id += 1
        proc = self._ctx.Process(
            target=worker_main, args=(wid, self._setup, child), name=f"wambench-worker-{wid}", daemon=True
        )
        proc.start()
        child.close()
        slot = _Slot(wid, proc, parent)
        self._slots[wid] = slot
        return slot

    def _retire(self, slot: _Slot, kill: bool) -> None:
        if kill and slot.process.is_alive():
            slot.process.kill()
        slot.process.join(timeout=5)
        slot.conn.close()
        del self._slots[slot.worker_id]

    def shutdown(self) -> None:
        for slot in list(self._slots.values()):
            if slot.item is None and slot.process.is_alive():
                with contextlib.suppress(BrokenPipeError, OSError):
                    slot.conn.send(None)
        deadline = time.monotonic() + 2.0
        for slot in list(self._slots.values()):
            if slot.item is None:
                slot.process.join(timeout=max(0.0, deadline - time.monotonic()))
            self._retire(slot, kill=True)
        self._pending.clear()

    # ---- work ----------------------------------------------------------------------------------
    def submit(self, item: WorkItem) -> None:
        self._pending.append(item)

    def _pick(self, slot: _Slot) -> WorkItem | None:
        busy = {s.group for s in self._slots.values() if s is not slot and s.item is not None}
        return take_item(self._pending, slot.group, busy)

    def _dispatch(self) -> None:
        for slot in list(self._slots.values()):
            if slot.item is not None or not self._pending:
                continue
            item = self._pick(slot)
            if item is None:
                break
            try:
                slot.conn.send(item)
            except (BrokenPipeError, OSError):
                self._pending.appendleft(item)  # the death is handled on the next wait
                continue
            slot.item, slot.started, slot.group = item, time.monotonic(), group_key(item.spec)

    def _lost(self, slot: _Slot, reason: str) -> EpisodeRecord | None:
        """Retire a dead or hung worker, start a replacement, and turn its item into an error."""
        item = slot.item
        elapsed = time.monotonic() - slot.started
        self._retire(slot, kill=True)
        self._spawn()
        self.replaced += 1
        if item is None:
            return None
        return item.failed(elapsed, reason, slot.worker_id)

    def outstanding(self) -> int:
        return len(self._pending) + sum(1 for s in self._slots.values() if s.item is not None)

    def results(self) -> Iterator[EpisodeRecord]:
        while self.outstanding():
            self._dispatch()
            by_conn = {s.conn: s for s in self._slots.values()}
            by_sentinel = {s.process.sentinel: s for s in self._slots.values()}
            deadlines = [s.started + self.timeout for s in self._slots.values() if s.item is not None]
            wait_s = max(0.0, min(deadlines) - time.monotonic()) if deadlines else 1.0
            ready = wait(list(by_conn) + list(by_sentinel), timeout=min(wait_s, 1.0))
            handled: set[int] = set()
            for obj in ready:
                slot = by_conn.get(obj)  # type: ignore[call-overload]
                if slot is not None and slot.worker_id in self._slots:
                    try:
                        record: EpisodeRecord = slot.conn.recv()
                    except (EOFError, OSError):
                        continue  # the sentinel reports the death
                    slot.item = None
                    handled.add(slot.worker_id)
                    yield record
            for obj in ready:
                slot = by_sentinel.get(obj)
                if slot is None or slot.worker_id not in self._slots:
                    continue
                if slot.conn.poll():  # it answered before dying: take the answer first
                    try:
                        record = slot.conn.recv()
                        slot.item = None
                        yield record
                    except (EOFError, OSError):
                        pass
                slot.process.join(timeout=5)  # the sentinel fires before the exit status is collected
                reason = f"worker process {death_cause(slot.process.exitcode)} during the episode"
                lost = self._lost(slot, reason)
                if lost is not None:
                    yield lost
            now = time.monotonic()
            for slot in list(self._slots.values()):
                if slot.item is not None and now - slot.started > self.timeout:
                    lost = self._lost(slot, f"episode timed out after {self.timeout:g} s; worker killed")
                    if lost is not None:
                        yield lost


def death_cause(exitcode: int | None) -> str:
    """multiprocessing's exit code as words: a negative code is the signal that killed the process."""
    if exitcode is None:
        return "died (exit status not collected)"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"was killed by {name} (signal {-exitcode})"
    return f"exited with code {exitcode}"


__all__ = ["LocalExecutor", "death_cause"]
