"""What a worker process does: run episodes with the env and policies it owns.

`run_episode` is the episode contract of DESIGN.md and nothing more. `Worker` adds the lifecycle: it
builds suites and policies lazily from a picklable `WorkerSetup`, keeps one live env per
(suite, task, split) and reuses it across that task's episodes, and resets the policy per episode.
`worker_main` is the process entry point; it speaks to the runner over its own pipe, so a worker
killed mid-message can corrupt nothing but its own channel.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import numpy as np

from harness import registry
from harness.chunks import EpisodeSteps
from harness.errors import UserError
from harness.images import image_requests
from harness.manifest import construct_suite
from harness.realtime.plan import ExecutionPlan
from harness.realtime.strategy import refuse_strategy
from harness.realtime.timeline import Timeline
from harness.records import ChunkRecord, EpisodeRecord
from harness.types import ActionChunk, ActionSpace, Env, EpisodeError, EpisodeSpec, Observes, Policy, Suite
from harness.video import VideoRecorder, video_relpath


@dataclass(frozen=True)
class WorkItem:
    policy: str  # stored policy id
    spec: EpisodeSpec
    attempt: int = 1

    def failed(self, wall_s: float, error: str, worker: int | None) -> EpisodeRecord:
        """The `error` record of this item when no episode record came back (the env or policy would
        not build, the worker died or hung, the remote call raised); the runner decides on a retry."""
        return EpisodeRecord(
            self.policy, self.spec.key, "error", 0, wall_s, self.attempt, error, worker=worker
        )


@dataclass(frozen=True)
class WorkerSetup:
    """Everything a worker needs, as plain data: registry references and options."""

    suites: Mapping[str, tuple[str, Mapping[str, Any]]]  # suite.name -> (registry ref, options)
    policies: Mapping[str, tuple[str, Mapping[str, Any]]]  # policy id -> (registry ref, options)
    instructions: Mapping[tuple[str, str], str] = field(default_factory=dict)
    out_dir: str | None = None
    video: bool = False
    warmup_chunks: int = 1
    threads: int | None = None  # CPU threads per worker (torch intra-op); None: leave the default
    # (policy id, suite name) -> the client to build instead of the policy (`policy_server: shared`)
    served: Mapping[tuple[str, str], tuple[str, Mapping[str, Any]]] = field(default_factory=dict)
    executions: Mapping[str, ExecutionPlan] = field(default_factory=dict)  # policy id -> plan (realtime)


def _executed_actions(chunk: ActionChunk, space: ActionSpace) -> np.ndarray:
    """The chunk's rows to execute (from `execute_from` on), checked against the suite's action space."""
    arr = np.asarray(chunk.actions)
    start, rows = chunk.execute_from, (arr.shape[0] if arr.ndim else 0)
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 0 <= start < max(rows, 1):
        raise EpisodeError(f"policy returned execute_from={start!r} for a chunk of {rows} actions")
    return _check_actions(arr[int(start) :] if arr.ndim else arr, space)


def _check_actions(actions: Any, space: ActionSpace) -> np.ndarray:
    arr = np.asarray(actions)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] != space.dim:
        raise EpisodeError(
            f"policy returned actions of shape {arr.shape}; the suite takes [T>=1, {space.dim}] "
            f"({space.kind})"
        )
    if not np.all(np.isfinite(arr)):
        raise EpisodeError("policy returned non-finite actions (NaN or inf)")
    return arr


def _error_text(exc: BaseException) -> str:
    """An episode's error: the message alone for one written for users, else the traceback's tail."""
    if isinstance(exc, (EpisodeError, UserError)):
        return str(exc)
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "".join(tb[-6:]).strip()


def run_episode(
    env: Env,
    policy: Policy,
    spec: EpisodeSpec,
    action_space: ActionSpace,
    *,
    policy_id: str,
    instruction: str = "",
    attempt: int = 1,
    is_warmup: Callable[[], bool] = lambda: False,
    recorder: VideoRecorder | None = None,
    execution: ExecutionPlan | None = None,
    suite: Any = None,
) -> EpisodeRecord:
    """env.reset, policy.reset, then chunks until success, the step limit, or an error.

    An exception from the env or the policy makes the episode an `error` with its text; it is never
    counted as a failure. `execution` (harness.realtime) decides which action runs at each step and
    when the next chunk is asked for; None is sync with the policy's measured chunk times.
    """
    t0 = time.perf_counter()
    episode = EpisodeSteps(spec.max_steps)
    chunks: list[ChunkRecord] = []
    info: dict[str, Any] = {}
    outcome, error = "failure", None
    observe = policy.observe if isinstance(policy, Observes) else None
    request_images = image_requests(env, policy, recorder)  # tells an env that defers rendering
    timeline = Timeline.for_episode(execution, suite, spec)
    try:
        refuse_strategy(policy, timeline.mode)
        request_images(0)
        obs = env.reset(spec)
        timeline.begin(obs)
        policy.reset(spec, obs.instruction or instruction)
        if recorder is not None:
            recorder.add(obs)
        while episode.running:
            chunk = policy.act(obs)
            actions = _executed_actions(chunk, action_space)
            chunks.append(
                ChunkRecord(len(chunks), dict(chunk.timings), dict(chunk.nfe), chunk.device, is_warmup())
            )
            for i, action in enumerate(timeline.actions(actions, chunk.timings, episode.taken)):
                del obs  # hold nothing across a step: an env may render only what a policy keeps
                # sync: the chunk's rows run, then act() reads; delayed: act() may come at any step,
                # so every observation is rendered (deferred rendering is for sync runs)
                request_images(len(actions) - 1 - i if timeline.mode == "sync" else 0)
                result = env.step(action)
                stop = episode.stepped(result.success)
                obs = result.obs
                del result
                if recorder is not None:
                    recorder.add(obs)
                if observe is not None:
                    observe(obs)
                if stop:
                    break
        outcome = "success" if episode.success else "failure"
        info = dict(env.episode_info())
    except Exception as exc:  # any env/policy fault is this episode's error, not the worker's death
        outcome, error = "error", _error_text(exc)
    return EpisodeRecord(
        policy=policy_id,
        key=spec.key,
        outcome=outcome,
        steps=episode.taken,
        wall_s=time.perf_counter() - t0,
        attempt=attempt,
        error=error,
        info=info,
        chunks=timeline.annotate(chunks),
        execution=timeline.metrics(episode.taken),
    )


class Worker:
    """Owns this process's suites, env and policy instances; never shares them across processes."""

    def __init__(self, setup: WorkerSetup, worker_id: int = 0) -> None:
        self.setup = setup
        self.worker_id = worker_id
        self._suites: dict[str, Suite] = {}
        self._policies: dict[tuple[str, str], Policy] = {}
        self._policy_calls: dict[tuple[str, str], int] = {}
        self._env: Env | None = None
        self._env_group: tuple[str, str, str] | None = None

    def suite(self, name: str) -> Suite:
        if name not in self._suites:
            ref, options = self.setup.suites[name]
            self._suites[name] = construct_suite(ref, options)
        return self._suites[name]

    def instance_key(self, policy_id: str, suite: Suite) -> tuple[str, str]:
        """Latency variants of one configured policy (harness/realtime: `id@348ms`, ...) share one
        instance: same factory and options, and a policy's state lives per episode anyway."""
        plan = self.setup.executions.get(policy_id)
        return (plan.base if plan is not None else policy_id), suite.name

    def policy(self, policy_id: str, suite: Suite) -> Policy:
        key = self.instance_key(policy_id, suite)
        if key not in self._policies:
            ref, options = self.setup.served.get(key) or self.setup.policies[policy_id]
            self._policies[key] = registry.policies.get(ref).build(suite, options)
            self._policy_calls[key] = 0
        return self._policies[key]

    def env(self, spec: EpisodeSpec) -> Env:
        group = (spec.suite, spec.task, spec.split)
        if self._env_group != group:
            self.close_env()
            self._env = self.suite(spec.suite).make_env(spec.task, spec.split)
            self._env_group = group
        assert self._env is not None
        return self._env

    def close_env(self) -> None:
        if self._env is not None:
            try:
                self._env.close()
            finally:
                self._env, self._env_group = None, None

    def run(self, item: WorkItem) -> EpisodeRecord:
        spec = item.spec
        recorder = None
        if self.setup.video and self.setup.out_dir:
            recorder = VideoRecorder(Path(self.setup.out_dir) / video_relpath(item.policy, spec.key))
        try:
            suite = self.suite(spec.suite)
            env = self.env(spec)
            policy = self.policy(item.policy, suite)
        except Exception as exc:  # building the env or policy failed: this episode errs, retry may help
            self.close_env()
            return item.failed(0.0, _error_text(exc), self.worker_id)
        pkey = self.instance_key(item.policy, suite)

        def is_warmup() -> bool:
            n = self._policy_calls[pkey]
            self._policy_calls[pkey] = n + 1
            return n < self.setup.warmup_chunks

        rec = run_episode(
            env,
            policy,
            spec,
            suite.action_space,
            policy_id=item.policy,
            instruction=self.setup.instructions.get((spec.suite, spec.task), ""),
            attempt=item.attempt,
            is_warmup=is_warmup,
            recorder=recorder,
            execution=self.setup.executions.get(item.policy),
            suite=suite,
        )
        video_path = None
        if recorder is not None and self.setup.out_dir:
            written = recorder.write()
            video_path = str(written.relative_to(self.setup.out_dir)) if written else None
        if rec.outcome == "error":  # the env may be in a bad state: rebuild it for the next episode
            self.close_env()
        return dataclasses.replace(rec, video_path=video_path, worker=self.worker_id)

    def close(self) -> None:
        self.close_env()
        for policy in self._policies.values():
            with contextlib.suppress(Exception):
                policy.close()
        self._policies.clear()


def _limit_threads(n: int) -> None:
    """N workers each using every core oversubscribe the CPU (torch, OpenMP, llvmpipe all spawn a thread
    per core): give each worker its share."""
    # Set before torch or Mesa is imported in this process: both read these at initialisation.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "LP_NUM_THREADS"):
        os.environ.setdefault(var, str(n))


def die_with_parent(use_prctl: bool = True) -> None:
    """A worker outlives a kill -9 of the runner only as an orphan hung in its simulator: prevent it.

    Linux: the kernel sends SIGKILL when the parent dies (PR_SET_PDEATHSIG), even to a worker stuck
    in C code. Everywhere: a thread watches multiprocessing's parent sentinel and exits the process.
    A parent that died before either was set up is caught by the sentinel too (it is already ready).
    """
    if use_prctl and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    parent = mp.parent_process()
    if parent is None or parent.sentinel is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        wait([sentinel])
        os._exit(_EXIT_PARENT_DIED)

    threading.Thread(target=watch, name="wambench-parent-watchdog", daemon=True).start()


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_EXIT_PARENT_DIED = 75  # EX_TEMPFAIL: the worker stopped because its runner is gone


def prepare_worker_process(setup: WorkerSetup) -> None:
    """What every worker process (a spawned process or a Ray actor) does before building a `Worker`."""
    # Ctrl-C reaches the whole process group; only the runner decides how to stop.
    with contextlib.suppress(ValueError):  # signals can only be set from a process's main thread
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if setup.threads:
        _limit_threads(setup.threads)


def worker_main(worker_id: int, setup: WorkerSetup, conn: Connection) -> None:
    """Process entry point: receive WorkItems, answer each with its EpisodeRecord."""
    die_with_parent()
    prepare_worker_process(setup)
    worker = Worker(setup, worker_id)
    try:
        while True:
            item = conn.recv()
            if item is None:
                break
            conn.send(worker.run(item))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        worker.close()


__all__ = [
    "WorkItem",
    "Worker",
    "WorkerSetup",
    "die_with_parent",
    "prepare_worker_process",
    "run_episode",
    "worker_main",
]
