"""`wambench bench libero`: what the harness costs on the real LIBERO simulator, measured side by side.

1. Env steps/s of the raw LIBERO loop (LIBERO's OffScreenRenderEnv, `env.step(a)` and nothing else)
   against the same episode through the harness (`suite.make_env` + `harness.worker.run_episode` with
   a zero-cost policy that holds still). Both envs live in this process and the runs alternate, so
   machine load hits both alike; only the policy-step phase is timed (after reset and the wait steps).
2. Episodes through the real runner (spawned workers, pipes, SQLite) with 1 and with 2 workers, each
   worker building its own env: aggregate env steps/s, start-up and resets included.
3. Episodes per hour with a WAM (the tiny backend, untrained, fixed noise seeds): the raw loop as
   peers run it (OffScreenRenderEnv, both cameras rendered every step, the policy called with the
   observation at each chunk's start) against wambench with deferred rendering (`run_episode` tells
   the env which observations the policy reads; only those render), alternating on the same episodes.
   Outcomes, steps and a checksum of every executed action must be identical.
Also reports env creation time, reset time and resident memory per env.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from harness.bench_overhead import time_run
from harness.chunks import EpisodeSteps
from harness.testing import ConstantPolicy
from harness.types import EpisodeSpec, Observation, StepResult

HOLD = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0])


def rss_gb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


class RawLoop:
    """The client-style loop on LIBERO's own env class, with the suite's protocol values."""

    def __init__(self, suite: Any, task_id: str) -> None:
        from libero.libero.envs import OffScreenRenderEnv

        from suites.libero import catalog, paths
        from suites.libero.env import load_init_states

        task = catalog.find_task(suite.name, task_id)
        root = paths.libero_root()
        assert root is not None
        self.options = suite.options
        self.init_states = load_init_states(task)
        t0 = time.perf_counter()
        self.env = OffScreenRenderEnv(
            bddl_file_name=str(task.bddl_file(root)),
            camera_heights=self.options.image_size,
            camera_widths=self.options.image_size,
        )
        self.create_s = time.perf_counter() - t0

    def episode(self, index: int, steps: int) -> tuple[float, float]:
        """(reset seconds, policy-phase steps/s)."""
        t0 = time.perf_counter()
        if self.options.env_seed is not None:
            self.env.seed(self.options.env_seed + index)
        self.env.reset()
        self.env.set_init_state(self.init_states[index])
        wait = np.array([0, 0, 0, 0, 0, 0, self.options.wait_gripper])
        for _ in range(self.options.num_steps_wait):
            self.env.step(wait)
        t1 = time.perf_counter()
        for _ in range(steps):
            self.env.step(HOLD)
        return t1 - t0, steps / (time.perf_counter() - t1)

    def observation(self, raw: Any, instruction: str) -> Observation:
        """LIBERO's raw observation as the policy takes it (the harness's image flip and state layout)."""
        from suites.libero.env import CAMERAS, quat_to_axis_angle, upright

        images = {
            name: upright(raw[f"{cam}_image"], self.options.image_flip) for name, cam in CAMERAS.items()
        }
        state = np.concatenate(
            [raw["robot0_eef_pos"], quat_to_axis_angle(raw["robot0_eef_quat"]), raw["robot0_gripper_qpos"]]
        ).astype(np.float32)
        return Observation(images=images, state=state, instruction=instruction)

    def policy_episode(self, policy: Any, spec: EpisodeSpec, instruction: str) -> tuple[str, int, str]:
        """The client loop of the OpenVLA/openpi/LingBot-VA LIBERO evaluations: every step renders both
        cameras; the policy gets the observation at each chunk's start. (outcome, steps, checksum)."""
        if self.options.env_seed is not None:
            self.env.seed(self.options.env_seed + spec.seed)
        self.env.reset()
        raw = self.env.set_init_state(self.init_states[spec.seed])
        wait = np.array([0, 0, 0, 0, 0, 0, self.options.wait_gripper])
        for _ in range(self.options.num_steps_wait):
            raw, _, _, _ = self.env.step(wait)
        policy.reset(spec, instruction)
        episode, digest = EpisodeSteps(spec.max_steps), hashlib.sha256()
        while episode.running:  # the harness's stopping rule, so both loops end at the same step
            chunk = policy.act(self.observation(raw, instruction))
            for action in np.asarray(chunk.executed, dtype=np.float64):
                raw, _, done, _ = self.env.step(action)
                digest.update(action.tobytes())
                if episode.stepped(bool(done)):
                    break
        return ("success" if episode.success else "failure"), episode.taken, digest.hexdigest()[:16]

    def close(self) -> None:
        self.env.close()


class ActionLog:
    """An Env proxy that hashes every executed action; it keeps the env's deferred rendering."""

    def __init__(self, env: Any) -> None:
        self.env = env
        self.digest = hashlib.sha256()

    def reset(self, episode: EpisodeSpec) -> Observation:
        self.digest = hashlib.sha256()
        return self.env.reset(episode)

    def step(self, action: np.ndarray) -> StepResult:
        self.digest.update(np.asarray(action, dtype=np.float64).tobytes())
        return self.env.step(action)

    def next_images(self, needed: bool) -> None:
        self.env.next_images(needed)

    def episode_info(self) -> Any:
        return self.env.episode_info()

    def close(self) -> None:
        self.env.close()

    def checksum(self) -> str:
        return self.digest.hexdigest()[:16]


def wambench_episode(env: ActionLog, policy: Any, suite: Any, spec: EpisodeSpec) -> tuple[str, int, str]:
    from harness.worker import run_episode

    record = run_episode(env, policy, spec, suite.action_space, policy_id="wam")
    if record.outcome == "error":
        raise RuntimeError(f"wambench episode {spec.key} failed: {record.error}")
    return record.outcome, record.steps, env.checksum()


def wam_episodes_per_hour(
    suite_name: str, task_index: int, steps: int | None, episodes: int, method: str
) -> None:
    """Raw loop (render every step) vs wambench (deferred rendering), same episodes, same policy. An
    untrained WAM fails every episode, so each runs the full step limit, as failures do in real runs."""
    from harness import registry

    suite = registry.suites.get(suite_name)(**({} if steps is None else {"max_steps": steps}))
    steps = suite.options.max_steps
    task = suite.tasks()[task_index]
    policy = registry.policies.get(method).build(suite, {"backend": "tiny", "seed": 0})
    reads = policy.image_reads() if hasattr(policy, "image_reads") else "every observation"
    raw = RawLoop(suite, task.id)
    env = ActionLog(suite.make_env(task.id, "default"))
    specs = [
        dataclasses.replace(s, noise_seed=1000 + s.index)
        for s in suite.episodes(task.id, "default", min(episodes, 50))
    ]
    raw_s, ours_s, same = 0.0, 0.0, True
    rows = []
    for spec in specs:  # alternate, so load changes hit both loops alike
        t0 = time.perf_counter()
        a = raw.policy_episode(policy, spec, task.instruction)
        t1 = time.perf_counter()
        b = wambench_episode(env, policy, suite, spec)
        t2 = time.perf_counter()
        raw_s, ours_s = raw_s + t1 - t0, ours_s + t2 - t1
        same = same and a == b
        rows.append(f"{spec.index}: {a[0]} {a[1]} steps {a[2]} / {b[0]} {b[1]} steps {b[2]}")
    env.close()
    raw.close()
    policy.close()
    raw_eph, ours_eph = 3600 * len(specs) / raw_s, 3600 * len(specs) / ours_s
    print(
        f"WAM episodes   : {policy.spec.name} (tiny backend, untrained, fixed noise seeds; reads {reads}), "
        f"{len(specs)} episodes x {steps} steps, reset and wait steps included, alternating: raw loop "
        f"(render every step) {raw_eph:.0f} episodes/h, wambench (deferred rendering) {ours_eph:.0f} "
        f"episodes/h -> ratio {ours_eph / raw_eph:.2f} (target >= 3)"
    )
    print(f"identical      : {'yes' if same else 'NO'} (outcome, steps, action checksum: raw / wambench)")
    for row in rows:
        print(f"  episode {row}")
    if not same:
        raise RuntimeError("the raw loop and wambench disagree on an episode (see above)")


def wrapper_cost_us(env: Any, iters: int = 2000) -> float:
    """CPU time the harness env adds per step on top of LIBERO's env.step, on a real observation."""
    raw = env._env.env._get_observations()
    t0 = time.perf_counter()
    for _ in range(iters):
        env._check_action(HOLD)
        env._observation(raw)
    return 1e6 * (time.perf_counter() - t0) / iters


def harness_episode(env: Any, suite: Any, spec: EpisodeSpec) -> tuple[float, float]:
    from harness.worker import run_episode

    policy = ConstantPolicy(HOLD, 8)
    t0 = time.perf_counter()
    record = run_episode(env, policy, spec, suite.action_space, policy_id="hold")
    end = time.perf_counter()
    if record.outcome == "error" or record.steps != spec.max_steps:
        raise RuntimeError(f"harness episode did not run cleanly: {record.outcome} {record.error}")
    return policy.started - t0, record.steps / (end - policy.started)


def side_by_side(suite_name: str, task_index: int, steps: int, repeats: int) -> None:
    from harness import registry

    suite = registry.suites.get(suite_name)(max_steps=steps)
    task = suite.tasks()[task_index]
    base = rss_gb()
    raw = RawLoop(suite, task.id)
    raw_reset, _ = raw.episode(0, 1)
    one_env = rss_gb()
    t0 = time.perf_counter()
    env = suite.make_env(task.id, "default")
    create_s = time.perf_counter() - t0
    specs = suite.episodes(task.id, "default", min(repeats, 50))
    harness_reset, _ = harness_episode(env, suite, specs[0])
    two_envs = rss_gb()
    print(f"task           : {suite.name} / {task.id}")
    print(
        f"env            : create {raw.create_s:.1f} s (raw) / {create_s:.1f} s (harness); "
        f"reset incl. {suite.options.num_steps_wait} wait steps {raw_reset:.1f} s / {harness_reset:.1f} s; "
        f"RSS: process with one env {one_env:.2f} GB (imports {base:.2f} GB), "
        f"second env +{two_envs - one_env:.2f} GB"
    )
    wrapper_us = wrapper_cost_us(env)
    raw_rates, harness_rates, resets = [], [], []
    for i in range(repeats):  # alternate, so load changes hit both loops alike
        _, r = raw.episode(specs[i].seed, steps)
        reset_s, h = harness_episode(env, suite, specs[i])
        raw_rates.append(r)
        harness_rates.append(h)
        resets.append(reset_s)
    env.close()
    raw.close()
    raw_med, harness_med = statistics.median(raw_rates), statistics.median(harness_rates)
    pairs = [h / r for h, r in zip(harness_rates, raw_rates, strict=True)]
    print(
        f"raw vs harness : {repeats} x {steps} steps each, alternating: raw {raw_med:.2f} steps/s, "
        f"harness {harness_med:.2f} steps/s -> ratio {harness_med / raw_med:.3f}, median of pair ratios "
        f"{statistics.median(pairs):.3f} (target >= 0.97); "
        f"pair ratios {', '.join(f'{x:.3f}' for x in pairs)}; "
        f"harness reset median {statistics.median(resets):.1f} s"
    )
    raw_step_us = 1e6 / raw_med
    print(
        f"harness work   : {wrapper_us:.1f} us per step (action check + observation: flip, state) against "
        f"{raw_step_us / 1000:.0f} ms per raw step -> load-independent ratio "
        f"{raw_step_us / (raw_step_us + wrapper_us):.4f} (run_episode's own loop: `wambench bench overhead`)"
    )


def runner_throughput(suite_name: str, task_index: int, steps: int, episodes: int, workers: int) -> float:
    from harness import registry
    from harness.config import parse_config

    suite = registry.suites.get(suite_name)()
    root = Path(tempfile.mkdtemp(prefix="wambench-bench-libero-"))
    try:
        config = parse_config(
            {
                "policies": [
                    {
                        "name": "harness.testing:constant_policy",
                        "options": {"action": HOLD.tolist(), "chunk": 8},
                    }
                ],
                "suites": [
                    {
                        "name": suite_name,
                        "tasks": [suite.tasks()[task_index].id],
                        "options": {"max_steps": steps},
                    }
                ],
                "episodes": episodes,
                "workers": workers,
                "out": str(root / "run"),
                "retries": 0,
            }
        )
        return episodes * steps / time_run(config, episodes)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="wambench bench libero", description=__doc__)
    p.add_argument("--suite", default="libero_spatial")
    p.add_argument("--task-index", type=int, default=0)
    p.add_argument("--steps", type=int, default=40, help="policy steps per episode")
    p.add_argument("--repeats", type=int, default=5, help="raw/harness episode pairs")
    p.add_argument("--episodes", type=int, default=4, help="episodes per runner measurement")
    p.add_argument("--skip-workers", action="store_true", help="only the in-process comparison")
    p.add_argument("--wam", default="teacher-1v1a", help="WAM method for the episodes-per-hour comparison")
    p.add_argument(
        "--wam-steps", type=int, default=None, help="policy steps per WAM episode (default: the protocol's)"
    )
    p.add_argument("--wam-episodes", type=int, default=3, help="episodes per loop in the WAM comparison")
    p.add_argument("--skip-wam", action="store_true", help="no episodes-per-hour comparison")
    args = p.parse_args(argv)

    from harness.timing import device_name
    from suites.libero import paths

    paths.prepare_process_env()
    gl = os.environ.get("MUJOCO_GL")
    print(f"machine        : {device_name('cpu')}, {os.cpu_count()} cores, MUJOCO_GL={gl}")
    side_by_side(args.suite, args.task_index, args.steps, args.repeats)
    if not args.skip_wam:
        wam_episodes_per_hour(args.suite, args.task_index, args.wam_steps, args.wam_episodes, args.wam)
    if not args.skip_workers:
        one = runner_throughput(args.suite, args.task_index, args.steps, args.episodes, 1)
        two = runner_throughput(args.suite, args.task_index, args.steps, args.episodes, 2)
        print(
            f"workers        : runner, {args.episodes} episodes x {args.steps} steps, "
            f"env start-up and resets included: 1 worker {one:.2f} steps/s, "
            f"2 workers {two:.2f} steps/s -> ratio {two / one:.2f}"
        )
    return 0
