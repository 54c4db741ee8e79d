"""Executors run WorkItems somewhere and hand back EpisodeRecords; the runner stores and retries.

An executor never writes the store and never decides retries: it only guarantees that every
submitted item comes back exactly once, as the worker's record or as an `error` record saying why
the worker could not produce one (timeout, crash). The local executor uses spawned processes, the
Ray executor (`executor: ray`) Ray actors, both running harness.worker.Worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from harness.config import RunConfig
from harness.records import EpisodeRecord
from harness.worker import WorkerSetup, WorkItem


class Executor(Protocol):
    def start(self, setup: WorkerSetup) -> None: ...

    def submit(self, item: WorkItem) -> None: ...

    def results(self) -> Iterator[EpisodeRecord]:
        """Yield a record per submitted item until none is outstanding (submit may be called meanwhile)."""
        ...

    def shutdown(self) -> None:
        """Stop all workers now; outstanding items are dropped (they stay unfinished in the store)."""
        ...


def make_executor(config: RunConfig, workers: int, env_memory_gb: float) -> Executor:
    """The executor the config names; Ray is imported only when it is the one."""
    if config.executor == "ray":
        from harness.executors.ray import RayExecutor

        return RayExecutor(workers, config.episode_timeout_s, env_memory_gb, config.ray_address)
    from harness.executors.local import LocalExecutor

    return LocalExecutor(workers, config.episode_timeout_s)


__all__ = ["Executor", "make_executor"]
