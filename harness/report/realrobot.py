"""Table 3 (real robot) from a CSV the user supplies: real-robot trials never pass through the store.

CSV columns: method, nfe_video, nfe_action, task, successes, trials (one row per method, NFE and task).
Method names are the paper's (teacher, teacher-reduced-nfe, video-only-lcm, flash-wam, ...); the printed
table it is compared with is the paper definition's `real_robot` (tables.yaml).
"""

from __future__ import annotations

import csv
from pathlib import Path

from harness.errors import UserError
from harness.report.paperdef import Paper, default_paper
from harness.report.printed import AVERAGE, nfe_label
from harness.report.rows import WILSON_NOTE
from harness.report.table import Cell, Table, diff_cell, printed_cell, success_cell

COLUMNS = ("method", "nfe_video", "nfe_action", "task", "successes", "trials")

Row = tuple[str, tuple[int | None, int | None]]


def _int(text: str, where: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text)
    except ValueError:
        raise UserError(f"{where}: '{text}' is not an integer") from None


def read_real_robot(path: Path) -> dict[Row, dict[str, tuple[int, int]]]:
    """(method, nfe) -> task -> (successes, trials), validated."""
    if not path.is_file():
        raise UserError(f"real-robot CSV '{path}' does not exist")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(
                f"real-robot CSV '{path}' lacks columns {', '.join(missing)} (needs {', '.join(COLUMNS)})"
            )
        out: dict[Row, dict[str, tuple[int, int]]] = {}
        for i, r in enumerate(reader, start=2):
            where = f"{path}:{i}"
            k, n = _int(r["successes"], where), _int(r["trials"], where)
            if k is None or n is None or not 0 <= k <= n:
                raise UserError(f"{where}: need 0 <= successes <= trials, got {r['successes']}/{r['trials']}")
            key = (r["method"].strip(), (_int(r["nfe_video"], where), _int(r["nfe_action"], where)))
            out.setdefault(key, {})[r["task"].strip()] = (k, n)
    if not out:
        raise UserError(f"real-robot CSV '{path}' has no rows")
    return out


def table3(path: Path, vs_paper: bool, paper: Paper | None = None) -> Table:
    paper = paper or default_paper()
    spec = paper.tables.real_robot
    if spec is None:
        raise UserError(f"paper '{paper.name}' has no real-robot table: --real-robot has nothing to fill")
    data = read_real_robot(path)
    tasks = list(dict.fromkeys(t for cells in data.values() for t in cells))
    header = ["Method", "NFE"]
    for col in [*tasks, "Average"]:
        header += [col, f"{col} paper", f"{col} Δ"] if vs_paper else [col]
    table = Table(spec.name, spec.title, header, notes=[WILSON_NOTE, f"Source: {path}."])
    order = sorted(data, key=lambda r: (-((r[1][0] or 0) + (r[1][1] or 0)), paper.method_rank(r[0]), r[0]))
    for method, nfe in order:
        cells = data[(method, nfe)]
        name = paper.paper_method(method, nfe)
        row = [Cell.label(paper.method_label(name)), Cell.label(nfe_label(*nfe))]
        for col in [*tasks, "Average"]:
            if col == "Average":
                k = sum(c[0] for c in cells.values())
                n = sum(c[1] for c in cells.values())
            else:
                k, n = cells.get(col, (0, 0))
            cell = success_cell(k, n)
            row.append(cell)
            if vs_paper:
                ref = paper.lookup(spec.name, name, nfe, AVERAGE if col == "Average" else col)
                measured = cell.data.get("")
                row += [
                    printed_cell(ref.text if ref else None),
                    diff_cell(measured if isinstance(measured, float) else None, ref.value if ref else None),
                ]
        table.add(row)
    return table


__all__ = ["COLUMNS", "read_real_robot", "table3"]
