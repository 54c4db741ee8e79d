"""Run progress: overall and per task, success so far, episodes/min, ETA.

On a terminal it is a live rich display; elsewhere (CI logs) one line per finished episode, so a log
shows the same facts without control characters.
"""

from __future__ import annotations

import time
from collections import Counter

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from harness.manifest import Manifest
from harness.records import EpisodeRecord

_MAX_TASK_BARS = 16


class RunProgress:
    def __init__(
        self,
        manifest: Manifest,
        policies: list[str],
        done: int = 0,
        console: Console | None = None,
        total: int | None = None,  # fewer than manifest x policies when running one shard
        quiet: bool = False,  # count, but print nothing (benchmarks time the runner itself)
    ):
        self.quiet = quiet
        self.console = console or Console(stderr=True)
        self.total = len(manifest) * len(policies) if total is None else total
        self.done = done
        self.start_done = done
        self.t0 = time.monotonic()
        self.outcomes: Counter[str] = Counter()
        self.task_totals: Counter[tuple[str, str]] = Counter()
        for spec in manifest.episodes:
            self.task_totals[(spec.suite, spec.task)] += len(policies)
        self.task_success: Counter[tuple[str, str]] = Counter()
        self.live = self.console.is_terminal and not quiet
        self._progress: Progress | None = None
        self._overall: TaskID | None = None
        self._tasks: dict[tuple[str, str], TaskID] = {}
        if self.live:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[extra]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._overall = self._progress.add_task("all", total=self.total, completed=done, extra="")
            if len(self.task_totals) <= _MAX_TASK_BARS:
                for key, n in self.task_totals.items():
                    self._tasks[key] = self._progress.add_task(f"  {key[0]}/{key[1]}", total=n, extra="")
            self._progress.start()

    def _rate_per_min(self) -> float:
        elapsed = time.monotonic() - self.t0
        return 60.0 * (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0

    def _summary(self) -> str:
        finished = sum(self.outcomes.values())
        rate = self._rate_per_min()
        remaining = self.total - self.done
        eta = f"{remaining / rate:.1f} min" if rate > 0 else "?"
        return (
            f"success {self.outcomes['success']}/{finished}, errors {self.outcomes['error']} | "
            f"{rate:.1f} ep/min | ETA {eta}"
        )

    def update(self, rec: EpisodeRecord, final: bool = True) -> None:
        key = (rec.key.suite, rec.key.task)
        if final:
            self.done += 1
            self.outcomes[rec.outcome] += 1
            if rec.outcome == "success":
                self.task_success[key] += 1
        if self._progress is not None and self._overall is not None:
            self._progress.update(self._overall, completed=self.done, extra=self._summary())
            if final and key in self._tasks:
                self._progress.advance(self._tasks[key])
                self._progress.update(self._tasks[key], extra=f"success {self.task_success[key]}")
            if rec.outcome == "error":
                self._progress.console.print(
                    f"[yellow]error[/] {rec.policy} {rec.key} (attempt {rec.attempt})"
                )
            return
        if self.quiet:
            return
        retry = "" if final else " (will retry)"
        self.console.print(
            f"[{self.done}/{self.total}] {rec.policy} {rec.key}: {rec.outcome}{retry} "
            f"({rec.steps} steps, {rec.wall_s:.1f} s) | {self._summary()}",
            highlight=False,
            soft_wrap=True,
        )
        if rec.outcome == "error" and rec.error:
            self.console.print("    " + rec.error.strip().splitlines()[-1], highlight=False, soft_wrap=True)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


__all__ = ["RunProgress"]
