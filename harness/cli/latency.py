"""`wambench latency`: per-chunk latency of a policy without its simulator (see harness/latency)."""

from __future__ import annotations

import argparse
from typing import Any

from harness.cli.options import add_option_flag, parse_options
from harness.errors import UserError
from harness.latency.app import LatencyRequest, run_latency
from harness.latency.costmodel import WEIGHTINGS
from harness.latency.measure import DTYPES
from harness.latency.reference import DEFAULT_BUDGET_MS
from harness.latency.stats import CV_WARN, MIN_WARM_ITERS


def register(sub: Any) -> None:
    p = sub.add_parser(
        "latency",
        help="time a policy's chunks (stages, cold vs warm, NFE sweep and cost model)",
        description=(
            "Times consecutive chunks of a policy on observations of the suite's shapes (no simulator). "
            "CUDA events and synchronisation on CUDA; cold and warm chunks apart. --sweep times a grid of "
            "(video NFE, action NFE) and fits latency = c0 + n_v c_v + n_a c_a."
        ),
    )
    p.add_argument("--policy", action="append", required=True, help="registered policy (repeatable)")
    p.add_argument(
        "--suite", help="suite whose observation shapes to time on (required; see `wambench list suites`)"
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (cpu)")
    p.add_argument("--dtype", choices=DTYPES, help="model dtype (float32 on cpu, bfloat16 on cuda)")
    p.add_argument("--backend", help="policy backend option (tiny, lingbot, remote); policy default if unset")
    p.add_argument("--checkpoint", help="policy checkpoint option")
    add_option_flag(p, "extra policy option (YAML value, as in a run config)")
    p.add_argument("--warmup", type=int, default=3, help="warm-up chunks, the cold one included (3)")
    p.add_argument(
        "--iters", type=int, default=20, help=f"warm chunks to report (20; at least {MIN_WARM_ITERS})"
    )
    p.add_argument(
        "--interleave",
        action="store_true",
        help="build every configuration first and time them round-robin (robust on a shared machine; "
        "needs memory for all policies at once)",
    )
    p.add_argument(
        "--chunks-per-episode", type=int, default=0, help="reset the policy every K chunks (0: never)"
    )
    p.add_argument(
        "--obs", help="recorded observations (.npz with images/<camera> and state) instead of synthetic"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of synthetic observations and episode noise")
    p.add_argument("--threads", type=int, help="torch CPU threads (torch's default if unset)")
    p.add_argument("--out", help="store directory to record chunks in (source 'benchmark')")
    p.add_argument("--csv", help="write one row per configuration to this CSV")
    p.add_argument(
        "--sweep", action="store_true", help="sweep (video NFE, action NFE) and fit the cost model"
    )
    p.add_argument("--grid", help="sweep grid, e.g. 1x1,1x2,2x4,25x1,1x50,25x50 (default: spans both axes)")
    p.add_argument("--teacher", help="speedup baseline VxA (default: the suite's teacher, 25x50 / 20x50)")
    p.add_argument(
        "--budget-ms",
        type=float,
        default=DEFAULT_BUDGET_MS,
        help=f"real-time budget per chunk ({DEFAULT_BUDGET_MS:g})",
    )
    p.add_argument(
        "--budget-stat", default="p90", choices=["mean", "p50", "p90", "p99"], help="checked statistic"
    )
    p.add_argument(
        "--stat",
        default="mean",
        choices=["mean", "p50"],
        help="warm statistic the sweep fits and compares (mean; p50 resists outliers on a shared machine)",
    )
    p.add_argument("--weighting", default="relative", choices=WEIGHTINGS, help="cost-model fit weighting")
    p.add_argument(
        "--cv-warn", type=float, default=CV_WARN, help=f"warn above this coefficient of variation ({CV_WARN})"
    )
    p.set_defaults(func=run)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    opts = parse_options(args.option)
    for reserved in ("device", "dtype", "nfe_video", "nfe_action"):
        if reserved in opts:
            raise UserError(
                f"--option {reserved}=... is set by the command itself; use its own flag or --sweep"
            )
    if args.backend:
        opts["backend"] = args.backend
    if args.checkpoint:
        opts["checkpoint"] = args.checkpoint
    return opts


def run(args: argparse.Namespace) -> int:
    req = LatencyRequest(
        policies=args.policy,
        suite=args.suite or "",
        device=args.device,
        dtype=args.dtype,
        warmup=args.warmup,
        iters=args.iters,
        out=args.out,
        sweep=args.sweep,
        grid=args.grid,
        teacher=args.teacher,
        budget_ms=args.budget_ms,
        budget_stat=args.budget_stat,
        weighting=args.weighting,
        stat=args.stat,
        cv_warn=args.cv_warn,
        chunks_per_episode=args.chunks_per_episode,
        interleave=args.interleave,
        obs=args.obs,
        seed=args.seed,
        threads=args.threads,
        options=_options(args),
        csv=args.csv,
    )
    run_latency(req)
    return 0
