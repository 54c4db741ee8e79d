"""A paper's printed numbers as records, read from the CSVs of its definition (harness/papers/NAME).

Values are the strings the paper prints (58.40, 72.9, 50), trailing zeros included, because the
printed decimals are both how a report shows the number and how close a recomputed value must be to
count as agreeing (see consistency.py).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from harness.errors import UserError

VALUE_COLUMNS = [
    "table",
    "method",
    "nfe_video",
    "nfe_action",
    "benchmark",
    "column",
    "horizon",
    "value",
    "unit",
]
TASK_COLUMNS = [
    "task",
    "display_name",
    "horizon",
    "method",
    "nfe_video",
    "nfe_action",
    "split",
    "success_pct",
]
# Units of the values CSV with a meaning to the report: success % (means of trials), speedup factor.
SUCCESS_PCT = "success_pct"
SPEEDUP = "x"
AVERAGE = "average"  # the column of a row's average over its other columns


@dataclass(frozen=True)
class RefValue:
    """One printed number of the paper (a row of its values CSV)."""

    table: str
    method: str
    nfe_video: int | None
    nfe_action: int | None
    benchmark: str
    column: str
    horizon: str  # "1" | "2" | "3" | "all"
    text: str  # as printed (trailing zeros kept); decides the printed precision
    unit: str

    @property
    def value(self) -> float:
        return float(self.text)

    @property
    def decimals(self) -> int:
        return len(self.text.split(".")[1]) if "." in self.text else 0

    @property
    def nfe(self) -> tuple[int | None, int | None]:
        return self.nfe_video, self.nfe_action


@dataclass(frozen=True)
class TaskValue:
    """One cell of the per-task table (its CSV)."""

    task: str
    display_name: str
    horizon: int
    method: str
    nfe_video: int
    nfe_action: int
    split: str
    success_pct: float

    @property
    def nfe(self) -> tuple[int, int]:
        return self.nfe_video, self.nfe_action


def _rows(text: str, where: str, columns: list[str]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise UserError(f"{where} lacks columns {', '.join(missing)} (needs {', '.join(columns)})")
    return list(reader)


def _opt_int(text: str) -> int | None:
    return int(text) if text.strip() else None


def read_values(text: str, where: str) -> tuple[RefValue, ...]:
    try:
        out = tuple(
            RefValue(
                table=r["table"],
                method=r["method"],
                nfe_video=_opt_int(r["nfe_video"]),
                nfe_action=_opt_int(r["nfe_action"]),
                benchmark=r["benchmark"],
                column=r["column"],
                horizon=r["horizon"],
                text=r["value"],
                unit=r["unit"],
            )
            for r in _rows(text, where, VALUE_COLUMNS)
        )
        for v in out:
            float(v.text)  # a printed value must be a number
    except ValueError as e:
        raise UserError(f"{where}: {e}") from None
    return out


def read_tasks(text: str, where: str) -> tuple[TaskValue, ...]:
    try:
        return tuple(
            TaskValue(
                task=r["task"],
                display_name=r["display_name"],
                horizon=int(r["horizon"]),
                method=r["method"],
                nfe_video=int(r["nfe_video"]),
                nfe_action=int(r["nfe_action"]),
                split=r["split"],
                success_pct=float(r["success_pct"]),
            )
            for r in _rows(text, where, TASK_COLUMNS)
        )
    except ValueError as e:
        raise UserError(f"{where}: {e}") from None


def nfe_label(nfe_video: int | None, nfe_action: int | None) -> str:
    if nfe_video is None and nfe_action is None:
        return "–"
    return f"{nfe_video if nfe_video is not None else '?'}v/{nfe_action if nfe_action is not None else '?'}a"


__all__ = [
    "AVERAGE",
    "SPEEDUP",
    "SUCCESS_PCT",
    "TASK_COLUMNS",
    "VALUE_COLUMNS",
    "RefValue",
    "TaskValue",
    "nfe_label",
    "read_tasks",
    "read_values",
]
