"""`wambench report OUT [OUT ...] --out reports/NAME` and `wambench report --reference paper --out DIR`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.errors import UserError
from harness.latency.reference import DEFAULT_BUDGET_MS


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="tables (Markdown, LaTeX, CSV) and figures from stored runs, or from the paper's own numbers",
        description="Turn stored runs into the paper's tables and figures with Wilson intervals. "
        "Reads the stores only; never re-runs anything.",
    )
    p.add_argument("outs", nargs="*", metavar="OUT", help="run output directories (same manifest)")
    p.add_argument("--out", required=True, type=Path, help="report directory, e.g. reports/NAME")
    p.add_argument(
        "--vs", choices=["paper"], help="put the paper's number and the difference beside each cell"
    )
    p.add_argument(
        "--reference",
        choices=["paper"],
        help="reviewer mode: the paper's tables from its reference data alone, plus a consistency check",
    )
    p.add_argument(
        "--paper",
        default=None,
        metavar="NAME|DIR",
        help="the paper whose tables and numbers to use: a shipped one (default flash-wam) or a folder "
        "of a paper definition (paper.yaml, tables.yaml, consistency.yaml and its CSVs)",
    )
    p.add_argument(
        "--budget-ms",
        type=float,
        default=DEFAULT_BUDGET_MS,
        help=f"real-time budget line in figures (ms; default {DEFAULT_BUDGET_MS:g}, as `wambench latency`)",
    )
    p.add_argument(
        "--real-robot",
        type=Path,
        help="CSV of real-robot trials for Table 3 (method,nfe_video,nfe_action,task,successes,trials)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.budget_ms <= 0:
        raise UserError(f"--budget-ms must be positive, got {args.budget_ms:g}")
    from harness.report.build import build_reference_report, build_report
    from harness.report.paperdef import load_paper

    paper = load_paper(args.paper) if args.paper else None
    if args.reference:
        if args.outs or args.vs or args.real_robot:
            raise UserError(
                "--reference paper reads no runs: drop the OUT directories, --vs and --real-robot"
            )
        index = build_reference_report(args.out, budget_ms=args.budget_ms, paper=paper)
    else:
        if not args.outs:
            raise UserError("give run directories (wambench report OUT --out DIR) or --reference paper")
        index = build_report(
            args.outs,
            args.out,
            vs_paper=args.vs == "paper",
            budget_ms=args.budget_ms,
            real_robot=args.real_robot,
            paper=paper,
        )
    print(f"report written: {index}")
    return 0
