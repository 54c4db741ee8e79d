"""What every measured table's rows share: policy order and labels, episode counts, the paper's cell
beside a measured one, the common notes, and the table with one row per policy."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from harness.records import PRIVILEGED_NOTE, OutcomeCounts
from harness.report.latency import LatencySet, speedup
from harness.report.paperdef import Paper, default_paper
from harness.report.printed import RefValue, nfe_label
from harness.report.results import UNTRAINED_NOTE, Episode, PolicyInfo, RunSet
from harness.report.table import Cell, Table, diff_cell, printed_cell, success_cell

WILSON_NOTE = "Cells: success % of finished episodes, Wilson 95% interval and n; errors are not failures."
PaperLookup = Callable[[PolicyInfo], tuple[RefValue | None, float | None]]


@dataclass(frozen=True)
class Column:
    """One measured column: a header, the episodes it covers, and where the paper's number is."""

    header: str
    select: Callable[[Episode], bool]
    paper: PaperLookup | None = None


def order_key_for(paper: Paper) -> Callable[[PolicyInfo], tuple[int, int, str]]:
    """Paper order: highest NFE first (the teacher), then each NFE block in the paper's method order."""
    return lambda p: (-((p.nfe_video or 0) + (p.nfe_action or 0)), paper.method_rank(p.method), p.id)


def order_key(p: PolicyInfo) -> tuple[int, int, str]:
    """order_key_for the default paper."""
    return order_key_for(default_paper())(p)


def policy_label(p: PolicyInfo, paper: Paper | None = None) -> str:
    """The method's row name for p's network (never the paper's network name for another backend),
    † if untrained."""
    paper = paper or default_paper()
    return paper.method_label(paper.paper_method(p.method, p.nfe), p.backend) + p.marks


def counts(episodes: Iterable[Episode]) -> tuple[int, int, int]:
    """(successes, judged episodes, errors), as harness.records.OutcomeCounts counts them."""
    c = OutcomeCounts.of(e.outcome for e in episodes)
    return c.success, c.judged, c.error


def paper_row_method(p: PolicyInfo, paper: Paper | None = None) -> str:
    """The one printed method every paper cell of p's row comes from: its own name wherever the paper
    prints a row for it at p's NFE (in any table), else the row its text names as the same variant
    (paper.yaml's `aliases`), so a row never mixes the Clean of one method and the Average of another."""
    paper = paper or default_paper()
    own = paper.paper_method(p.method, p.nfe)
    alias = paper.spec.aliases.get(p.method)
    printed = paper.printed_methods(p.nfe)
    return alias if own not in printed and alias in printed else own


def paper_lookup(
    tables: Sequence[str], column: str, horizon: str = "all", paper: Paper | None = None
) -> PaperLookup:
    paper = paper or default_paper()

    def find(p: PolicyInfo) -> tuple[RefValue | None, float | None]:
        method = paper_row_method(p, paper)
        for t in tables:
            v = paper.lookup(t, method, p.nfe, column, horizon)
            if v is not None:
                return v, v.value
        return None, None

    return find


def common_notes(pols: Sequence[PolicyInfo], vs_paper: bool, paper: Paper) -> list[str]:
    notes = [WILSON_NOTE]
    if any(p.untrained for p in pols):
        notes.append(f"† {UNTRAINED_NOTE}.")
    if any(p.privileged for p in pols):
        notes.append(f"‡ {PRIVILEGED_NOTE}.")
    if vs_paper and paper.tables.vs_paper_note:
        notes.append(paper.tables.vs_paper_note)
    return notes


def untrained_diff(p: PolicyInfo, measured: object, paper: float | None) -> Cell:
    """Measured − paper; an untrained model's difference from a trained paper number means nothing,
    so its cell says † (the paper's number still stands beside it)."""
    if p.untrained and paper is not None:
        return Cell("†", data={"": None})
    return diff_cell(measured if isinstance(measured, float) else None, paper)


def policy_table(
    name: str,
    title: str,
    runs: RunSet,
    suites: Sequence[str],
    columns: Sequence[Column],
    vs_paper: bool,
    lat: LatencySet | None = None,
    only: Callable[[PolicyInfo], bool] = lambda p: True,
    paper: Paper | None = None,
) -> Table:
    """Rows = policies that ran on `suites`; one success cell per column, then latency and speedup."""
    paper = paper or default_paper()
    pols = sorted((p for p in runs.policies_in(suites) if only(p)), key=order_key_for(paper))
    header = ["Policy", "Method", "NFE"]
    for c in columns:
        header += [c.header, f"{c.header} paper", f"{c.header} Δ"] if vs_paper and c.paper else [c.header]
    if lat is not None:
        header += ["Latency (ms)", "Speedup"]
    table = Table(name, title, header, notes=common_notes(pols, vs_paper, paper))
    if not pols:
        table.empty_reason = f"no episodes of {', '.join(suites)} in these runs"
        return table
    for p in pols:
        eps = runs.episodes_of(p.id, suites)
        row = [Cell.label(p.id), Cell.label(policy_label(p, paper)), Cell.label(nfe_label(*p.nfe))]
        for c in columns:
            k, n, err = counts(e for e in eps if c.select(e))
            cell = success_cell(k, n, err)
            row.append(cell)
            if vs_paper and c.paper:
                ref, value = c.paper(p)
                measured = cell.data.get("")
                row += [printed_cell(ref.text if ref else None), untrained_diff(p, measured, value)]
        if lat is not None:
            mine = lat.get(p.id)
            row.append(Cell.number(mine.total_ms if mine else None, 1))
            row.append(Cell.number(speedup(p, pols, lat), 1, "×"))
        table.add(row)
    if lat is not None:
        table.notes.append(_latency_note(lat))
    return table


def _latency_note(lat: LatencySet) -> str:
    if lat.device is None:
        return "Latency and speedup: no warm chunk timings stored for these suites (–)."
    note = (
        f"Latency: mean per-chunk total over warm {lat.source} chunks on {lat.device}; speedup = the "
        "full-NFE teacher's latency (same backend where one ran) / this row's, same device; – where "
        "no teacher was timed."
    )
    if lat.other_devices:
        note += f" Chunks on {', '.join(lat.other_devices)} are left out (one device per table)."
    return note


__all__ = [
    "WILSON_NOTE",
    "Column",
    "PaperLookup",
    "common_notes",
    "counts",
    "order_key",
    "order_key_for",
    "paper_lookup",
    "paper_row_method",
    "policy_label",
    "policy_table",
    "untrained_diff",
]
