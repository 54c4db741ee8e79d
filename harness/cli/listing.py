"""`wambench list suites|policies|configs|tasks SUITE|protocols [SUITE]|benchmarks [--format ...]`."""

from __future__ import annotations

import argparse
import inspect
from typing import Any

from harness import protocols, registry
from harness.cli.output import add_format_flag, print_rows
from harness.config import shipped_configs
from harness.errors import UserError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "list",
        help="list registered suites, policies, shipped configs, tasks, evaluation protocols, or benchmarks",
    )
    p.add_argument("what", choices=["suites", "policies", "configs", "tasks", "protocols", "benchmarks"])
    p.add_argument("suite", nargs="?", help="for `list tasks` (needed) and `list protocols`: the suite")
    add_format_flag(p)
    p.set_defaults(func=run)


def _suites() -> tuple[list[str], list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    for name in registry.suites.names():
        try:
            suite = registry.suites.get(name)()
        except Exception as exc:  # one broken plugin must not hide the others
            rows.append({"suite": name, "tasks": "-", "splits": "-", "action space": _why(exc)})
            continue
        rows.append(
            {
                "suite": name,
                "tasks": len(suite.tasks()),
                "splits": ", ".join(suite.splits),
                "action space": f"{suite.action_space.kind} ({suite.action_space.dim}-d)",
            }
        )
    return ["suite", "tasks", "splits", "action space"], rows


def _policies() -> tuple[list[str], list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    for name in registry.policies.names():
        try:
            spec = registry.policies.get(name).spec
        except Exception as exc:  # one broken plugin must not hide the others
            rows.append({"policy": name, "method": "unavailable", "samplers": _why(exc)})
            continue
        rows.append(
            {
                "policy": name,
                "method": spec.method,
                "NFE video": spec.nfe_video if spec.nfe_video is not None else "-",
                "NFE action": spec.nfe_action if spec.nfe_action is not None else "-",
                "backend": spec.backend,
                "samplers": str(spec.details.get("samplers", "")),
            }
        )
    return ["policy", "method", "NFE video", "NFE action", "backend", "samplers"], rows


def _benchmarks() -> tuple[list[str], list[dict[str, Any]]]:
    """The `wambench.benchmarks` entry points, each with the first line of what it documents."""
    rows: list[dict[str, Any]] = []
    for name in registry.benchmarks.names():
        try:
            main = registry.benchmarks.get(name)
            doc = inspect.getdoc(main) or inspect.getdoc(inspect.getmodule(main)) or ""
            about = doc.strip().splitlines()[0] if doc.strip() else ""
        except Exception as exc:  # one broken plugin must not hide the others
            about = _why(exc)
        rows.append({"benchmark": name, "from": registry.benchmarks.reference(name) or "-", "about": about})
    return ["benchmark", "from", "about"], rows


def _why(exc: Exception) -> str:
    """A registered entry that cannot be loaded, in the table's last column."""
    return f"unavailable: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def _tasks(suite_name: str | None) -> tuple[list[str], list[dict[str, Any]]]:
    if not suite_name:
        raise UserError("`wambench list tasks` needs a suite, e.g. `wambench list tasks libero_object`")
    suite = registry.suites.get(suite_name)()
    rows = [
        {"task": t.id, "instruction": t.instruction, "max steps": t.max_steps, "horizon": t.horizon or "-"}
        for t in suite.tasks()
    ]
    return ["task", "instruction", "max steps", "horizon"], rows


def protocol_rows(suite: str | None) -> tuple[list[str], list[dict[str, Any]], list[str]]:
    """Each suite's evaluation protocols, read from its factory (no simulator is built), and their
    notes (where wambench departs from the upstream a profile is named after), once each."""
    names = [suite] if suite else registry.suites.names()
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for name in names:
        for i, profile in enumerate(protocols.declared(registry.suites.get(name))):
            rows.append(
                {
                    "suite": name,
                    "protocol": profile.name + (" (default)" if i == 0 else ""),
                    "version": profile.version,
                    "values": protocols.describe(profile.values()),
                    "source": profile.source,
                }
            )
            about = f"{profile.name} ({profile.summary})"
            notes += [f"{about}: {n}" for n in profile.notes if f"{about}: {n}" not in notes]
    return ["suite", "protocol", "version", "values", "source"], rows, notes


def run(args: argparse.Namespace) -> int:
    if args.what == "configs":
        columns, rows = ["config"], [{"config": name} for name in shipped_configs()]
    elif args.what == "suites":
        columns, rows = _suites()
    elif args.what == "policies":
        columns, rows = _policies()
    elif args.what == "benchmarks":
        columns, rows = _benchmarks()
    elif args.what == "protocols":
        columns, rows, notes = protocol_rows(args.suite)
        print_rows(columns, rows, args.format)
        if args.format == "table":
            for note in notes:
                print(f"- {note}")
        return 0
    else:
        columns, rows = _tasks(args.suite)
    if args.what == "configs" and args.format == "table":
        for row in rows:  # one name a line, on a terminal as in a pipe
            print(row["config"])
        return 0
    print_rows(columns, rows, args.format)
    return 0
