"""Plan -> executor -> store, with resume, bounded retries and a clean stop.

`plan()` (harness/planning.py) does every check that can fail on bad input before anything is
written; `execute()` then writes the run, the frozen manifest and the policies, and runs exactly the
(policy, episode) pairs that have no final record yet. The store is written only here, in one
process, one transaction per episode: an interrupt or a crash loses no finished episode.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from harness import provenance, registry
from harness.config import RunConfig
from harness.executors import Executor, make_executor
from harness.outlock import OutputLock
from harness.planning import Plan, check_out_dir, parse_shard, plan, shard_out
from harness.policy_server import SharedPolicyServers
from harness.progress import RunProgress
from harness.sizing import available_memory_gb, default_workers, env_memory_gb
from harness.store import Store, manifest_hash
from harness.storeio import storage_error
from harness.worker import WorkerSetup, WorkItem


@dataclass
class RunResult:
    out: Path
    ran: int = 0  # items executed this invocation (attempts included)
    skipped: int = 0  # (policy, episode) pairs already final before this invocation
    outcomes: dict[str, int] = field(default_factory=dict)  # final outcomes recorded this invocation
    interrupted: bool = False
    workers_replaced: int = 0
    errors_left: int = 0  # episodes of this store (this shard) whose final outcome is still `error`

    @property
    def failed(self) -> bool:
        return self.interrupted or self.errors_left > 0 or self.outcomes.get("error", 0) > 0


def execute(
    p: Plan,
    executor: Executor | None = None,
    progress: RunProgress | None = None,
) -> RunResult:
    """Run the plan's unfinished items; record the run `finished` only when every item came back.

    Ctrl-C or SIGTERM stops it as `interrupted` (a second one while stopping is ignored, so cleanup
    always completes); any other failure leaves it `crashed`. SQLite failures (disk full, read-only)
    come out as StorageError, after every finished episode has been committed.
    """
    lock = p.lock if p.lock is not None and p.lock.held else OutputLock.acquire(p.out)
    try:
        store = Store.open(p.out, create=True)
        try:
            result = RunResult(p.out)
            with _StopOnSignal():
                _execute(p, store, executor, progress, result)
            return result
        except sqlite3.Error as exc:
            raise storage_error(exc, store.path) from None
        finally:
            store.close()
    finally:
        lock.release()


class _StopOnSignal:
    """SIGINT/SIGTERM raise KeyboardInterrupt once; later ones (a second Ctrl-C) are swallowed."""

    def __init__(self) -> None:
        self.signals = 0
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopOnSignal:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.signals += 1
        if self.signals == 1:
            raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _declared_packages(config: RunConfig) -> list[str]:
    """The packages the run's suite and policy factories declare, for its provenance."""
    suites = [registry.suites.get(s.name) for s in config.suites]
    return provenance.declared_packages(
        [*suites, *(registry.policies.get(pc.name) for pc in config.policies)]
    )


def _execute(
    p: Plan,
    store: Store,
    executor: Executor | None,
    progress: RunProgress | None,
    result: RunResult,
) -> None:
    config, shard = p.config, p.shard
    max_attempts = 1 + config.retries
    run_id: int | None = None
    status = "crashed"
    servers: SharedPolicyServers | None = None
    try:
        run_id = store.begin_run(
            kind="rollout",
            config_name=config.name,
            config={
                "identity": config.identity(),
                "full": config.model_dump(),
                "protocols": [asdict(rec) for rec in p.protocol_records.values()],  # harness/protocols.py
            },
            config_hash=config.config_hash(),
            manifest_hash=manifest_hash(p.manifest.episodes),
            provenance=provenance.collect(packages=_declared_packages(config)),
        )
        store.write_manifest(p.manifest.episodes)
        store.write_policies(
            ((pc.id, pc.name, p.policy_specs[pc.id], pc.options) for pc in p.policies), p.suite_specs
        )
        store.write_executions((pid, e.base, e.mode, e.details()) for pid, e in p.executions.items())
        attempts = {(e.policy, e.key): e.attempt for e in store.episodes()}
        final = store.final_keys(max_attempts)
        items = []
        for position, spec in enumerate(p.manifest.episodes):
            if shard is not None and position % shard[1] != shard[0]:
                continue
            for pid in p.policy_specs:
                if (pid, spec.key) in final:
                    result.skipped += 1
                    continue
                prev = attempts.get((pid, spec.key), 0)
                items.append(WorkItem(pid, spec, prev + 1))
        setup = WorkerSetup(
            suites=p.suite_refs,
            policies={pc.id: (pc.name, dict(pc.options)) for pc in p.policies},
            instructions=dict(p.manifest.instructions),
            out_dir=str(p.out),
            video=config.video,
            warmup_chunks=config.warmup_chunks,
            threads=max(1, (os.cpu_count() or 1) // min(p.workers, max(1, len(items)))),
            executions=dict(p.executions),
        )
        if executor is None:
            executor = make_executor(config, min(p.workers, max(1, len(items))), env_memory_gb(p.suites))
        progress = progress or RunProgress(
            p.manifest, list(p.policy_specs), done=result.skipped, total=len(items) + result.skipped
        )
        if items and config.policy_server == "shared":
            servers = SharedPolicyServers(setup.policies, setup.suites, p.out)
            setup = replace(setup, served=servers.start())
        if items:
            _drive(executor, setup, items, store, run_id, max_attempts, result, progress)
        result.errors_left = sum(c.error for c in store.outcome_counts().values())
        status = "finished"
    except KeyboardInterrupt:
        result.interrupted = True
        status = "interrupted"
    finally:
        try:
            try:
                if executor is not None:
                    executor.shutdown()
            finally:
                if servers is not None:  # after the workers: none is cut off mid-episode
                    servers.stop()
            if progress is not None:
                progress.close()
        finally:
            result.workers_replaced = getattr(executor, "replaced", 0)
            if run_id is not None:
                with contextlib.suppress(sqlite3.Error):  # e.g. the disk is full: the row stays `running`
                    store.finish_run(run_id, status)


def _drive(
    executor: Executor,
    setup: WorkerSetup,
    items: list[WorkItem],
    store: Store,
    run_id: int,
    max_attempts: int,
    result: RunResult,
    progress: RunProgress,
) -> None:
    specs = {item.spec.key: item.spec for item in items}
    executor.start(setup)
    for item in items:
        executor.submit(item)
    for rec in executor.results():
        store.record_episode(rec, run_id)
        result.ran += 1
        retry = rec.outcome == "error" and rec.attempt < max_attempts
        if retry:
            executor.submit(WorkItem(rec.policy, specs[rec.key], rec.attempt + 1))
        else:
            result.outcomes[rec.outcome] = result.outcomes.get(rec.outcome, 0) + 1
        progress.update(rec, final=not retry)


def run(
    config: RunConfig,
    executor: Executor | None = None,
    progress: RunProgress | None = None,
    shard: tuple[int, int] | None = None,
) -> RunResult:
    return execute(plan(config, shard), executor, progress)


# planning and sizing lived here; their names stay importable from the runner
__all__ = [
    "Plan",
    "RunResult",
    "available_memory_gb",
    "check_out_dir",
    "default_workers",
    "env_memory_gb",
    "execute",
    "parse_shard",
    "plan",
    "run",
    "shard_out",
]
