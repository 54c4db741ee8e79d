"""The consistency check as a reviewer reads it: findings in sentences, then the tables behind them.

Every sentence is generated from the check results; none is written in advance. What the sentences
call the tables (Table 8, Tables 4/7) and the summary's titles are the paper definition's words
(consistency.yaml).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from harness.report.consistency import Check, ConsistencyReport, per_task_kinds
from harness.report.render import to_markdown, write_table
from harness.report.table import Cell, Table


def _check_rows(checks: list[Check]) -> list[list[Cell]]:
    return [
        [
            Cell.label(c.kind),
            Cell.label(c.where),
            Cell(c.shown, data={"": c.printed}),
            Cell.number(c.recomputed, 3),
            Cell.number(c.diff, 3),
            Cell.number(c.tolerance, 3),
            Cell.label("yes" if c.agrees else "NO"),
            Cell.label(c.detail or "–"),
        ]
        for c in checks
    ]


HEADER = ["Check", "Where", "Printed", "Recomputed", "Printed − recomputed", "Tolerance", "Agrees", "Detail"]


def check_tables(report: ConsistencyReport) -> list[Table]:
    summary = Table(
        "consistency_summary",
        "Consistency check: summary",
        ["Check", "What is compared", "Checks", "Disagreements"],
        notes=[
            "Tolerance: half a unit of each printed last digit, plus the rounding carried by rounded inputs."
        ],
    )
    total = Counter(c.kind for c in report.checks)
    bad = Counter(c.kind for c in report.disagreements)
    titles = {**report.paper.consistency.titles}
    titles.update({k: k for k in total if k not in titles})  # a kind the paper gives no title
    for kind, title in titles.items():
        if total[kind]:
            summary.add([Cell.label(kind), Cell.label(title), Cell(str(total[kind])), Cell(str(bad[kind]))])
    disagreements = Table("consistency_disagreements", "Consistency check: every disagreement", list(HEADER))
    for row in _check_rows(report.disagreements):
        disagreements.add(row)
    disagreements.empty_reason = "every recomputed number agrees with the printed one"
    everything = Table("consistency_checks", "Consistency check: every check", list(HEADER))
    for row in _check_rows(report.checks):
        everything.add(row)
    fitted = Table(
        "consistency_fitted",
        "Consistency check: horizon checks under the fitted grouping",
        list(HEADER),
        notes=[
            "The grouping found by the search (see the findings); a hypothesis, not the printed grouping."
        ],
    )
    for row in _check_rows(report.fitted_checks):
        fitted.add(row)
    fitted.empty_reason = "no regrouping improved the agreement, so there is no fitted grouping"
    return [summary, disagreements, everything, fitted]


def _weights_by_row(report: ConsistencyReport) -> dict[str, dict[str, bool]]:
    """Row of Table 4/7 -> grouping label -> does its 50-task cell agree under that grouping."""
    rows: dict[str, dict[str, bool]] = defaultdict(dict)
    for c in report.of_kind("horizon-weights") + [
        c for c in report.fitted_checks if c.kind == "horizon-weights"
    ]:
        grouping = c.detail.split(" grouping")[0]
        rows[c.where][grouping] = c.agrees
    return rows


def _agreeing(checks: list[Check]) -> str:
    """'K of N': how many of these recomputed numbers agree with the printed ones."""
    return f"{sum(c.agrees for c in checks)} of {len(checks)}"


def findings(report: ConsistencyReport) -> list[str]:
    """Sentences, one per finding, computed from the checks."""
    out: list[str] = []
    words = report.paper.consistency.words
    per_task, horizon_tables = words.per_task, words.horizon_tables
    mean_kind, horizon_kind = per_task_kinds(report.paper)
    n, bad = len(report.checks), len(report.disagreements)
    out.append(f"{n} numbers recomputed from other printed numbers; {bad} disagree beyond rounding.")
    means = report.of_kind(mean_kind)
    if means:
        wrong = [c for c in means if not c.agrees]
        out.append(
            f"{per_task}'s column means reproduce {_agreeing(means)} printed {words.averages}"
            + (
                ": "
                + "; ".join(
                    f"{c.where} ({c.shown} printed, {c.recomputed:.2f} from {per_task})" for c in wrong
                )
                if wrong
                else "."
            )
        )
    horizon = report.of_kind(horizon_kind)
    if horizon:
        out.append(
            f"Horizon groups as {per_task} labels them reproduce {_agreeing(horizon)} horizon cells of "
            f"{horizon_tables}."
        )
    for m in report.regroupings:
        out.append(
            f"Counting {m.task} ('{m.display_name}') as horizon {m.fitted_horizon} instead of the printed "
            f"{m.printed_horizon} cuts the disagreeing horizon cells from {m.disagreeing_before} to "
            f"{m.disagreeing_after}: the printed {horizon_tables} fit that grouping."
        )
    left = [c for c in report.fitted_checks if c.kind == horizon_kind and not c.agrees]
    if report.regroupings and left:
        out.append(
            "Still disagreeing after regrouping: "
            + "; ".join(f"{c.where}: printed {c.shown}, {per_task} gives {c.recomputed:.2f}" for c in left)
            + "."
        )
    rows = _weights_by_row(report)
    if rows:
        labels = sorted({g for r in rows.values() for g in r})
        by_fit: dict[str, list[str]] = defaultdict(list)
        for where, res in sorted(rows.items()):
            fits = [g for g in labels if res.get(g)]
            by_fit[" and ".join(fits) if fits else "none"].append(where)
        for fit, places in sorted(by_fit.items()):
            if fit == "none":
                out.append(
                    "Rows whose 50-task cell is not the task-weighted mean of their horizon cells under any "
                    "grouping tried: " + "; ".join(places) + "."
                )
            elif len(labels) > 1 and fit != " and ".join(labels):
                out.append(
                    f"{len(places)} rows consistent only with the {fit} grouping: " + "; ".join(places) + "."
                )
    for c in report.of_kind("cross-table"):
        if not c.agrees:
            out.append(f"{c.where}: {c.shown} vs {c.recomputed:g} ({c.detail}).")
    for kind in ("row-average", "latency"):
        for c in report.of_kind(kind):
            if not c.agrees:
                out.append(f"{c.where}: printed {c.shown}, recomputed {c.recomputed:.2f} ({c.detail}).")
    out += granularity_findings(report)
    return out


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def granularity_findings(report: ConsistencyReport) -> list[str]:
    """Means whole trials cannot produce, and where another table's own cells point to the value
    that was meant (then the other table's printed number is the typo)."""
    bad = [c for c in report.of_kind("granularity") if not c.agrees]
    if not bad:
        return []
    by_reason: dict[str, list[str]] = defaultdict(list)
    for c in bad:
        _, nearest, reason = [*c.detail.split("; "), ""][:3]
        by_reason[reason].append(f"{c.where}: {c.shown} ({nearest})")
    out = [
        f"{len(cells)} printed means are not a mean of whole trials ({reason or 'impossible'}): "
        + "; ".join(cells)
        + "."
        for reason, cells in by_reason.items()
    ]
    weights = [c for c in [*report.checks, *report.fitted_checks] if c.kind == "horizon-weights"]
    for g in bad:
        table, cell = g.where.split(", ", 1)
        for h in weights:
            other, other_cell = h.where.split(", ", 1)
            meant = round(h.recomputed, _decimals(g.printed_text))
            hit = [x for x in g.candidates if abs(x - meant) < 1e-9]
            if other == table or other_cell != cell or not hit:
                continue
            grouping = h.detail.split(" grouping")[0]
            line = (
                f"{g.where}: {g.shown} is not possible, {hit[0]:g} is, and {other}'s horizon cells give "
                f"{h.recomputed:.2f} ({grouping} grouping)"
            )
            if not h.agrees:
                line += f": {other}'s printed {h.shown} is then the typo"
            out.append(line + ".")
            break
    return out


def write_review(report: ConsistencyReport, directory: Path) -> dict[str, Path]:
    """consistency.md (findings + tables) and each table as md/tex/csv; returns name -> path."""
    tables = check_tables(report)
    paths: dict[str, Path] = {}
    for t in tables:
        for ext, path in write_table(t, directory).items():
            paths[f"{t.name}.{ext}"] = path
    lines = ["# Does the paper agree with itself?", ""]
    lines += [
        "Every number below was recomputed from other numbers the paper prints "
        f"({report.paper.consistency.words.sources}); nothing was compared against a list of known problems.",
        "",
        "## Findings",
        "",
    ]
    lines += [f"- {f}" for f in findings(report)]
    lines.append("")
    lines.append(to_markdown(tables[0], heading_level=2))
    lines.append(to_markdown(tables[1], heading_level=2))
    lines.append(
        "The full list of checks, agreeing ones included: [consistency_checks.csv](consistency_checks.csv)."
    )
    path = directory / "consistency.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths["consistency.md"] = path
    return paths


__all__ = ["check_tables", "findings", "granularity_findings", "write_review"]
