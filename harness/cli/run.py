"""`wambench run CONFIG [overrides]`: evaluate, or resume an interrupted run in the same directory."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

import harness
from harness import runner
from harness.config import config_from, read_config
from harness.errors import UserError
from harness.store import Store
from harness.summary import print_status

if TYPE_CHECKING:
    from harness.runner import Plan


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run a configuration (a shipped name like `ci`, or a YAML path)")
    p.add_argument("config", help="shipped config name (ci, paper/libero) or path to a .yaml")
    p.add_argument("--policy", help="comma-separated policies, replacing the config's")
    p.add_argument("--suite", help="comma-separated suites, replacing the config's")
    p.add_argument("--tasks", help="comma-separated task ids (applied to every suite)")
    p.add_argument("--episodes", type=int, help="episodes per task and split")
    p.add_argument("--workers", type=int, help="worker processes (default: from cores and memory)")
    p.add_argument("--out", help="output directory (default: results/<config name>)")
    p.add_argument("--seed", type=int, help="run seed (policy noise)")
    p.add_argument("--retries", type=int, help="retries of an errored episode")
    p.add_argument("--timeout", type=float, dest="episode_timeout_s", help="per-episode timeout (s)")
    p.add_argument("--video", action=argparse.BooleanOptionalAction, default=None, help="write mp4s")
    p.add_argument(
        "--executor", choices=("local", "ray"), help="local worker processes (default) or Ray actors"
    )
    p.add_argument("--ray-address", dest="ray_address", help="Ray cluster to join (auto, or HOST:PORT)")
    p.add_argument(
        "--shard",
        help="i/n: run every n-th episode from i into OUT/shard-i-of-n (for job arrays; report all shards)",
    )
    p.add_argument(
        "--execution",
        choices=("sync", "delayed"),
        help="sync: the world waits (default); delayed: it does not",
    )
    p.add_argument(
        "--latency",
        help="chunk latency: measured (default), 348ms, a sweep 0,100,350ms (one policy label per value), "
        "or per policy teacher=8.1s,flash-wam=348ms",
    )
    p.add_argument(
        "--latency-from", dest="latency_from", help="a `wambench latency` store to take latencies from"
    )
    p.add_argument("--control-hz", dest="control_hz", type=float, help="control rate (default: the suite's)")
    p.add_argument(
        "--latency-device",
        dest="latency_device",
        help="whose latencies --latency gives (e.g. 'NVIDIA L40S'), for reports",
    )
    p.set_defaults(func=run)


def latency_arg(text: str) -> Any:
    """`348ms` -> str; `0,100,350ms` -> a sweep (list); `a=348ms,b=8.1s` -> per policy (dict)."""
    parts = [v.strip() for v in text.split(",") if v.strip()]
    if not parts:
        raise UserError("--latency needs a value (e.g. 348ms, 0,100,350ms or teacher=8.1s,flash-wam=348ms)")
    if any("=" in v for v in parts):
        if not all("=" in v for v in parts):
            raise UserError(f"--latency '{text}': give every entry as POLICY=MS, or none")
        return {k.strip(): v.strip() for k, v in (v.split("=", 1) for v in parts)}
    return parts if len(parts) > 1 else parts[0]


def execution_overrides(args: argparse.Namespace, base: dict[str, Any]) -> dict[str, Any] | None:
    flags = {
        "mode": getattr(args, "execution", None),
        "latency": latency_arg(args.latency) if getattr(args, "latency", None) else None,
        "latency_from": getattr(args, "latency_from", None),
        "control_hz": getattr(args, "control_hz", None),
        "device": getattr(args, "latency_device", None),
    }
    flags = {k: v for k, v in flags.items() if v is not None}
    if not flags:
        return None
    current = base.get("execution") or {}
    if flags.get("latency_from") and "latency" not in flags:
        current = {k: v for k, v in dict(current).items() if k != "latency"}
    return {**dict(current), **flags}


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def overrides_from_args(args: argparse.Namespace, base: dict[str, Any]) -> dict[str, Any]:
    """Command-line flags as top-level config keys (validated like the file itself)."""
    o: dict[str, Any] = {
        k: getattr(args, k)
        for k in (
            "workers",
            "out",
            "seed",
            "retries",
            "episode_timeout_s",
            "video",
            "executor",
            "ray_address",
        )
    }
    if args.episodes is not None:
        if args.episodes < 1:
            raise UserError(f"--episodes must be at least 1 (got {args.episodes})")
        o["episodes"] = args.episodes
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be at least 1 (got {args.workers})")
    execution = execution_overrides(args, base)
    if execution is not None:
        o["execution"] = execution
    policies = _split(args.policy)
    if policies:
        o["policies"] = policies
    suites = _split(args.suite)
    suite_entries: list[Any] = [{"name": s} for s in suites] if suites else list(base.get("suites") or [])
    tasks = _split(args.tasks)
    if suites or tasks or args.episodes is not None:
        entries = []
        for entry in suite_entries:
            entry = {"name": entry} if isinstance(entry, str) else dict(entry)
            if tasks:
                entry["tasks"] = tasks
            if args.episodes is not None:
                entry.pop("episodes", None)
            entries.append(entry)
        o["suites"] = entries
    return o


def run(args: argparse.Namespace) -> int:
    data, default_name = read_config(args.config)  # read and parsed once: the overrides see the same data
    base = data if isinstance(data, dict) else {}
    config = config_from(data, args.config, default_name, overrides_from_args(args, base))
    console = Console(stderr=True)

    def announce(plan: Plan) -> None:
        console.print(
            f"wambench run {config.name}: {len(plan.manifest)} episodes x {len(plan.policy_specs)} "
            f"policies, {plan.workers} {'Ray actors' if config.executor == 'ray' else 'workers'} -> "
            f"{plan.out}",
            highlight=False,
        )
        if plan.workers_note:
            console.print(f"  {plan.workers_note}", highlight=False)

    result = harness.run(config, shard=runner.parse_shard(args.shard), on_plan=announce)
    with Store.open(result.out) as store:
        print_status(store)
    if result.interrupted:
        console.print(
            f"interrupted: finished episodes are stored in {result.out}; run the same command to resume."
        )
        return 130
    console.print(
        f"ran {result.ran} episode attempts, {result.skipped} already finished, "
        f"{result.workers_replaced} workers replaced",
        highlight=False,
    )
    if result.failed:
        console.print(
            f"[red]{result.errors_left} episodes ended in error[/] "
            f"(see `wambench info {escape(str(result.out))} --errors`)"
        )
        return 1
    return 0
