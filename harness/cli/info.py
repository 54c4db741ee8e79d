"""`wambench info OUT [--errors] [--format table|json|csv]`: what ran, what is left, outcome counts.

Reads the store read-only when it cannot be written (an archive on a read-only file system).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from harness import protocols
from harness.cli.floors import check_floors, parse_floor
from harness.cli.output import add_format_flag, print_rows
from harness.records import RunInfo
from harness.store import Store
from harness.summary import STATUS_COLUMNS, log_console, print_status, status_rows

_ERROR_FIELDS = ("policy", "suite", "task", "split", "idx", "attempt", "error")


def register(sub: Any) -> None:
    p = sub.add_parser("info", help="show what an output directory holds")
    p.add_argument("out", help="output directory of a run")
    p.add_argument("--errors", action="store_true", help="list errored episodes with their error text")
    p.add_argument(
        "--floor",
        action="append",
        default=[],
        metavar="POLICY=PCT",
        help="exit 1 if POLICY's pooled success rate is below PCT (the CI bar; repeatable)",
    )
    add_format_flag(p)
    p.set_defaults(func=run)


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "–"


def _errors(store: Store) -> list[dict[str, Any]]:
    rows = []
    for e in store.episodes():
        if e.outcome == "error":
            last = (e.error or "").strip().splitlines()[-1:] or [""]
            k = e.key
            rows.append(
                {"policy": e.policy, "suite": k.suite, "task": k.task, "split": k.split, "idx": k.index}
                | {"attempt": e.attempt, "error": last[0]}
            )
    return rows


def _run_fields(r: RunInfo) -> dict[str, Any]:
    p = r.provenance
    return {
        "run_id": r.run_id,
        "kind": r.kind,
        "config_name": r.config_name,
        "config_hash": r.config_hash,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "status": r.status,
        "wambench_version": p.wambench_version,
        "git_revision": p.git_revision,
        "host": p.host,
        "device": p.device,
    }


def run(args: argparse.Namespace) -> int:
    floors = [parse_floor(f) for f in args.floor]  # bad input: one line, exit 2, before any read
    with Store.open(args.out) as store:
        verdicts = check_floors(store, floors)
        code = _show(args, store)
    for line in verdicts:  # on stderr: a --format json|csv document on stdout stays parseable
        print(line, file=sys.stderr)
    return 1 if any(line.startswith("BELOW") for line in verdicts) else code


def _show(args: argparse.Namespace, store: Store) -> int:
    if args.format == "json":
        doc = {
            "store": str(store.path),
            "runs": [_run_fields(r) for r in store.runs()],
            "manifest_episodes": len(store.manifest()),
            "policies": list(store.policies()),
            "status": status_rows(store),
        }
        if args.errors:
            doc["errors"] = _errors(store)
        print(json.dumps(doc, indent=2, default=str))
        return 0
    if args.format == "csv":  # one table per call: the status rows, or with --errors the errors
        if args.errors:
            print_rows(list(_ERROR_FIELDS), _errors(store), "csv")
        else:
            print_rows(STATUS_COLUMNS, status_rows(store), "csv")
        return 0
    console = log_console()
    for r in store.runs():
        p = r.provenance
        console.print(
            f"run {r.run_id} [{r.kind}] {r.config_name} hash {r.config_hash} "
            f"{_when(r.started_at)} -> {r.status} | wambench {p.wambench_version} "
            f"git {p.git_revision or '–'} | {p.host} | {p.device}",
            highlight=False,
            markup=False,
        )
    for protocol in protocols.stored(store).values():
        console.print(protocol.line(), highlight=False, markup=False)
    console.print(f"manifest: {len(store.manifest())} episodes; policies: {', '.join(store.policies())}")
    print_status(store, console)
    if store.readonly:
        console.print(f"(read-only: {store.path} cannot be written here)", highlight=False)
    if args.errors:
        for e in _errors(store):
            console.print(
                f"{e['policy']} {e['suite']}/{e['task']}/{e['split']}/{e['idx']} "
                f"attempt {e['attempt']}: {e['error']}",
                highlight=False,
                markup=False,
            )
    return 0
