"""The records that cross rooms: what a worker sends back (episode, chunk), and what the store gives
back to the runner, the run summary, the report and the export (stored chunks, policy info, run info,
provenance, outcome counts).

Plain frozen values (picklable: they travel over a pipe or through Ray). The store writes and reads
them and is the only code that speaks SQL; everything else reads these. The one definition of
"untrained", of a run's provenance and of how outcomes are counted lives here, so the end-of-run
summary and the report can never disagree about them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.types import OUTCOMES, EpisodeKey, PolicySpec


@dataclass(frozen=True)
class ChunkRecord:
    chunk: int
    timings: Mapping[str, float]  # stage -> ms
    nfe: Mapping[str, int]
    device: str
    warmup: bool
    # the execution model's view of this chunk (harness/realtime); None where no model ran
    latency_ms: float | None = None
    delay_steps: int | None = None  # control steps between request and arrival (0: the world waited)
    request_step: int | None = None  # episode step at which the chunk was requested
    stale_rows: int | None = None  # rows whose steps had passed when it arrived
    executed_rows: int | None = None  # rows actually sent to the env


@dataclass(frozen=True)
class EpisodeRecord:
    """An episode as a worker reports it. Read back from the store it carries no chunks (read them
    with `Store.chunks`), and `execution` holds only the real-time metrics that were recorded."""

    policy: str
    key: EpisodeKey
    outcome: str
    steps: int
    wall_s: float
    attempt: int
    error: str | None = None
    video_path: str | None = None
    info: Mapping[str, Any] = field(default_factory=dict)
    worker: int | None = None
    chunks: Sequence[ChunkRecord] = ()
    execution: Mapping[str, Any] = field(default_factory=dict)  # realtime metrics (harness/realtime)


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as the store holds it: whose it is, where it came from (`rollout` or `benchmark`)."""

    source: str
    policy: str
    key: EpisodeKey
    record: ChunkRecord
    run_id: int | None = None

    def ms(self, stage: str) -> float | None:
        """The stage's milliseconds (`total`, `video`, ...); None where it was not timed."""
        value = self.record.timings.get(stage)
        return None if value is None else float(value)


@dataclass
class OutcomeCounts:
    """How many episodes ended in each outcome. Errors are never failures: the success rate is
    success / (success + failure), errors are counted apart."""

    success: int = 0
    failure: int = 0
    error: int = 0

    @classmethod
    def of(cls, outcomes: Iterable[str]) -> OutcomeCounts:
        counts = cls()
        for outcome in outcomes:
            counts.add(outcome)
        return counts

    def add(self, outcome: str, n: int = 1) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown episode outcome {outcome!r} (one of {', '.join(OUTCOMES)})")
        setattr(self, outcome, getattr(self, outcome) + n)

    @property
    def judged(self) -> int:
        """Episodes with a verdict (success or failure)."""
        return self.success + self.failure

    @property
    def done(self) -> int:
        return self.success + self.failure + self.error

    @property
    def rate(self) -> float | None:
        """success / judged; None when no episode was judged."""
        return self.success / self.judged if self.judged else None


def untrained(spec: Mapping[str, Any]) -> bool:
    """Whether a stored policy spec is an untrained network: its spec says `trained: false` (every
    backend that can run random weights says so; wambench has written the flag since its first store).

    Such a policy is a legitimate harness check (plumbing, latency), but its success rate means
    nothing: every table and summary must show it, never compare it silently.
    """
    return (spec.get("details") or {}).get("trained") is False


def privileged(spec: Mapping[str, Any]) -> bool:
    """Whether a stored policy read privileged inputs (simulator state a deployed robot lacks): its
    spec says so (a scripted expert, or any policy run on a suite that hands such inputs out)."""
    return (spec.get("details") or {}).get("privileged") is True


PRIVILEGED_NOTE = "privileged: reads simulator state (object poses) that a deployed robot does not have"


@dataclass(frozen=True)
class PolicyInfo:
    """A stored policy: its spec as resolved for one suite (or for the run, where `suite` is None) and
    the paper row it maps to (method + NFE). Two infos are the same policy when the paper-facing
    fields agree; the full spec, options and suite are carried along but not compared."""

    id: str
    name: str
    method: str
    nfe_video: int | None
    nfe_action: int | None
    backend: str
    checkpoint: str | None
    untrained: bool
    suite: str | None = field(default=None, compare=False)
    privileged: bool = field(default=False, compare=False)
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    options: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def nfe(self) -> tuple[int | None, int | None]:
        return self.nfe_video, self.nfe_action

    @property
    def details(self) -> Mapping[str, Any]:
        return self.spec.get("details") or {}

    @property
    def marks(self) -> str:
        """What every table writes after the policy's name: † untrained, ‡ privileged."""
        return (" †" if self.untrained else "") + (" ‡" if self.privileged else "")

    @classmethod
    def from_spec(
        cls,
        pid: str,
        name: str | None,
        spec: Mapping[str, Any] | PolicySpec,
        options: Mapping[str, Any] | None = None,
        suite: str | None = None,
    ) -> PolicyInfo:
        """From a spec as stored (JSON) or as resolved (a PolicySpec)."""
        data = asdict(spec) if isinstance(spec, PolicySpec) else dict(spec)
        return cls(
            id=pid,
            name=str(name if name is not None else pid),
            method=str(data.get("method", pid)),
            nfe_video=data.get("nfe_video"),
            nfe_action=data.get("nfe_action"),
            backend=str(data.get("backend", "none")),
            checkpoint=data.get("checkpoint"),
            untrained=untrained(data),
            suite=suite,
            privileged=privileged(data),
            spec=data,
            options=dict(options or {}),
        )


@dataclass(frozen=True)
class Provenance:
    """Where a result came from; stored with every run, rollout and latency alike, in this one format
    (harness/provenance.py collects it)."""

    wambench_version: str | None = None
    git_revision: str | None = None
    packages: Mapping[str, str] = field(default_factory=dict)
    host: str | None = None
    device: str | None = None
    python: str | None = None
    command: str | None = None
    cpu_count: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "packages": dict(self.packages)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provenance:
        """Known fields only; packages as {name: version} strings (a malformed value reads as none)."""
        packages = data.get("packages")
        pkgs = {str(k): str(v) for k, v in packages.items()} if isinstance(packages, Mapping) else {}
        cpus = data.get("cpu_count")
        return cls(
            wambench_version=data.get("wambench_version"),
            git_revision=data.get("git_revision"),
            packages=pkgs,
            host=data.get("host"),
            device=data.get("device"),
            python=data.get("python"),
            command=data.get("command"),
            cpu_count=int(cpus) if isinstance(cpus, int) else None,
        )


@dataclass(frozen=True)
class RunInfo:
    """One invocation recorded in a store (`rollout` or `latency`; a resume adds one)."""

    run_id: int
    kind: str
    config_name: str | None
    config: Mapping[str, Any]
    config_hash: str | None
    manifest_hash: str | None
    provenance: Provenance
    started_at: float | None
    finished_at: float | None
    status: str | None


__all__ = [
    "ChunkRecord",
    "EpisodeRecord",
    "OutcomeCounts",
    "PolicyInfo",
    "Provenance",
    "RunInfo",
    "StoredChunk",
    "untrained",
]
