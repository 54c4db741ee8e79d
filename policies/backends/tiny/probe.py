"""A cheap closed-loop probe of training checkpoints, to choose among them without the test set.

Success is rare early in training, but progress shows long before it: how low the eef is when the
gripper first closes (a grasp at the object's height, not above it), and how high the object ever gets
(lifted or not). The probe runs a checkpoint on a few fresh placements from LIBERO's sampler (seeds
PROBE_SEED_BASE + i: neither the demos' seeds nor the 50 evaluation init states, so choosing by it does
not look at the test episodes) and reports those, read from the simulator's privileged facts, which the
policy itself never sees.

`python -m policies.backends.tiny.probe CKPT [CKPT ...] --suite libero_object --task 0 --episodes 2`
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from typing import Any

PROBE_SEED_BASE = 2_000_000


@dataclass(frozen=True)
class ProbeResult:
    checkpoint: str
    seed: int
    success: bool
    steps: int
    first_close_eef_z: float | None  # eef height when the gripper first closed (None: never closed)
    object_start_top: float
    object_max_top: float  # highest the object's top ever got

    @property
    def lift(self) -> float:
        return self.object_max_top - self.object_start_top


def probe(
    checkpoint: str,
    suite_name: str,
    task_index: int,
    episodes: int,
    policy: str = "teacher-20v50a",
    max_steps: int | None = None,
) -> list[ProbeResult]:
    from harness import registry
    from harness.types import EpisodeSpec
    from policies.backends.tiny.checkpoint import load_checkpoint
    from suites.libero import catalog
    from suites.libero.env import LiberoEnv
    from suites.libero.options import STATE_DIM, LiberoOptions
    from suites.libero.suite import make_suite

    # A privileged-state checkpoint (trained with the object boxes in its state) is probed with them.
    wanted: dict[str, Any] = {"privileged": True}
    if load_checkpoint(checkpoint).model.cfg.state_dim > STATE_DIM:
        wanted["privileged_state"] = True
    suite = make_suite(suite_name, wanted)
    task = catalog.tasks(suite.name)[task_index]
    factory = registry.policies.get(policy)
    pol = factory.build(suite, {"backend": "tiny", "checkpoint": checkpoint})
    opts = LiberoOptions.parse(suite.name, {**wanted, **({"max_steps": max_steps} if max_steps else {})})
    env = LiberoEnv(suite.name, task, opts)
    results = []
    try:
        for i in range(episodes):
            seed = PROBE_SEED_BASE + i
            obs = env.reset_placement(seed)
            spec = EpisodeSpec(suite.name, task.name, "probe", i, seed, opts.max_steps, noise_seed=seed)
            pol.reset(spec, task.language)
            facts: Any = obs.privileged
            start_top = float(facts["object_high"][2])
            max_top, close_z, steps, success = start_top, None, 0, False
            while steps < opts.max_steps and not success:
                for action in pol.act(obs).executed:
                    if close_z is None and action[6] > 0:
                        close_z = float(obs.state[2])
                    result = env.step(action)
                    obs, steps, success = result.obs, steps + 1, result.success
                    max_top = max(max_top, float(obs.privileged["object_high"][2]))  # type: ignore[index]
                    if success or steps >= opts.max_steps:
                        break
            results.append(ProbeResult(checkpoint, seed, success, steps, close_z, start_top, max_top))
    finally:
        env.close()
        pol.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--suite", default="libero_object")
    parser.add_argument("--task", type=int, default=0)
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--policy", default="teacher-20v50a")
    parser.add_argument("--max-steps", type=int, default=None)
    args = parser.parse_args(argv)
    for ckpt in args.checkpoints:
        for r in probe(ckpt, args.suite, args.task, args.episodes, args.policy, args.max_steps):
            print(json.dumps({**asdict(r), "lift": round(r.lift, 4)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
