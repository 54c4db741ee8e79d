"""Stored runs, read once into plain values the tables and figures work from.

Several output directories can go into one report (e.g. shards of one run, or one directory per
policy), but only if they evaluated the same frozen manifest: a table that mixes episode lists would
compare policies on different episodes. Everything here reads the store; nothing re-runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UserError
from harness.protocols import ProtocolRecord
from harness.protocols import stored as stored_protocols
from harness.records import PolicyInfo, RunInfo
from harness.report.reference import ROBOTWIN, robotwin_horizons
from harness.store import STORE_NAME, Store
from harness.types import EpisodeKey

UNTRAINED_NOTE = "untrained tiny model: success ~0 is expected"


@dataclass(frozen=True)
class Episode:
    policy: str
    key: EpisodeKey
    outcome: str  # success | failure | error

    @property
    def success(self) -> bool:
        return self.outcome == "success"


@dataclass(frozen=True)
class Chunk:
    policy: str
    source: str
    suite: str
    device: str
    warmup: bool
    video_ms: float | None
    action_ms: float | None
    total_ms: float | None


@dataclass
class RunSet:
    """Everything a report needs from one or more stores of the same manifest."""

    outs: list[Path]
    manifest_hash: str | None
    policies: dict[str, PolicyInfo]  # as resolved for the run (the spec of its last suite)
    episodes: list[Episode]
    chunks: list[Chunk]
    runs: list[tuple[str, RunInfo]] = field(default_factory=list)  # (OUT, run)
    # (policy, suite) -> the policy as resolved for that suite (NFE, shifts may differ per suite)
    suite_policies: dict[tuple[str, str], PolicyInfo] = field(default_factory=dict)
    horizons: dict[tuple[str, str], int] = field(default_factory=dict)  # (suite, task) -> horizon
    protocols: list[tuple[str, ProtocolRecord]] = field(default_factory=list)  # (OUT, record)
    # "suite/task" -> why its episodes did not follow the suite's protocol (episode info
    # `not_protocol_faithful`, e.g. a simulator build that changed a task's physics)
    unfaithful: dict[str, str] = field(default_factory=dict)

    def suites(self) -> list[str]:
        return sorted({e.key.suite for e in self.episodes})

    def episodes_of(self, policy: str, suites: Iterable[str] | None = None) -> list[Episode]:
        wanted = set(suites) if suites is not None else None
        return [e for e in self.episodes if e.policy == policy and (wanted is None or e.key.suite in wanted)]

    def policy_in(self, pid: str, suites: Iterable[str]) -> PolicyInfo | None:
        """The policy as resolved for the first of `suites` it has a spec for, else for the run."""
        for suite in sorted(set(suites)):
            info = self.suite_policies.get((pid, suite))
            if info is not None:
                return info
        return self.policies.get(pid)

    def policies_in(self, suites: Iterable[str]) -> list[PolicyInfo]:
        """The policies that ran on `suites`, each as resolved for them."""
        wanted = set(suites)
        ids = {e.policy for e in self.episodes if e.key.suite in wanted}
        ran = {e.key.suite for e in self.episodes if e.key.suite in wanted}
        found = (self.policy_in(i, ran) for i in sorted(ids) if i in self.policies)
        return [p for p in found if p is not None]

    def suite_specs_of(self, pid: str) -> dict[str, PolicyInfo]:
        """suite -> the policy as resolved for it, over the suites it ran on."""
        ran = sorted({e.key.suite for e in self.episodes if e.policy == pid})
        return {s: self.suite_policies[(pid, s)] for s in ran if (pid, s) in self.suite_policies}

    def devices(self) -> list[str]:
        return sorted({c.device for c in self.chunks if c.device})

    def untrained(self) -> list[PolicyInfo]:
        return [p for p in self.policies.values() if p.untrained]


def _open(out: Path) -> Store:
    if not out.exists():
        raise UserError(f"'{out}' does not exist (give the --out directory of a `wambench run`)")
    if out.is_dir() and not (out / STORE_NAME).exists():
        raise UserError(
            f"'{out}' holds no wambench store ({STORE_NAME}); run `wambench run CONFIG --out {out}`"
        )
    return Store.open(out)


def load_runs(outs: Sequence[str | Path], require_same_manifest: bool = True) -> RunSet:
    """Read every store; refuse mixed manifests and policy ids that mean different policies."""
    if not outs:
        raise UserError("give at least one run directory (OUT) or `--reference paper`")
    paths = [Path(o) for o in outs]
    hashes: dict[Path, str | None] = {}
    for out in paths:  # validate every directory before reading any of them
        with _open(out) as store:
            hashes[out] = store.manifest_hash()
    distinct = {h for h in hashes.values() if h is not None}
    if require_same_manifest and len(distinct) > 1:
        listing = ", ".join(f"{p} ({h})" for p, h in hashes.items())
        raise UserError(
            f"these runs evaluated different episode manifests: {listing}; "
            "a table only compares policies on the same episodes, so report them separately"
        )
    policies: dict[str, PolicyInfo] = {}
    suite_policies: dict[tuple[str, str], PolicyInfo] = {}
    policy_home: dict[str, Path] = {}
    seen: dict[tuple[str, EpisodeKey], tuple[str, Path]] = {}
    episodes: list[Episode] = []
    chunks: list[Chunk] = []
    runs: list[tuple[str, RunInfo]] = []
    protocols: list[tuple[str, ProtocolRecord]] = []
    unfaithful: dict[str, str] = {}
    for out in paths:
        with _open(out) as store:
            for info in [*store.policies().values(), *store.policy_specs().values()]:
                pid = info.id
                known = policies.get(pid) if info.suite is None else suite_policies.get((pid, info.suite))
                if known is not None and known != info:
                    raise UserError(
                        f"policy '{pid}' means different policies in '{policy_home[pid]}' and '{out}' "
                        "(give one a distinct `label` in its config)"
                    )
                if info.suite is None:
                    policies[pid] = info
                else:
                    suite_policies[(pid, info.suite)] = info
                policy_home.setdefault(pid, out)
            for e in store.episodes():
                key = e.key
                prev = seen.get((e.policy, key))
                if prev is not None:
                    if prev[0] != e.outcome:
                        raise UserError(
                            f"episode {key} of '{e.policy}' is '{prev[0]}' in '{prev[1]}' but "
                            f"'{e.outcome}' in '{out}': these directories overlap; report them separately"
                        )
                    continue
                seen[(e.policy, key)] = (e.outcome, out)
                episodes.append(Episode(e.policy, key, e.outcome))
                why = e.info.get("not_protocol_faithful")
                if why:
                    unfaithful[f"{key.suite}/{key.task}"] = str(why)
            for c in store.chunks():
                chunks.append(
                    Chunk(
                        policy=c.policy,
                        source=c.source,
                        suite=c.key.suite,
                        device=c.record.device or "",
                        warmup=c.record.warmup,
                        video_ms=c.ms("video"),
                        action_ms=c.ms("action"),
                        total_ms=c.ms("total"),
                    )
                )
            runs += [(str(out), run) for run in store.runs()]
            protocols += [(str(out), rec) for rec in stored_protocols(store).values()]
    horizons = _horizons(episodes)
    return RunSet(
        outs=paths,
        manifest_hash=next(iter(distinct)) if len(distinct) == 1 else None,
        policies=policies,
        episodes=episodes,
        chunks=chunks,
        runs=runs,
        suite_policies=suite_policies,
        horizons=horizons,
        protocols=protocols,
        unfaithful=unfaithful,
    )


def _horizons(episodes: Iterable[Episode]) -> dict[tuple[str, str], int]:
    """RoboTwin task horizons (1/2/3) as the paper's Table 8 prints them."""
    table = robotwin_horizons()
    out: dict[tuple[str, str], int] = {}
    for e in episodes:
        if e.key.suite == ROBOTWIN and e.key.task in table:
            out[(e.key.suite, e.key.task)] = table[e.key.task]
    return out


__all__ = ["UNTRAINED_NOTE", "Chunk", "Episode", "PolicyInfo", "RunSet", "load_runs"]
