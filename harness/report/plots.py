"""What each figure shows, from stored runs or from the paper's numbers (figures.py draws it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from harness.latency.reference import DEFAULT_BUDGET_MS
from harness.report import figures
from harness.report.figures import LatencyBar, Point
from harness.report.latency import latency_set
from harness.report.measured import counts, order_key
from harness.report.reference import (
    BENCHMARKS,
    LIBERO_LABELS,
    ROBOTWIN,
    ROBOTWIN_SPLITS,
    SPLIT_LABELS,
    RefValue,
    TaskValue,
    method_label,
    nfe_label,
    paper_method,
    paper_values,
    per_task_values,
    robotwin_tasks,
)
from harness.report.results import RunSet
from harness.stats import wilson_interval


@dataclass(frozen=True)
class FigureSpec:
    stem: str
    caption: str
    figure: Figure


def _groups(runs: RunSet) -> list[tuple[str, str, list[str]]]:
    """(file tag, title, suites that ran) for each of the paper's benchmarks that ran."""
    ran = set(runs.suites())
    groups = [(key, title, [s for s in suites if s in ran]) for key, title, suites in BENCHMARKS]
    return [g for g in groups if g[2]]


def _label(method: str, nfe: tuple[int | None, int | None], backend: str | None = None) -> str:
    """A paper row (backend None) by the paper's name; a measured policy by method, NFE and backend."""
    name = method_label(paper_method(method, nfe), backend)
    return f"{name} {nfe_label(*nfe)}" + (f" ({backend})" if backend else "")


def budget_label(budget_ms: float) -> str:
    """The budget line is wambench's choice (the report's --budget-ms), not a number from the paper."""
    ms = f"{budget_ms:g} ms"
    if budget_ms == DEFAULT_BUDGET_MS:
        return f"wambench default budget {ms}"
    return f"budget {ms} (--budget-ms)"


def measured_figures(runs: RunSet, budget_ms: float | None) -> tuple[list[FigureSpec], list[str]]:
    """Figures 1 (latency), success vs latency and the per-task heatmap per benchmark; plus notes on
    what could not be drawn."""
    specs: list[FigureSpec] = []
    skipped: list[str] = []
    for tag, title, suites in _groups(runs):
        pols = sorted(runs.policies_in(suites), key=order_key)
        lat = latency_set(runs, suites)
        timed = [p for p in pols if lat.get(p.id) is not None]
        if timed:
            bars = []
            for p in timed:
                t = lat.by_policy[p.id]
                bars.append(LatencyBar(_policy_name(runs, p.id), t.total_ms, t.video_ms, t.action_ms))
            device = lat.device or "?"
            specs.append(
                FigureSpec(
                    f"fig1_latency_{tag}",
                    f"{title}: mean per-chunk latency of warm {lat.source} chunks on {device}, stacked "
                    f"video / action / other; dashed line: {budget_label(budget_ms)}."
                    if budget_ms
                    else f"{title}: mean per-chunk latency on {device}.",
                    figures.latency_breakdown(
                        bars, budget_ms, f"{title}: per-chunk latency ({device})", _budget(budget_ms)
                    ),
                )
            )
            points = []
            for p in timed:
                k, n, _ = counts(runs.episodes_of(p.id, suites))
                if n == 0:
                    continue
                lo, hi = wilson_interval(k, n)
                points.append(
                    Point(
                        _policy_name(runs, p.id),
                        lat.by_policy[p.id].total_ms,
                        100 * k / n,
                        100 * lo,
                        100 * hi,
                    )
                )
            if points:
                specs.append(
                    FigureSpec(
                        f"success_latency_{tag}",
                        f"{title}: success (Wilson 95% bars) vs per-chunk latency on {device}; "
                        f"dotted: Pareto front. {figures.DODGE_NOTE}",
                        figures.success_vs_latency(
                            points, budget_ms, f"{title}: success vs latency", _budget(budget_ms)
                        ),
                    )
                )
        else:
            skipped.append(f"{title}: no warm chunk timings stored, so no latency figures.")
        rows, cols, matrix = _task_matrix(runs, suites, [p.id for p in pols])
        if rows:
            specs.append(
                FigureSpec(
                    f"heatmap_{tag}",
                    f"{title}: success % per task and policy; blank where it did not run.",
                    figures.heatmap(rows, cols, matrix, f"{title}: success per task"),
                )
            )
    return specs, skipped


def _budget(budget_ms: float | None) -> str | None:
    return budget_label(budget_ms) if budget_ms else None


def _policy_name(runs: RunSet, pid: str) -> str:
    """Method, NFE and backend (never the paper's "LingBot-VA" for another network), † if untrained;
    the stored id where two policies would share a name."""
    p = runs.policies.get(pid)
    if p is None:
        return pid
    same = (p.method, p.nfe, p.backend)
    twins = [q for q in runs.policies.values() if (q.method, q.nfe, q.backend) == same]
    name = pid if len(twins) > 1 else _label(p.method, p.nfe, p.backend)
    return name + p.marks


def _task_matrix(
    runs: RunSet, suites: Sequence[str], policy_ids: Sequence[str]
) -> tuple[list[str], list[str], np.ndarray]:
    split_cols = suites == [ROBOTWIN]
    cols: list[tuple[str, str | None]] = [
        (pid, s) for pid in policy_ids for s in (ROBOTWIN_SPLITS if split_cols else (None,))
    ]
    suite_rank = {s: i for i, s in enumerate(suites)}
    task_rank = {t: i for i, (t, _, _) in enumerate(robotwin_tasks())} if split_cols else {}
    tasks = sorted(
        {(e.key.suite, e.key.task) for e in runs.episodes if e.key.suite in suites},
        key=lambda st: (suite_rank[st[0]], task_rank.get(st[1], len(task_rank)), st[1]),
    )
    index: dict[tuple[str, str, str, str], list[bool]] = {}
    for e in runs.episodes:
        if e.outcome != "error":
            index.setdefault((e.policy, e.key.suite, e.key.task, e.key.split), []).append(e.success)
    matrix = np.full((len(tasks), len(cols)), np.nan)
    for i, (suite, task) in enumerate(tasks):
        for j, (pid, split) in enumerate(cols):
            splits = [split] if split else sorted({k[3] for k in index if k[:3] == (pid, suite, task)})
            outcomes = [x for sp in splits for x in index.get((pid, suite, task, sp), [])]
            if outcomes:
                matrix[i, j] = 100.0 * sum(outcomes) / len(outcomes)
    names = {pid: _policy_name(runs, pid) for pid in policy_ids}
    col_labels = [names[pid] + (f" {SPLIT_LABELS[s]}" if s else "") for pid, s in cols]
    row_labels = [t if split_cols else f"{LIBERO_LABELS.get(s, s)}: {t}" for s, t in tasks]
    return row_labels, col_labels, matrix


# ---- the paper's own numbers -------------------------------------------------------------------
def reference_figures(
    budget_ms: float | None,
    values: Sequence[RefValue] | None = None,
    tasks: Sequence[TaskValue] | None = None,
) -> list[FigureSpec]:
    values = paper_values() if values is None else values
    tasks = per_task_values() if tasks is None else tasks
    specs = []
    fig1 = [v for v in values if v.table == "figure1"]
    keys = list(dict.fromkeys((v.method, v.nfe) for v in fig1))
    bars = []
    for method, nfe in keys:
        cell = {v.column: v.value for v in fig1 if (v.method, v.nfe) == (method, nfe)}
        if "total_ms" in cell:
            bars.append(
                LatencyBar(_label(method, nfe), cell["total_ms"], cell.get("video_ms"), cell.get("action_ms"))
            )
    if bars:
        specs.append(
            FigureSpec(
                "fig1_latency_paper",
                "The paper's Figure 1 numbers: per-chunk latency on one NVIDIA L40S (RoboTwin). "
                "The paper gives no video/action split for Flash-WAM."
                + (f" Dashed line: {budget_label(budget_ms)}, not the paper's." if budget_ms else ""),
                figures.latency_breakdown(
                    bars, budget_ms, "Per-chunk latency (paper, L40S)", _budget(budget_ms)
                ),
            )
        )
    points = _reference_points(values)
    if points:
        teacher_ms = max(p.latency_ms for p in points)
        specs.append(
            FigureSpec(
                "success_latency_paper",
                f"RoboTwin average success (Table 1) vs per-chunk latency: the teacher's {teacher_ms:g} ms "
                f"from Figure 1 divided by each NFE block's printed speedup. {figures.DODGE_NOTE}"
                + (f" Dashed line: {budget_label(budget_ms)}, not the paper's." if budget_ms else ""),
                figures.success_vs_latency(
                    points, budget_ms, "RoboTwin (paper): success vs latency", _budget(budget_ms)
                ),
            )
        )
    cols = list(dict.fromkeys((t.method, t.nfe, t.split) for t in tasks))
    names = list(dict.fromkeys(t.task for t in tasks))
    pct = {(t.task, t.method, t.nfe, t.split): t.success_pct for t in tasks}
    matrix = np.array([[pct.get((n, m, nfe, s), np.nan) for m, nfe, s in cols] for n in names], dtype=float)
    if names:
        specs.append(
            FigureSpec(
                "heatmap_paper",
                "The paper's Table 8: success % per RoboTwin task.",
                figures.heatmap(
                    names,
                    [f"{_label(m, nfe)} {SPLIT_LABELS.get(s, s)}" for m, nfe, s in cols],
                    matrix,
                    "RoboTwin per task (paper, Table 8)",
                ),
            )
        )
    return specs


def _reference_points(values: Sequence[RefValue]) -> list[Point]:
    teacher = next(
        (v for v in values if v.table == "figure1" and v.method == "teacher" and v.column == "total_ms"), None
    )
    if teacher is None:
        return []
    speed = {v.nfe: v.value for v in values if v.table == "table1" and v.column == "speedup"}
    points = []
    for v in values:
        if v.table == "table1" and v.column == "average" and v.nfe in speed:
            points.append(Point(_label(v.method, v.nfe), teacher.value / speed[v.nfe], v.value))
    return points


__all__ = ["FigureSpec", "budget_label", "measured_figures", "reference_figures"]
