"""reports/NAME/index.md: one page that links every table and figure and says where the numbers came
from (which runs, config hash, manifest, versions, device), so a reader can trust or reproduce them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.protocols import describe
from harness.records import PRIVILEGED_NOTE
from harness.report.measured import counts, order_key
from harness.report.reference import nfe_label
from harness.report.results import UNTRAINED_NOTE, PolicyInfo, RunSet
from harness.report.table import Table
from harness.stats import wilson_interval


@dataclass(frozen=True)
class Entry:
    """A written artifact: its title, main file, and the other formats beside it."""

    title: str
    path: Path
    others: dict[str, Path]
    note: str = ""


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _when(ts: float | None) -> str:
    if not ts:
        return "–"
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _esc(text: object) -> str:
    return str(text if text not in (None, "") else "–").replace("|", "\\|")


def _table(cols: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A Markdown table: the header, its rule, and one line a row (cells escaped, empty ones "–")."""
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    return lines + ["| " + " | ".join(_esc(x) for x in row) + " |" for row in rows]


def provenance_lines(runs: RunSet) -> list[str]:
    cols = [
        "OUT",
        "run",
        "kind",
        "config",
        "config hash",
        "manifest hash",
        "wambench",
        "git",
        "device",
        "host",
        "started",
        "status",
    ]
    rows = [
        (
            out,
            r.run_id,
            r.kind,
            r.config_name,
            r.config_hash,
            r.manifest_hash,
            r.provenance.wambench_version,
            (r.provenance.git_revision or "")[:12],
            r.provenance.device,
            r.provenance.host,
            _when(r.started_at),
            r.status,
        )
        for out, r in runs.runs
    ]
    lines = _table(cols, rows or [("",) * len(cols)])
    packages: dict[str, str] = {}
    for _, r in runs.runs:
        packages.update(r.provenance.packages)
    lines.append("")
    if packages:
        lines.append("Packages: " + ", ".join(f"{k} {v}" for k, v in sorted(packages.items())) + ".")
    pythons = sorted({str(r.provenance.python) for _, r in runs.runs if r.provenance.python})
    if pythons:
        lines.append(f"Python: {', '.join(pythons)}.")
    devices = runs.devices()
    lines.append(f"Chunk timings taken on: {', '.join(devices) if devices else 'none stored'}.")
    lines.append(f"Manifest hash of the episodes in this report: {runs.manifest_hash or '–'}.")
    return lines + protocol_lines(runs)


def protocol_lines(runs: RunSet) -> list[str]:
    """The evaluation protocol each suite ran under: the same checkpoint scores differently under
    another, so a reader must see it beside the numbers."""
    if not runs.protocols:
        return ["", "Evaluation protocol: none recorded (suites without named protocols)."]
    cols = ["OUT", "suite", "protocol", "version", "values in effect", "overrides", "source"]
    rows = []
    for out, rec in runs.protocols:
        values = describe(rec.values)
        changed = ", ".join(f"{k}={o['used']} (profile {o['profile']})" for k, o in rec.overrides.items())
        rows.append((out, rec.suite, rec.protocol, f"v{rec.version}", values, changed, rec.source))
    lines = ["", "Evaluation protocols:", "", *_table(cols, rows)]
    notes = sorted({f"{rec.protocol}: {n}" for _, rec in runs.protocols for n in rec.notes})
    if notes:
        lines += ["", *[f"- {n}" for n in notes]]
    return lines


def _nfe_cell(runs: RunSet, p: PolicyInfo) -> str:
    """The policy's NFE; per suite where it resolved to different NFE on the suites it ran."""
    labels = {suite: nfe_label(*info.nfe) for suite, info in runs.suite_specs_of(p.id).items()}
    if len(set(labels.values())) > 1:
        return "; ".join(f"{suite}: {label}" for suite, label in labels.items())
    return next(iter(labels.values()), nfe_label(*p.nfe))


def policy_lines(runs: RunSet) -> list[str]:
    cols = [
        "Policy",
        "Method",
        "NFE",
        "Backend",
        "Checkpoint",
        "Trained",
        "Episodes",
        "Success % [Wilson 95%]",
        "Errors",
    ]
    rows = []
    for p in sorted(runs.policies.values(), key=order_key):
        eps = runs.episodes_of(p.id)
        k, n, err = counts(eps)
        if n:
            lo, hi = wilson_interval(k, n)
            rate = f"{100 * k / n:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"
        else:
            rate = "–"
        trained = f"no † ({UNTRAINED_NOTE})" if p.untrained else "yes"
        trained += " ‡ privileged" if p.privileged else ""
        rows.append(
            (p.id, p.method, _nfe_cell(runs, p), p.backend, p.checkpoint, trained, len(eps), rate, err)
        )
    return _table(cols, rows)


def _links(entries: Sequence[Entry], root: Path, image: bool) -> list[str]:
    lines = []
    for e in entries:
        others = ", ".join(f"[{k}]({_rel(p, root)})" for k, p in e.others.items())
        suffix = f" ({others})" if others else ""
        if image:
            lines += [f"**{e.title}**{suffix}", "", f"![{e.title}]({_rel(e.path, root)})", ""]
            if e.note:
                lines += [e.note, ""]
        else:
            note = f" — {e.note}" if e.note else ""
            lines.append(f"- [{e.title}]({_rel(e.path, root)}){suffix}{note}")
    return lines


def table_entry(table: Table, paths: dict[str, Path]) -> Entry:
    note = f"no data: {table.empty_reason}" if table.is_empty else ""
    return Entry(table.title, paths["md"], {"LaTeX": paths["tex"], "CSV": paths["csv"]}, note)


def write_index(
    root: Path,
    title: str,
    intro: Sequence[str],
    tables: Sequence[Entry],
    figures: Sequence[Entry],
    runs: RunSet | None = None,
    extra_sections: Sequence[tuple[str, Sequence[str]]] = (),
) -> Path:
    from harness import __version__

    lines = [f"# {title}", ""]
    lines.append(
        f"Generated {_when(dt.datetime.now(dt.timezone.utc).timestamp())} by wambench {__version__}."
    )
    lines.append("")
    lines += list(intro)
    if runs is not None and runs.untrained():
        names = ", ".join(p.id for p in runs.untrained())
        lines += [
            "",
            f"> **† {UNTRAINED_NOTE}** — {names}. These rows check the pipeline, not the methods.",
            "",
        ]
    privileged = sorted(p.id for p in runs.policies.values() if p.privileged) if runs is not None else []
    if privileged:
        lines += ["", f"> **‡ {PRIVILEGED_NOTE}** — {', '.join(privileged)}.", ""]
    if runs is not None and runs.unfaithful:
        lines += ["", "> **Not protocol-faithful** (not comparable with published numbers):"]
        lines += [f"> - {task}: {why}" for task, why in sorted(runs.unfaithful.items())]
        lines.append("")
    for heading, body in extra_sections:
        lines += ["", f"## {heading}", "", *body]
    lines += ["", "## Tables", "", *_links(tables, root, image=False)]
    lines += ["", "## Figures", "", *_links(figures, root, image=True)]
    if runs is not None:
        lines += ["", "## Policies", "", *policy_lines(runs)]
        lines += ["", "## Provenance", "", *provenance_lines(runs)]
    path = root / "index.md"
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path


__all__ = ["Entry", "policy_lines", "protocol_lines", "provenance_lines", "table_entry", "write_index"]
