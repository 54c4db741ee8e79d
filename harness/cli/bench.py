"""`wambench bench NAME [args]`: the benchmarks packages register under the `wambench.benchmarks`
entry-point group (a function taking the remaining command-line arguments, returning an exit code).
Each prints ratios measured side by side in one run."""

from __future__ import annotations

import argparse
from typing import Any

from harness import registry


def register(sub: Any) -> None:
    names = ", ".join(registry.benchmarks.names()) or "none installed"
    p = sub.add_parser(
        "bench",
        help=f"run a benchmark: {names}",
        description=f"{__doc__}\n\nInstalled benchmarks: {names} (`wambench list benchmarks`).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", help=f"benchmark name ({names})")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the benchmark")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return int(registry.benchmarks.get(args.name)(list(args.rest)) or 0)
