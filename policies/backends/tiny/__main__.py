"""`python -m policies.backends.tiny init FOLDER --suite SUITE`: write an untrained tiny checkpoint.

The folder is what the policy option `checkpoint` takes; it is labelled untrained (config.json
`"trained": false`), so every report built on it says so.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from harness.errors import UserError

# Shorthands for a suite's declared geometry: shapes only, no simulator needed.
SHAPE_SHORTHANDS = {"libero": "libero_spatial", "robotwin": "robotwin2"}


def _suite(name: str) -> Any:
    from harness import registry

    if name in SHAPE_SHORTHANDS:
        return registry.suites.get(SHAPE_SHORTHANDS[name]).geometry()
    return registry.suites.get(name)()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies.backends.tiny")
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="write a random-initialisation (untrained) checkpoint")
    init.add_argument("folder")
    init.add_argument("--suite", required=True, help="a registered suite, or 'libero' / 'robotwin' (shapes)")
    init.add_argument("--seed", type=int, default=0)
    for size in ("dim", "depth", "heads"):
        init.add_argument(f"--{size}", type=int)
    args = parser.parse_args(argv)
    from policies.backends.tiny import write_untrained_checkpoint

    sizes = {k: getattr(args, k) for k in ("dim", "depth", "heads") if getattr(args, k) is not None}
    try:
        out = write_untrained_checkpoint(args.folder, _suite(args.suite), args.seed, **sizes)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote untrained tiny checkpoint to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
