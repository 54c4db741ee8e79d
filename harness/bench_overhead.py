"""`wambench bench overhead`: the harness's own cost, measured side by side in one run.

1. Per env step: the episode loop (`run_episode`: action checks, chunk records, success latching)
   against a bare `for a in chunk: env.step(a)` loop, both on a zero-cost env and policy.
2. Per episode: the full runner (spawned worker, pipe, SQLite transaction, progress) at two episode
   counts; the slope removes start-up, and the in-process episode time is subtracted.
3. Scaling: episodes/s with 2 workers against 1, on an env that burns a fixed amount of CPU per step
   (a zero-cost env measures only the supervisor, not parallel rollouts).

`--executor ray` runs 2 and 3 for the local executor and for Ray actors (a local Ray instance, or the
cluster RAY_ADDRESS names), one after the other in the same process, and prints what Ray adds.

The env and policy are harness.testing's fake suite and constant policy (not registered); workers
load them by module:attr.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from harness.config import RunConfig
from harness.testing import ConstantPolicy, FakeSuite
from harness.types import EpisodeSpec

# The benchmark's suite (harness.testing's, zero-cost or burning CPU per step), as the runner's
# workers build it from a config.
SUITE = "harness.testing:fake_suite"
_SHAPE: dict[str, Any] = {"name": "bench", "instruction": "bench"}


def _per_step_us(steps: int, chunk: int, repeats: int) -> tuple[float, float]:
    from harness.worker import run_episode

    suite = FakeSuite(**_SHAPE)
    env, policy = suite.make_env("t", "default"), ConstantPolicy(np.zeros(suite.action_space.dim), chunk)
    spec = EpisodeSpec("bench", "t", "default", 0, 0, steps)
    raw, harness = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        obs = env.reset(spec)
        done = 0
        while done < steps:
            for a in policy.act(obs).actions:
                env.step(a)
                done += 1
                if done >= steps:
                    break
        raw.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        run_episode(env, policy, spec, suite.action_space, policy_id="zero")
        harness.append(time.perf_counter() - t0)
    return 1e6 * min(raw) / steps, 1e6 * min(harness) / steps


def _runner_seconds(
    episodes: int, workers: int, steps: int, busy_ms: float, root: Path, executor: str = "local"
) -> float:
    from harness.config import parse_config

    out = root / f"{executor}-e{episodes}-w{workers}-b{busy_ms}"
    shutil.rmtree(out, ignore_errors=True)
    config = parse_config(
        {
            "policies": ["harness.testing:constant_policy"],
            "suites": [{"name": SUITE, "options": {**_SHAPE, "busy_ms": busy_ms, "steps": steps}}],
            "episodes": episodes,
            "workers": workers,
            "out": str(out),
            "retries": 0,
            "executor": executor,
        }
    )
    return time_run(config, episodes)


def time_run(config: RunConfig, episodes: int) -> float:
    """Seconds for the full runner (plan excluded) on `config`, silent; it must finish cleanly."""
    from harness import runner
    from harness.progress import RunProgress

    plan = runner.plan(config)
    t0 = time.perf_counter()
    result = runner.execute(plan, progress=RunProgress(plan.manifest, list(plan.policy_specs), quiet=True))
    elapsed = time.perf_counter() - t0
    if result.ran != episodes or result.failed:
        raise RuntimeError(f"runner did not finish cleanly: {result}")
    return elapsed


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="wambench bench overhead", description=__doc__)
    p.add_argument("--steps", type=int, default=200, help="env steps per episode")
    p.add_argument("--chunk", type=int, default=16, help="actions per policy call")
    p.add_argument("--episodes", type=int, default=200, help="episodes for the per-episode slope")
    p.add_argument("--busy-ms", type=float, default=2.0, help="CPU per env step in the scaling test")
    p.add_argument("--scale-episodes", type=int, default=40)
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="ray: measure the Ray executor side by side with the local one (needs the ray extra)",
    )
    args = p.parse_args(argv)
    executors = ["local"] if args.executor == "local" else ["local", "ray"]
    if "ray" in executors:
        from harness.executors.ray import require_ray

        require_ray()  # a missing extra is one clear line, before any measurement

    from harness.timing import device_name

    print(f"machine: {device_name('cpu')}")
    raw_us, harness_us = _per_step_us(args.steps, args.chunk, repeats=50)
    print(
        f"per env step   : bare loop {raw_us:.2f} us, run_episode {harness_us:.2f} us -> "
        f"harness overhead {harness_us - raw_us:.2f} us/step (target < 1000)"
    )
    root = Path(tempfile.mkdtemp(prefix="wambench-bench-"))
    try:
        small = max(10, args.episodes // 5)
        in_process_ms = harness_us * args.steps / 1000
        per_episode: dict[str, float] = {}
        for ex in executors:
            t_small = _runner_seconds(small, 1, args.steps, 0.0, root, ex)
            t_big = _runner_seconds(args.episodes, 1, args.steps, 0.0, root, ex)
            per_episode_ms = 1000 * (t_big - t_small) / (args.episodes - small)
            if per_episode_ms <= 0:
                print(
                    f"per episode    : {ex}: not measurable: the larger run was not slower than the smaller "
                    "one (the machine is too noisy for this many episodes; raise --episodes)"
                )
                per_episode_ms = float("nan")
            per_episode[ex] = per_episode_ms
            print(
                f"per episode    : {ex}: runner {per_episode_ms:.2f} ms/episode ({args.steps} steps) of "
                f"which the episode loop is {in_process_ms:.2f} ms -> harness overhead "
                f"{per_episode_ms - in_process_ms:.2f} ms/episode "
                f"(1 worker; {args.episodes} vs {small} episodes; "
                f"fixed start-up {t_small - small * per_episode_ms / 1000:.2f} s)"
            )
        if "ray" in per_episode:
            print(
                f"ray vs local   : Ray adds {per_episode['ray'] - per_episode['local']:.2f} ms/episode "
                f"({per_episode['ray'] / per_episode['local']:.2f}x the local executor's per-episode cost)"
            )
        for ex in executors:
            t1 = _runner_seconds(args.scale_episodes, 1, args.steps // 2, args.busy_ms, root, ex)
            t2 = _runner_seconds(args.scale_episodes, 2, args.steps // 2, args.busy_ms, root, ex)
            print(
                f"scaling        : {ex}: {args.scale_episodes} episodes x {args.steps // 2} steps "
                f"x {args.busy_ms} ms CPU: "
                f"1 worker {args.scale_episodes / t1:.2f} ep/s, "
                f"2 workers {args.scale_episodes / t2:.2f} ep/s -> ratio {t1 / t2:.2f} "
                "(target >= 1.8 on 2 cores; includes worker start-up)"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0
