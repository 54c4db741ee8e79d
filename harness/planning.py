"""Planning a run: every check that can fail on bad input, before anything is written.

`plan()` resolves the config's suites, manifest, policies (each one's spec per suite) and execution
models, checks the output directory's stored config, manifest and protocols against them, and takes
the directory's lock (harness/outlock.py), which the run holds until it is recorded. The runner
(harness/runner.py) then executes the plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness import protocols, registry
from harness.config import PolicyConfig, RunConfig, identity_diff
from harness.errors import UserError
from harness.manifest import Manifest, build_manifest, build_suite, entry_protocol, select_splits
from harness.outlock import OutputLock
from harness.realtime import ExecutionPlan, resolve_executions
from harness.sizing import default_workers, env_memory_gb
from harness.store import STORE_NAME, Store, manifest_hash
from harness.types import HandsOutPrivileged, PolicySpec, Preflights, Suite, Validates


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
    # (stored policy id, suite name) -> the spec the policy resolved to for that suite: what the
    # store records per suite (`policy_specs`: shifts, NFE may differ); `policy_specs` keeps the last
    suite_specs: dict[tuple[str, str], PolicySpec] = field(default_factory=dict)


def mark_privileged(spec: PolicySpec) -> PolicySpec:
    """The spec of a policy that read privileged inputs (harness.records.privileged reads it back)."""
    return replace(spec, details={**spec.details, "privileged": True})


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
    suite_specs: dict[tuple[str, str], PolicySpec] = {}
    for pcfg in config.policies:
        if pcfg.id in policy_specs:
            raise UserError(f"policy '{pcfg.id}' is listed twice (give one a `label`)")
        factory = registry.policies.get(pcfg.name)
        spec: PolicySpec = factory.spec
        # A factory may check its options against each suite before any worker starts (missing
        # checkpoint, wrong action dimension, unreachable server) and return the spec it resolved
        # for that suite (backend, checkpoint, whether trained, shifts, NFE): what the store records.
        for name, suite in suites.items():
            resolved = factory.validate(suite, dict(pcfg.options)) if isinstance(factory, Validates) else None
            if isinstance(resolved, PolicySpec):
                spec = resolved
            suite_spec = resolved if isinstance(resolved, PolicySpec) else factory.spec
            if isinstance(suite, HandsOutPrivileged) and suite.privileged_inputs:
                suite_spec = mark_privileged(suite_spec)
            suite_specs[(pcfg.id, name)] = suite_spec
        if any(s.details.get("privileged") is True for (pid, _), s in suite_specs.items() if pid == pcfg.id):
            spec = mark_privileged(spec)  # the run-level row: privileged where any suite was
        policy_specs[pcfg.id] = spec  # the last suite's, as stores before per-suite specs held
    policies, executions = resolve_executions(config.execution, config.policies, policy_specs, suites)
    policy_specs = {pc.id: policy_specs[executions[pc.id].base] for pc in policies}
    suite_specs = {(pc.id, s): suite_specs[(executions[pc.id].base, s)] for pc in policies for s in suites}

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
        suite_specs,
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


__all__ = ["Plan", "check_out_dir", "parse_shard", "plan", "shard_out"]
