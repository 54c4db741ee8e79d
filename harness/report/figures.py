"""Paper figures at single-column width (3.5 in), saved as PNG (300 dpi) and PDF.

Figures are built as matplotlib `Figure` objects, never through pyplot, so no GUI backend or global
figure state is involved (safe in workers and headless CI). The drawing functions take plain values
(bars, points, a matrix) so the same code draws measured runs and the paper's own numbers. Fonts are
sized for print at column width (7 pt body, 6 pt ticks).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib import ticker
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import ScaledTranslation

from harness.report.latency import remainder_ms
from harness.report.results import UNTRAINED_NOTE

COLUMN_WIDTH_IN = 3.5
STYLE: dict[Any, Any] = {  # Any keys: matplotlib types rcParams keys as Literals
    "font.size": 7,
    "axes.titlesize": 7,
    "axes.labelsize": 7,
    "xtick.labelsize": 6,
    "ytick.labelsize": 6,
    "legend.fontsize": 6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,  # TrueType in the PDF: editable, accepted by publishers
}
COLORS = {"video": "#4C72B0", "action": "#DD8452", "other": "#8C8C8C", "total": "#B0B0B0"}
DAGGER_KEY = f"† {UNTRAINED_NOTE}"
DODGE_NOTE = "Points that would cover each other are drawn side by side (a visual offset, not a latency)."
DODGE_PT = 6.0  # horizontal spacing of points drawn side by side, in points (markers are 4 pt)


@dataclass(frozen=True)
class LatencyBar:
    label: str
    total_ms: float
    video_ms: float | None = None
    action_ms: float | None = None

    @property
    def other_ms(self) -> float | None:
        return remainder_ms(self.total_ms, self.video_ms, self.action_ms)


@dataclass(frozen=True)
class Point:
    label: str
    latency_ms: float
    success_pct: float
    lo: float | None = None
    hi: float | None = None


def save(fig: Figure, directory: Path, stem: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{stem}.png", directory / f"{stem}.pdf"]
    with matplotlib.rc_context(STYLE):  # pdf.fonttype is read at save time
        fig.savefig(paths[0], dpi=300, bbox_inches="tight")
        fig.savefig(paths[1], bbox_inches="tight")
    return paths


def _fmt_ms(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


def _keys(labels: Sequence[str], extra: Sequence[str] = ()) -> tuple[list[Artist], list[str]]:
    """Legend rows that explain a mark (no handle): the dagger whenever a label carries one."""
    notes = ([DAGGER_KEY] if any("†" in label for label in labels) else []) + list(extra)
    return [Line2D([], [], linestyle="none") for _ in notes], notes


def _key_below(fig: Figure, legend: Artist, handles: list[Artist], labels: list[str]) -> None:
    """The key, directly under a legend that sits below the axes (its place is known once laid out)."""
    if not labels:
        return
    fig.draw_without_rendering()
    bottom = legend.get_window_extent().y0 / fig.bbox.height
    fig.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, bottom),
        frameon=False,
        handlelength=0,
        handletextpad=0,
    )


def _column(height_in: float) -> tuple[Figure, Axes]:
    """A column-wide figure with one axes; call inside `rc_context(STYLE)`, which artists read."""
    fig = Figure(figsize=(COLUMN_WIDTH_IN, height_in))
    return fig, fig.subplots()


def _budget_line(ax: Axes, budget_ms: float | None, label: str | None) -> None:
    """The real-time budget as a dashed vertical line (nothing without a budget)."""
    if budget_ms is not None:
        ax.axvline(
            budget_ms,
            color="#C44E52",
            linestyle="--",
            linewidth=0.9,
            label=label or f"budget {_fmt_ms(budget_ms)}",
        )


def latency_breakdown(
    bars: Sequence[LatencyBar], budget_ms: float | None, title: str, budget_label: str | None = None
) -> Figure:
    """Figure 1: per-chunk latency per method, stacked video / action / other, with the budget line."""
    with matplotlib.rc_context(STYLE):
        fig, ax = _column(0.9 + 0.25 * len(bars))
        y = np.arange(len(bars))[::-1]
        seen: set[str] = set()

        def bar(yi: float, left: float, width: float, kind: str, hatch: str = "") -> None:
            label = None if kind in seen else {"total": "total (no breakdown)"}.get(kind, kind)
            seen.add(kind)
            ax.barh(
                yi,
                width,
                left=left,
                height=0.6,
                color=COLORS[kind],
                hatch=hatch,
                label=label,
                edgecolor="white",
                linewidth=0.4,
            )

        for yi, b in zip(y, bars, strict=True):
            if b.video_ms is None or b.action_ms is None:
                bar(yi, 0.0, b.total_ms, "total", "//")
            else:
                bar(yi, 0.0, b.video_ms, "video")
                bar(yi, b.video_ms, b.action_ms, "action")
                if b.other_ms:
                    bar(yi, b.video_ms + b.action_ms, b.other_ms, "other")
        top = max([b.total_ms for b in bars] + ([budget_ms] if budget_ms else []), default=1.0)
        for yi, b in zip(y, bars, strict=True):
            x = b.total_ms
            if budget_ms is not None and x < budget_ms and budget_ms - x < 0.06 * top:
                x = budget_ms  # the value would sit on the budget line: start it after the line
            ax.text(x, yi, " " + _fmt_ms(b.total_ms), va="center", ha="left", fontsize=6)
        _budget_line(ax, budget_ms, budget_label)
        ax.set_xlim(0, top * 1.25)
        ax.set_yticks(y, [b.label for b in bars])
        ax.set_xlabel("per-chunk latency (ms)")
        ax.set_title(title)
        fig.tight_layout()
        # Below the figure, added after the layout; savefig(bbox_inches="tight") keeps it in the file.
        handles, labels = ax.get_legend_handles_labels()
        legend = fig.legend(
            handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), frameon=False, ncol=2
        )
        _key_below(fig, legend, *_keys([b.label for b in bars]))
        return fig


def pareto_front(points: Sequence[Point]) -> list[Point]:
    """Points no other point beats on both latency (lower) and success (higher)."""
    front: list[Point] = []
    best = -math.inf
    for p in sorted(points, key=lambda p: (p.latency_ms, -p.success_pct)):
        if p.success_pct > best:
            front.append(p)
            best = p.success_pct
    return front


def _log_x(points: Sequence[Point], budget_ms: float | None) -> bool:
    lats = [p.latency_ms for p in points] + ([budget_ms] if budget_ms else [])
    return bool(lats) and max(lats) / max(min(lats), 1e-9) > 20


def dodge_offsets(points: Sequence[Point], log_x: bool, near: float = 0.03) -> list[float]:
    """Horizontal offsets (points of the page) that put points side by side where they would cover
    each other: closer than `near` of the axis span in both x (log or linear) and y (0-100)."""
    if not points:
        return []
    xs = np.array([math.log10(max(p.latency_ms, 1e-9)) if log_x else p.latency_ms for p in points])
    span = float(xs.max() - xs.min()) or 1.0
    group = list(range(len(points)))

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            close_x = abs(xs[i] - xs[j]) / span < near
            close_y = abs(points[i].success_pct - points[j].success_pct) / 100.0 < near
            if close_x and close_y:
                group[root(j)] = root(i)
    members: dict[int, list[int]] = {}
    for i in range(len(points)):
        members.setdefault(root(i), []).append(i)
    offsets = [0.0] * len(points)
    for idx in members.values():
        for rank, i in enumerate(sorted(idx, key=lambda i: (xs[i], points[i].success_pct))):
            offsets[i] = (rank - (len(idx) - 1) / 2.0) * DODGE_PT
    return offsets


def success_vs_latency(
    points: Sequence[Point], budget_ms: float | None, title: str, budget_label: str | None = None
) -> Figure:
    with matplotlib.rc_context(STYLE):
        fig, ax = _column(2.4 + 0.1 * len(points))
        front = pareto_front(points)
        markers = "osD^v<>phX*"
        log_x = _log_x(points, budget_ms)
        offsets = dodge_offsets(points, log_x)
        for i, p in enumerate(points):
            err = None
            if p.lo is not None and p.hi is not None:
                err = [[p.success_pct - p.lo], [p.hi - p.success_pct]]
            drawn = ax.errorbar(
                p.latency_ms,
                p.success_pct,
                yerr=err,
                fmt=markers[i % len(markers)],
                ms=4,
                capsize=1.5,
                elinewidth=0.6,
                label=p.label,
                zorder=3,
            )
            if offsets[i]:
                shift = ax.transData + ScaledTranslation(offsets[i] / 72.0, 0.0, fig.dpi_scale_trans)
                for artist in drawn.get_children():
                    artist.set_transform(shift)
        if len(front) > 1:
            ax.step(
                [p.latency_ms for p in front],
                [p.success_pct for p in front],
                where="post",
                color="black",
                linewidth=0.7,
                linestyle=":",
                label="Pareto front",
                zorder=2,
            )
        _budget_line(ax, budget_ms, budget_label)
        if log_x:
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_ylim(-3, 103)
        ax.set_xlabel("per-chunk latency (ms)")
        ax.set_ylabel("success (%)")
        ax.set_title(title)
        ax.grid(True, linewidth=0.3, alpha=0.5)
        handles, labels = ax.get_legend_handles_labels()
        dodged = ["side by side: points that would overlap, offset sideways"] if any(offsets) else []
        k_handles, k_labels = _keys([p.label for p in points], dodged)
        legend = ax.legend(
            handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False, ncol=2
        )
        fig.tight_layout()
        _key_below(fig, legend, k_handles, k_labels)
        return fig


def _short(label: str, width: int = 34) -> str:
    """Task names are identifiers (LIBERO's run to 80 characters); a column-width figure needs less."""
    text = label.replace("_", " ")
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def heatmap(rows: Sequence[str], cols: Sequence[str], values: np.ndarray, title: str) -> Figure:
    """Success % per task (rows) and method (columns); blank where nothing ran."""
    with matplotlib.rc_context(STYLE):
        longest = max((len(c) for c in cols), default=0)
        height = min(11.0, 0.9 + 0.14 * max(len(rows), 3) + 0.045 * min(longest, 40))
        fig, ax = _column(height)
        masked = np.ma.masked_invalid(values)
        im = ax.imshow(masked, aspect="auto", cmap="viridis", vmin=0, vmax=100, interpolation="nearest")
        ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=5)
        ax.set_yticks(range(len(rows)), [_short(r) for r in rows], fontsize=5 if len(rows) > 20 else 6)
        small = len(rows) > 20 or len(cols) > 10
        if values.size <= 600:
            for (i, j), v in np.ndenumerate(values):
                if not np.isnan(v):
                    ax.text(
                        j,
                        i,
                        f"{v:.0f}",
                        ha="center",
                        va="center",
                        fontsize=4 if small else 6,
                        color="white" if v < 60 else "black",
                    )
        ax.spines[:].set_visible(False)
        if any("†" in c for c in cols):
            ax.set_xlabel(DAGGER_KEY, fontsize=5)
        cbar = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
        cbar.set_label("success (%)", fontsize=6)
        cbar.ax.tick_params(labelsize=5)
        ax.set_title(title)
        fig.tight_layout()
        return fig


__all__ = [
    "COLUMN_WIDTH_IN",
    "DAGGER_KEY",
    "DODGE_NOTE",
    "LatencyBar",
    "Point",
    "dodge_offsets",
    "heatmap",
    "latency_breakdown",
    "pareto_front",
    "save",
    "success_vs_latency",
]
