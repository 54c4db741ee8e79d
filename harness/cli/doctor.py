"""`wambench doctor NAME`: what this machine lacks to run a suite, as a precise list.

NAME is a doctor a package registers under the `wambench.doctors` entry-point group (e.g. `libero`,
`robotwin`), or a suite (registered, or `module:attr`) whose factory implements `harness.types.Doctor`:
`doctor(**options) -> list[str]`, each string one problem with its fix. Exit 0 when the list is empty,
1 when it is not. One that also implements `DescribesSource` says in one line what it found (e.g.
which install).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from harness import registry
from harness.cli.options import add_option_flag, parse_options
from harness.types import DescribesSource, Doctor


def register(sub: Any) -> None:
    p = sub.add_parser("doctor", help="check that a suite can run here (simulator, assets, packages, GPU)")
    names = ", ".join(registry.doctors.names())
    p.add_argument("suite", help=f"a suite's package ({names}) or a suite name (e.g. robotwin2)")
    add_option_flag(p, "suite option, as in a run config's suite options (repeatable)")
    p.set_defaults(func=run)


def find_doctor(name: str) -> tuple[str, Doctor | None]:
    """A registered doctor, else the suite's own (None when its factory has no checks)."""
    if name in registry.doctors.names():
        return name, registry.doctors.get(name)
    factory = registry.suites.get(name)  # an unknown name: UserError with "did you mean"
    return name, factory if isinstance(factory, Doctor) else None


def run(args: argparse.Namespace) -> int:
    options = parse_options(args.option)
    name, doctor = find_doctor(args.suite)
    if doctor is None:
        print(f"{name}: this suite defines no doctor() checks; nothing to check")
        return 0
    problems = list(doctor.doctor(**options))
    if isinstance(doctor, DescribesSource):
        print(f"{name}: {doctor.doctor_source(**options)}")
    if not problems:
        print(f"{name}: ready")
        return 0
    print(f"{name}: {len(problems)} problem(s) stop it from running here:", file=sys.stdout)
    for problem in problems:
        print(f"  - {problem}")
    return 1
