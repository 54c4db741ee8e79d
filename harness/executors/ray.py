"""Env workers as Ray actors: the local executor's contract on one machine or a Ray cluster.

Each actor is one worker process holding `harness.worker.Worker` (the same episode loop, env reuse and
policy lifecycle as a spawned local worker) and reserves Ray resources: CPUs and the suite's
`env_memory_gb`, so Ray places as many envs on a node as it can hold. The driver (the runner's
process) alone talks to the store; actors only return EpisodeRecords. As locally, an actor that runs
past the episode timeout is killed, an actor that dies is replaced, and either way its item comes back
as an `error` record the runner may retry; every submitted item comes back exactly once.

Policies run in-process in the actors. Extension point: `actor_options` is where a shared batched
policy-server actor per GPU (`policy_server: shared`, another issue) would add its `num_gpus` and the
server handle the workers connect to; nothing here assumes a policy lives in the worker.

Ray is imported only here, and this module only when `executor: ray` is asked for.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

from harness.errors import UserError
from harness.executors.affinity import Group, take_item
from harness.manifest import group_key
from harness.records import EpisodeRecord
from harness.worker import Worker, WorkerSetup, WorkItem, prepare_worker_process

CPUS_PER_WORKER = 1.0
GIB = 1024**3


def require_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise UserError(
            "executor 'ray' needs Ray: pip install 'wambench[ray]' (or `pip install -e '.[ray]'`), "
            "or use executor: local"
        ) from None
    return ray


def connect(address: str | None) -> ModuleType:
    """Join the cluster at `address` (None: this node's running cluster, else a new local instance)."""
    ray = require_ray()
    if not ray.is_initialized():
        try:
            ray.init(address=address)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise UserError(
                f"cannot join the Ray cluster at ray_address={address!r}: {_summary(exc)}. Start it with "
                "`ray start --head` (and `ray start --address HEAD:6379` on the other nodes), or leave "
                "ray_address unset to start a local instance"
            ) from None
    return ray


def prepare(address: str | None, env_memory_gb: float, n_items: int) -> int:
    """Connect, check one worker fits on some node, and return the default actor count: as many as the
    cluster's CPUs and memory hold at one CPU and `env_memory_gb` per worker (at most one per item)."""
    ray = connect(address)
    need = {"CPU": CPUS_PER_WORKER, "memory": env_memory_gb * GIB}
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    if not any(all(res.get(k, 0.0) >= v for k, v in need.items()) for res in nodes):
        raise UserError(
            f"no node of the Ray cluster can hold one env worker ({CPUS_PER_WORKER:g} CPU, "
            f"{env_memory_gb:g} GiB memory, the suite's env_memory_gb); add a larger node"
        )
    total = ray.cluster_resources()
    by_cpu = int(total.get("CPU", 1.0) // CPUS_PER_WORKER)
    by_memory = int(total.get("memory", need["memory"]) // max(need["memory"], 1.0))
    return max(1, min(by_cpu, by_memory, n_items))


class EnvWorker:
    """The actor body: a `Worker` in its own process; `ray.remote` wraps it in `RayExecutor.start`."""

    def __init__(self, worker_id: int, setup: WorkerSetup) -> None:
        prepare_worker_process(setup)
        self.worker = Worker(setup, worker_id)

    def ready(self) -> int:
        return self.worker.worker_id

    def run(self, item: WorkItem) -> EpisodeRecord:
        return self.worker.run(item)

    def close(self) -> None:
        self.worker.close()


@dataclass
class _Actor:
    worker_id: int
    handle: Any  # ray.actor.ActorHandle
    ready_ref: Any  # ObjectRef of `ready()` until the actor has started, then None
    ref: Any = None  # ObjectRef of the running episode
    item: WorkItem | None = None
    started: float = 0.0
    group: Group | None = None


class RayExecutor:
    def __init__(
        self,
        workers: int,
        episode_timeout_s: float,
        env_memory_gb: float = 0.5,
        address: str | None = None,
        actor_options: dict[str, Any] | None = None,
    ) -> None:
        self.n_workers = workers
        self.timeout = episode_timeout_s
        self.address = address
        self.actor_options = {
            "num_cpus": CPUS_PER_WORKER,
            "memory": int(env_memory_gb * GIB),
            "max_restarts": 0,  # a dead actor is replaced by us, with a fresh env, and its item retried
            "max_task_retries": 0,
            **(actor_options or {}),
        }
        self._ray: ModuleType | None = None
        self._actor_cls: Any = None
        self._setup: WorkerSetup | None = None
        self._actors: dict[int, _Actor] = {}
        self._pending: deque[WorkItem] = deque()
        self._next_id = 0
        self._failed_starts = 0  # consecutive actors that died before becoming ready
        self.replaced = 0

    # ---- lifecycle -----------------------------------------------------------------------------
    def start(self, setup: WorkerSetup) -> None:
        ray = self._ray = connect(self.address)
        # Threads per worker follow the CPUs the actor reserved, not the driver's core count.
        self._setup = replace(setup, threads=max(1, int(self.actor_options["num_cpus"])))
        self._actor_cls = ray.remote(**self.actor_options)(EnvWorker)
        for _ in range(self.n_workers):
            self._spawn()

    def _spawn(self) -> None:
        wid = self._next_id
        self._next_id += 1
        handle = self._actor_cls.remote(wid, self._setup)
        self._actors[wid] = _Actor(wid, handle, handle.ready.remote())

    def _kill(self, actor: _Actor) -> None:
        assert self._ray is not None
        self._ray.kill(actor.handle, no_restart=True)
        del self._actors[actor.worker_id]

    def shutdown(self) -> None:
        if self._ray is None:
            return
        ray = self._ray
        idle = [a for a in self._actors.values() if a.item is None and a.ready_ref is None]
        closing = [a.handle.close.remote() for a in idle]  # let idle envs close cleanly (simulators)
        if closing:
            ray.wait(closing, num_returns=len(closing), timeout=2.0)
        for actor in list(self._actors.values()):
            self._kill(actor)
        self._pending.clear()

    # ---- work ----------------------------------------------------------------------------------
    def submit(self, item: WorkItem) -> None:
        self._pending.append(item)

    def outstanding(self) -> int:
        return len(self._pending) + sum(1 for a in self._actors.values() if a.item is not None)

    def _dispatch(self) -> None:
        for actor in list(self._actors.values()):
            if actor.item is not None or actor.ready_ref is not None or not self._pending:
                continue
            busy = {a.group for a in self._actors.values() if a is not actor and a.item is not None}
            item = take_item(self._pending, actor.group, busy)
            if item is None:
                break
            actor.ref = actor.handle.run.remote(item)
            actor.item, actor.started, actor.group = item, time.monotonic(), group_key(item.spec)

    def _lost(self, actor: _Actor, reason: str) -> EpisodeRecord | None:
        """Kill a dead or hung actor, start a replacement, and turn its item into an error."""
        item, elapsed = actor.item, time.monotonic() - actor.started
        self._kill(actor)
        self._spawn()
        self.replaced += 1
        if item is None:
            return None
        return item.failed(elapsed, reason, actor.worker_id)

    def _started(self, actor: _Actor) -> None:
        assert self._ray is not None
        try:
            self._ray.get(actor.ready_ref)
        except self._ray.exceptions.RayError as exc:
            self._failed_starts += 1
            if self._failed_starts > 2 * self.n_workers:
                raise RuntimeError(f"Ray could not start env worker actors: {_summary(exc)}") from exc
            self._lost(actor, "")
            return
        actor.ready_ref = None
        self._failed_starts = 0

    def _finished(self, actor: _Actor) -> EpisodeRecord | None:
        assert self._ray is not None
        errors = self._ray.exceptions
        try:
            record: EpisodeRecord = self._ray.get(actor.ref)
        except errors.RayTaskError as exc:  # the method raised: the actor lives on
            item = actor.item
            assert item is not None
            record = item.failed(time.monotonic() - actor.started, _summary(exc), actor.worker_id)
        except errors.RayError as exc:  # the actor or its node died
            return self._lost(actor, f"worker actor died during the episode ({_summary(exc)})")
        actor.item, actor.ref = None, None
        return record

    def results(self) -> Iterator[EpisodeRecord]:
        assert self._ray is not None, "start() first"
        ray = self._ray
        while self.outstanding():
            self._dispatch()
            waiting: dict[Any, _Actor] = {}
            for a in self._actors.values():
                if a.ready_ref is not None:
                    waiting[a.ready_ref] = a
                elif a.ref is not None:
                    waiting[a.ref] = a
            deadlines = [a.started + self.timeout for a in self._actors.values() if a.item is not None]
            wait_s = max(0.0, min(deadlines) - time.monotonic()) if deadlines else 1.0
            done, _ = (
                ray.wait(list(waiting), num_returns=1, timeout=min(wait_s, 1.0)) if waiting else ([], [])
            )
            for ref in done:
                actor = waiting[ref]
                if ref is actor.ready_ref:
                    self._started(actor)
                    continue
                record = self._finished(actor)
                if record is not None:
                    yield record
            now = time.monotonic()
            for actor in list(self._actors.values()):
                if actor.item is not None and now - actor.started > self.timeout:
                    lost = self._lost(
                        actor, f"episode timed out after {self.timeout:g} s; worker actor killed"
                    )
                    if lost is not None:
                        yield lost


def _summary(exc: BaseException) -> str:
    """One sentence of a Ray error: its text starts with the remote traceback and runs on with advice."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    head, dot, _ = lines[-1].partition(". ")
    return (head + dot.strip())[:200]


__all__ = ["EnvWorker", "RayExecutor", "connect", "prepare", "require_ray"]
