"""The contracts between the harness, suites and policies (see DESIGN.md).

Everything that crosses a process boundary (an episode spec, a policy reference, a record) is a frozen,
picklable value; the live objects (Env, Policy) never leave the worker that built them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

Outcome = Literal["success", "failure", "error"]
OUTCOMES: tuple[Outcome, ...] = ("success", "failure", "error")

# Stages every chunk reports (milliseconds). Policies may add more; these are the ones reports read.
STAGES: tuple[str, ...] = ("encode", "video", "action", "decode", "total")


@dataclass(frozen=True, order=True)
class EpisodeKey:
    """Identity of one episode in a manifest; the same for every policy of a run (pairing)."""

    suite: str
    task: str
    split: str
    index: int

    def __str__(self) -> str:
        return f"{self.suite}/{self.task}/{self.split}/{self.index}"


@dataclass(frozen=True)
class EpisodeSpec:
    """One row of the frozen manifest.

    `seed` is what makes the simulator side reproducible (LIBERO: the init-state index; RoboTwin: the
    env seed). `noise_seed` seeds the policy's sampler for this episode; it is derived from the run seed
    and the key, so every policy sees the same noise seed on the same episode, whatever worker runs it.
    """

    suite: str
    task: str
    split: str
    index: int
    seed: int
    max_steps: int
    noise_seed: int = 0

    @property
    def key(self) -> EpisodeKey:
        return EpisodeKey(self.suite, self.task, self.split, self.index)


@dataclass(frozen=True)
class TaskInfo:
    id: str
    instruction: str
    max_steps: int
    horizon: int | None = None  # RoboTwin's 1/2/3 grouping; None where a suite has none
    display_name: str = ""
    n_episodes: int | None = None  # how many distinct episodes the suite can provide (None: unbounded)


@dataclass(frozen=True)
class ActionSpace:
    """What an env accepts per step: `kind` names the convention (e.g. "ee_delta7", "ee16", "qpos14")."""

    kind: str
    dim: int
    low: float | None = None  # nominal range, for counting out-of-range actions; None: unbounded
    high: float | None = None


@dataclass
class Observation:
    """What an env hands out at reset and at every step. It stays valid after later steps: a policy
    may keep it and read it chunks later (LingBot-VA reads a chunk's key frames at the next chunk), so
    a suite never hands out arrays its simulator will overwrite, and a lazily rendered observation is
    rendered before the simulator moves on if it is still referenced."""

    images: dict[str, np.ndarray]  # camera name -> uint8 HxWx3, upright
    state: np.ndarray  # float proprioception, suite-defined layout
    instruction: str
    # Simulator facts no camera gives (object poses, the goal), only when a run asks for them (a suite
    # option); a policy that reads them is privileged and every table says so.
    privileged: dict[str, Any] | None = None


@dataclass
class StepResult:
    obs: Observation
    success: bool  # latched: once true it stays true for the episode
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class ActionChunk:
    """A policy's chunk. `execute_from` says which rows run: actions[execute_from:]. The rows before it
    are the network's own and never executed (LingBot-VA's first chunk: latent frame 0 is the observed
    frame, its actions a condition); the policy sets it, the runner and every server dialect honour it."""

    actions: np.ndarray  # [T, D] in the suite's action space
    timings: dict[str, float]  # stage -> milliseconds; at least STAGES
    nfe: dict[str, int] = field(default_factory=dict)  # network evaluations per modality
    device: str = "cpu"
    execute_from: int = 0

    @property
    def executed(self) -> np.ndarray:
        """The rows that are executed, in order."""
        return np.asarray(self.actions)[self.execute_from :]


@dataclass(frozen=True)
class ImageReads:
    """Which observations' images a policy reads, so an env can skip rendering the others.

    Positions count back from the observation act() receives (a chunk's first; `to_act` = 0), so they
    hold for any chunk length: `to_act` is how many of the chunk's executed actions are still to run
    after the step that produces the observation. `at_act`: act()'s observation (and the reset's).
    `every`: also each observation `every`, 2*`every`, ... actions before act()'s (LingBot-VA's key
    frames); 1 reads every observation, 0 none but act()'s. The default reads everything, which is
    what a policy that declares nothing gets."""

    at_act: bool = True
    every: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 0:
            raise ValueError(f"ImageReads.every must be an integer >= 0, got {self.every!r}")

    def reads(self, to_act: int) -> bool:
        if to_act == 0 and self.at_act:
            return True
        return self.every > 0 and to_act > 0 and to_act % self.every == 0


EVERY_IMAGE = ImageReads()


@runtime_checkable
class HandsOutPrivileged(Protocol):
    """Optional on a Suite: whether its observations carry what a deployed robot would not have
    (simulator state such as object poses). The planner marks every policy run on such a suite
    privileged (spec details `privileged: true`), and every table and summary marks it (‡)."""

    @property
    def privileged_inputs(self) -> bool: ...


@runtime_checkable
class ReadsImages(Protocol):
    """Optional on a Policy (and a video recorder): declares the observations whose images it reads.
    One that does not implement it reads every observation's images."""

    def image_reads(self) -> ImageReads: ...


@runtime_checkable
class DefersImages(Protocol):
    """Optional on an Env: renders its cameras only for the observations that are read.

    `next_images(False)` before a reset or step makes the observation it hands out state-only
    (images = {}); it applies to that one observation, after which images are rendered again. The
    images it does hand out are the ones rendering every step would have given, bit for bit."""

    def next_images(self, needed: bool) -> None: ...


class EpisodeError(Exception):
    """Raised inside an episode for a condition that makes it an `error` (never a failure)."""


@runtime_checkable
class Env(Protocol):
    def reset(self, episode: EpisodeSpec) -> Observation: ...

    def step(self, action: np.ndarray) -> StepResult: ...

    def episode_info(self) -> Mapping[str, Any]:
        """Per-episode facts to store beside the outcome (e.g. out-of-range action count)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Suite(Protocol):
    """A benchmark. Built in the main process (manifest, listing) and once per worker (envs).

    `camera_shapes` (camera -> (H, W, 3)) and `state_dim` describe the observations its envs return,
    so a policy can be built and timed without the simulator. `env_memory_gb` is the resident memory
    of one live env, used to choose the default worker count.
    """

    name: str
    action_space: ActionSpace
    splits: Sequence[str]
    camera_shapes: Mapping[str, tuple[int, int, int]]
    state_dim: int
    env_memory_gb: float

    def tasks(self) -> Sequence[TaskInfo]: ...

    def episodes(self, task: str, split: str, n: int | None) -> list[EpisodeSpec]:
        """The first n episodes of (task, split), deterministic; noise_seed is filled by the manifest."""
        ...

    def make_env(self, task: str, split: str) -> Env: ...


@dataclass(frozen=True)
class PolicySpec:
    """What a registered policy is, without building it (for listing, provenance and reports).

    `backend` names what runs it (a WAM backend, "scripted", ...); a policy that says nothing has
    none ("none"): which backend a WAM defaults to is the WAM factory's business, not the contract's.
    """

    name: str
    method: str
    nfe_video: int | None = None
    nfe_action: int | None = None
    backend: str = "none"
    checkpoint: str | None = None
    description: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)  # samplers, shifts, CFG, ...


@runtime_checkable
class Policy(Protocol):
    """State lives per episode: `reset` starts a fresh one; nothing is shared between episodes."""

    spec: PolicySpec

    def reset(self, episode: EpisodeSpec, instruction: str) -> None: ...

    def act(self, obs: Observation) -> ActionChunk: ...

    def close(self) -> None: ...


@runtime_checkable
class PolicyFactory(Protocol):
    """What the `wambench.policies` registry holds: a description plus a way to build instances.

    `options` come from the run config (backend, checkpoint, device, ...); `suite` lets a policy take
    suite-dependent defaults (shifts, chunk geometry, action space). Called inside worker processes.
    """

    spec: PolicySpec

    def build(self, suite: Suite, options: Mapping[str, Any]) -> Policy: ...


# A suite entry is a callable taking the config's suite options and returning a Suite. It may also
# declare the suite's geometry without building it, `geometry(**options) -> harness.shapes.ShapeSuite`
# (what `wambench latency` times a policy against where the simulator is absent); a suite may declare
# how other projects' clients name its cameras, `client_camera_keys` (protocol -> camera -> key).
class SuiteFactory(Protocol):
    def __call__(self, **options: Any) -> Suite: ...


# ---- optional hooks: what the harness calls when a plugin implements it -----------------------------


@runtime_checkable
class Observes(Protocol):
    """Optional on a Policy: sees every observation of an episode, not only those act() receives
    (the observations between chunks; LingBot-VA keeps a chunk's frames as the next chunk's context)."""

    def observe(self, obs: Observation) -> None: ...


@runtime_checkable
class Preflights(Protocol):
    """Optional on a Suite: checks this machine can run it (simulator, assets, GPU) when a run is
    planned, before any worker starts; raises SetupError with the fix."""

    def preflight(self) -> None: ...


@runtime_checkable
class Validates(Protocol):
    """Optional on a PolicyFactory: checks a run's options against each suite in the main process,
    before any worker starts (missing checkpoint, wrong action dimension, unreachable server), and
    returns the spec it resolved (backend, checkpoint, whether trained), which the store records; None
    where it cannot say without building."""

    def validate(self, suite: Suite, options: Mapping[str, Any]) -> PolicySpec | None: ...


@runtime_checkable
class Doctor(Protocol):
    """What `wambench doctor NAME` runs (entry-point group `wambench.doctors`, or a suite factory that
    implements it): every problem that stops the suite running here, each with its fix; [] when ready.
    A module with a `doctor` function qualifies."""

    def doctor(self, **options: Any) -> list[str]: ...


@runtime_checkable
class DescribesSource(Protocol):
    """Optional beside Doctor: one line saying what it found (e.g. which install it would run)."""

    def doctor_source(self, **options: Any) -> str: ...


@runtime_checkable
class DeclaresPackages(Protocol):
    """Optional on a suite factory or a PolicyFactory: the distributions (pip names) its numbers depend
    on beyond the harness's own (a simulator, its assets). A run that uses it records their installed
    versions in its provenance (harness/provenance.py); one not installed is left out."""

    packages: Sequence[str]
