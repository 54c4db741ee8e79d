"""Write a whole report directory: tables/, figures/, index.md (and the review in reviewer mode)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.latency.reference import DEFAULT_BUDGET_MS
from harness.report.consistency import check_consistency
from harness.report.figures import save
from harness.report.index import Entry, table_entry, write_index
from harness.report.measured import measured_tables
from harness.report.paper import reference_tables
from harness.report.paperdef import Paper, default_paper
from harness.report.plots import FigureSpec, measured_figures, reference_figures
from harness.report.providers import provided_figures
from harness.report.realrobot import table3
from harness.report.realtime import SWEEP_CAPTION, load_rows, realtime_table, success_delay_figure
from harness.report.render import write_table
from harness.report.results import load_runs
from harness.report.review import findings, write_review
from harness.report.table import Table


def _write_tables(tables: Sequence[Table], directory: Path) -> list[Entry]:
    return [table_entry(t, write_table(t, directory)) for t in tables]


def _write_figures(specs: Sequence[FigureSpec], directory: Path) -> list[Entry]:
    entries = []
    for spec in specs:
        png, pdf = save(spec.figure, directory, spec.stem)
        entries.append(Entry(spec.stem, png, {"PDF": pdf}, spec.caption))
    return entries


def build_report(
    outs: Sequence[str | Path],
    out_dir: Path,
    *,
    vs_paper: bool = False,
    budget_ms: float | None = DEFAULT_BUDGET_MS,
    real_robot: Path | None = None,
    paper: Paper | None = None,
) -> Path:
    """Tables and figures of stored runs in the paper's layouts (default: the default paper); returns
    the index page. Reads the stores only."""
    runs = load_runs(outs)  # validates every OUT before anything is written
    tables = measured_tables(runs, vs_paper, paper)
    if real_robot is not None:
        tables.insert(2, table3(real_robot, vs_paper, paper))
    rt_rows = load_rows(runs.outs)
    if any(r.has_timing for r in rt_rows):  # real-time table and sweep figure: only for runs that timed
        tables.append(realtime_table(rt_rows))
    out_dir.mkdir(parents=True, exist_ok=True)
    table_entries = _write_tables(tables, out_dir / "tables")
    specs, figure_notes = measured_figures(runs, budget_ms)
    sweep = success_delay_figure(rt_rows)
    if sweep is not None:
        specs.append(FigureSpec("success_delay", SWEEP_CAPTION, sweep))
    figure_entries = _write_figures([*specs, *provided_figures()], out_dir / "figures")
    n_eps = len(runs.episodes)
    intro = [
        f"Runs: {', '.join(f'`{o}`' for o in runs.outs)}; {n_eps} stored episodes of "
        f"{len(runs.policies)} policies on {', '.join(runs.suites()) or 'no suite'}.",
    ]
    if n_eps == 0:
        intro.append("")
        intro.append("**No episodes are stored in these runs yet: every table below says so.**")
    if vs_paper:
        intro += ["", "Measured cells sit beside the paper's printed numbers (columns `paper` and `Δ`)."]
    if real_robot is None:
        intro += ["", "Table 3 (real robot) is not in the store: pass `--real-robot CSV` to include it."]
    if figure_notes:
        intro += ["", *[f"- {n}" for n in figure_notes]]
    return write_index(
        out_dir, f"wambench report: {out_dir.name}", intro, table_entries, figure_entries, runs=runs
    )


def build_reference_report(
    out_dir: Path, *, budget_ms: float | None = DEFAULT_BUDGET_MS, paper: Paper | None = None
) -> Path:
    """Reviewer mode: the paper's tables from the reference data alone, plus the consistency check."""
    paper = paper or default_paper()
    out_dir.mkdir(parents=True, exist_ok=True)
    table_entries = _write_tables(reference_tables(paper=paper), out_dir / "tables")
    report = check_consistency(paper=paper)
    review = write_review(report, out_dir / "review")
    review_entry = Entry(
        "Consistency check: does the paper agree with itself?",
        review["consistency.md"],
        {"CSV": review["consistency_checks.csv"], "LaTeX": review["consistency_disagreements.tex"]},
        f"{len(report.checks)} checks, {len(report.disagreements)} disagreements",
    )
    figures = reference_figures(budget_ms, paper.values, paper.tasks)
    figure_entries = _write_figures([*figures, *provided_figures()], out_dir / "figures")
    summary = [f"- {f}" for f in findings(report)]
    return write_index(
        out_dir,
        paper.spec.reviewer.title,
        [paper.spec.reviewer.intro],
        [review_entry, *table_entries],
        figure_entries,
        extra_sections=[("Consistency findings", summary)],
    )


__all__ = ["build_reference_report", "build_report"]
