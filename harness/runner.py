"""Manifest -> executor -> store, with resume, bounded retries and a clean stop.

`plan()` does every check that can fail on bad input (names, options, the output directory's config)
before anything is written, and takes the output directory's lock (harness/outlock.py) that the run
holds until it is recorded; `execute()` then writes the run, the frozen manifest and the policies, and
runs exactly the (policy, episode) pairs that have no final record yet. The store is written only
here, in one process, one transaction per episode: an interrupt or a crash loses no finished episode.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from harness import gpus, protocols, provenance, registry
from harness.config import PolicyConfig, RunConfig, identity_diff
from harness.errors import UserError
from harness.executors import Executor, make_executor
from harness.manifest import Manifest, build_manifest, build_suite, entry_protocol, select_splits
from harness.outlock import OutputLock
from harness.policy_server import SharedPolicyServers
from harness.progress import RunProgress
from harness.realtime import ExecutionPlan, resolve_executions
from harness.store import STORE_NAME, Store, manifest_hash
from harness.storeio import storage_error
from harness.types import PolicySpec, Preflights, Suite, Validates
from harness.worker import WorkerSetup, WorkItem


@dataclass
class Plan:
    config: RunConfig
    out: Path
    suites: dict[str, Suite]
    suite_refs: dict[str, tuple[str, dict[str, Any]]]
    policy_specs: dict[str, PolicySpec]
    manifest: Manifest
    workers: int
    shard: tuple[int, int] | None = None  # (i, n): this invocation runs every n-th episode from i
    protocol_records: dict[str, protocols.ProtocolRecord] = field(default_factory=dict)  # by suite
    workers_note: str = ""  # how the default worker count was chosen, when a GPU decided it
    lock: OutputLock | None = None  # held from the identity check until the run is recorded
    policies: list[PolicyConfig] = field(default_factory=list)  # as run: latency variants labelled
    executions: dict[str, ExecutionPlan] = field(default_factory=dict)  # by stored policy id


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


def available_memory_gb() -> float:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return 8.0


def env_memory_gb(suites: Mapping[str, Suite]) -> float:
    """One worker's memory: the largest per-env footprint the run's suites declare."""
    return float(max((getattr(s, "env_memory_gb", 0.5) for s in suites.values()), default=0.5))


def default_workers(suites: Mapping[str, Suite], n_items: int) -> tuple[int, str]:
    """As many as cores allow, and as memory allows at each suite's per-env footprint; for a suite
    whose envs need a GPU (`env_gpu_memory_gb`), as the visible GPUs' free memory allows (harness.gpus).
    Returns the count and, when a GPU decided it, how."""
    cores = os.cpu_count() or 1
    by_memory = int(available_memory_gb() * 0.8 // max(env_memory_gb(suites), 0.1))
    workers = max(1, min(cores, by_memory, n_items))
    per_gpu_env = max(
        (float(getattr(s, "env_gpu_memory_gb", 0.0) or 0.0) for s in suites.values()), default=0.0
    )
    if per_gpu_env <= 0:
        return workers, ""
    by_gpu = gpus.gpu_workers(per_gpu_env, cores, gpus.free_memory_gb())
    return min(workers, by_gpu.workers), by_gpu.note


def plan(config: RunConfig, shard: tuple[int, int] | None = None) -> Plan:
    """Resolve and validate everything; raise UserError before any work or any write."""
    if config.policy_server == "shared" and config.executor == "ray":
        raise UserError(
            "policy_server: shared starts its servers on this machine's loopback, which Ray actors on other "
            "nodes cannot reach; use executor: local, or serve the policy yourself (`wambench serve`)"
        )
    suites: dict[str, Suite] = {}  # by the suite's own name (what episodes carry)
    by_config_name: dict[str, Suite] = {}  # by the name the config used (alias or module:attr)
    suite_refs: dict[str, tuple[str, dict[str, Any]]] = {}
    records: dict[str, protocols.ProtocolRecord] = {}
    for scfg in config.suites:
        entry = entry_protocol(scfg)  # an unknown protocol stops here, before any suite is built
        suite = build_suite(scfg)
        if isinstance(suite, Preflights):
            suite.preflight()
        suites[suite.name] = by_config_name[scfg.name] = suite
        suite_refs[suite.name] = (scfg.name, entry.options)  # workers build it as planned here
        rec = protocols.record(
            suite.name,
            entry,
            protocols.effective_options(suite, entry.options),
            entry.episodes(scfg, config),
            select_splits(suite, scfg, entry),
        )
        if rec is not None:
            records[suite.name] = rec
    manifest = build_manifest(config, by_config_name)

    policy_specs: dict[str, PolicySpec] = {}
    for pcfg in config.policies:
        if pcfg.id in policy_specs:
            raise UserError(f"policy '{pcfg.id}' is listed twice (give one a `label`)")
        factory = registry.policies.get(pcfg.name)
        spec: PolicySpec = factory.spec
        # A factory may check its options against each suite before any worker starts (missing
        # checkpoint, wrong action dimension, unreachable server) and return the spec it resolved
        # (backend, checkpoint, whether trained), which is what the store must record.
        for suite in suites.values():
            if isinstance(factory, Validates):
                resolved = factory.validate(suite, dict(pcfg.options))
                if isinstance(resolved, PolicySpec):
                    spec = resolved
        policy_specs[pcfg.id] = spec
    policies, executions = resolve_executions(config.execution, config.policies, policy_specs, suites)
    policy_specs = {pc.id: policy_specs[executions[pc.id].base] for pc in policies}

    out = config.out_dir() if shard is None else shard_out(config.out_dir(), shard)
    lock = OutputLock.acquire(out)  # before the check: two runs must not both pass it
    try:
        check_out_dir(out, config, manifest, records)
        n_items = len(manifest) * len(policy_specs)
        if config.executor == "ray":  # join the cluster now: a wrong address is bad input, before writes
            from harness.executors.ray import prepare

            cluster_default = prepare(config.ray_address, env_memory_gb(suites), n_items)
            workers, note = config.workers or cluster_default, ""
        else:
            workers, note = (config.workers, "") if config.workers else default_workers(suites, n_items)
    except BaseException:
        lock.discard()
        raise
    return Plan(
        config,
        out,
        suites,
        suite_refs,
        policy_specs,
        manifest,
        workers,
        shard,
        records,
        note,
        lock,
        policies,
        executions,
    )


def check_out_dir(
    out: Path,
    config: RunConfig,
    manifest: Manifest,
    records: Mapping[str, protocols.ProtocolRecord] | None = None,
) -> None:
    path = out / STORE_NAME
    if not path.exists():
        return
    with Store.open(out) as store:
        previous = store.rollout_identity()
        stored_manifest = store.manifest_hash()
        stored_protocols = protocols.stored(store)
    if previous is None:
        return
    old_hash, old_config = previous
    if old_hash != config.config_hash():
        diffs = identity_diff(old_config.get("identity", {}), config.identity())
        what = "; ".join(diffs[:4]) + (f"; and {len(diffs) - 4} more" if len(diffs) > 4 else "")
        raise UserError(
            f"output directory '{out}' holds another config (hash {old_hash}, this one "
            f"{config.config_hash()}): {what or 'identity differs'}. Use --out for a new directory."
        )
    if stored_manifest is not None and stored_manifest != manifest_hash(manifest.episodes):
        raise UserError(
            f"output directory '{out}' holds the same config but a different episode manifest "
            "(a suite's episodes changed?); use --out for a new directory"
        )
    changed = protocols.resume_problems(stored_protocols, records or {})
    if changed:
        raise UserError(
            f"output directory '{out}' was run under other evaluation protocol values: "
            + "; ".join(changed)
            + ". Use --out for a new directory."
        )


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """`i/n` (0 <= i < n): this process runs every n-th manifest episode starting at i."""
    if text is None:
        return None
    i, sep, n = text.partition("/")
    if not sep or not i.strip().isdigit() or not n.strip().isdigit() or not 0 <= int(i) < int(n):
        raise UserError(f"--shard must be i/n with 0 <= i < n (e.g. 0/4), got '{text}'")
    return int(i), int(n)


def shard_out(out: Path, shard: tuple[int, int]) -> Path:
    """Each shard writes its own store (SQLite is not for many machines at once); all hold the same
    manifest, so `wambench report` combines the shard directories."""
    return out / f"shard-{shard[0]}-of-{shard[1]}"


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
            provenance=provenance.collect(),
        )
        store.write_manifest(p.manifest.episodes)
        store.write_policies((pc.id, pc.name, p.policy_specs[pc.id], pc.options) for pc in p.policies)
        store.write_executions((pid, e.base, e.mode, e.details()) for pid, e in p.executions.items())
        attempts = {
            (r["policy"], (r["suite"], r["task"], r["split"], r["idx"])): r["attempt"]
            for r in store.episode_rows()
        }
        final = store.final_keys(max_attempts)
        items = []
        for position, spec in enumerate(p.manifest.episodes):
            if shard is not None and position % shard[1] != shard[0]:
                continue
            for pid in p.policy_specs:
                if (pid, spec.key) in final:
                    result.skipped += 1
                    continue
                prev = attempts.get((pid, (spec.suite, spec.task, spec.split, spec.index)), 0)
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
        result.errors_left = sum(1 for r in store.episode_rows() if r["outcome"] == "error")
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


__all__ = ["Plan", "RunResult", "default_workers", "execute", "parse_shard", "plan", "run", "shard_out"]
