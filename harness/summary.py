"""The end-of-run summary and `wambench info`: what ran, what is left, outcome counts, from the store."""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.records import PRIVILEGED_NOTE, OutcomeCounts
from harness.store import Store

STATUS_COLUMNS = (
    "policy",
    "suite",
    "trained",
    "privileged",
    "episodes",
    "done",
    "left",
    "success",
    "failure",
    "error",
    "success %",
    "chunk ms",
)


def status_rows(store: Store) -> list[dict[str, Any]]:
    """Per policy and suite: manifest size, finished, pending, outcomes, success rate, warm chunk ms
    (numbers as numbers, None where there is none: for `--format json|csv` and the table alike)."""
    manifest = store.manifest()
    per_suite = Counter(s.suite for s in manifest)
    policies = store.policies()
    per_suite_specs = store.policy_specs()
    counts = store.outcome_counts()
    chunk_ms: dict[tuple[str, str], list[float]] = defaultdict(list)
    for chunk in store.chunks("rollout"):
        total = chunk.ms("total")
        if not chunk.record.warmup and total is not None:
            chunk_ms[(chunk.policy, chunk.key.suite)].append(total)
    rows = []
    for pid in sorted(policies):
        for suite in sorted(per_suite):
            info = per_suite_specs.get((pid, suite), policies[pid])
            c = counts.get((pid, suite), OutcomeCounts())
            ms = chunk_ms[(pid, suite)]
            values = (
                pid,
                suite,
                "no" if info.untrained else "yes",
                "yes ‡" if info.privileged else "no",
                per_suite[suite],
                c.done,
                per_suite[suite] - c.done,
                c.success,
                c.failure,
                c.error,
                100 * c.success / c.judged if c.judged else None,
                sum(ms) / len(ms) if ms else None,
            )
            rows.append(dict(zip(STATUS_COLUMNS, values, strict=True)))
    return rows


def status_table(store: Store) -> Table:
    t = Table(header_style="bold")
    for col in STATUS_COLUMNS:
        t.add_column(col, justify="left" if col in ("policy", "suite", "trained", "privileged") else "right")
    for row in status_rows(store):
        rate, ms = row["success %"], row["chunk ms"]
        cells = [str(row[col]) for col in STATUS_COLUMNS[:-2]]
        t.add_row(*cells, f"{rate:.1f}" if rate is not None else "–", f"{ms:.1f}" if ms is not None else "–")
    return t


def log_console() -> Console:
    """stdout, sized for tables: a CI log is not a terminal, and rich would cut every cell at 80 columns."""
    return Console(width=None if sys.stdout.isatty() else 200)


def print_status(store: Store, console: Console | None = None) -> None:
    console = console or log_console()
    console.print(status_table(store))
    infos = [*store.policies().values(), *store.policy_specs().values()]
    if any(p.untrained for p in infos):
        console.print(
            "[yellow]note:[/] policies with trained = no run a randomly initialised network: "
            "success near 0 is expected and says nothing about the method."
        )
    if any(p.privileged for p in infos):
        console.print(f"[yellow]note:[/] ‡ {PRIVILEGED_NOTE}.")
    console.print("success % counts success / (success + failure); errors are never failures.")
    from harness.realtime.summary import realtime_table

    timed = realtime_table(store)  # execution mode, latency, real-time metrics (harness/realtime)
    if timed is not None:
        console.print(timed)


__all__ = ["STATUS_COLUMNS", "log_console", "print_status", "status_rows", "status_table"]
