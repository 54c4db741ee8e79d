"""One recomputed number beside the printed one: the unit every consistency check produces."""

from __future__ import annotations

from dataclasses import dataclass

from harness.report.printed import RefValue, nfe_label

EPS = 1e-9


def half_unit(decimals: int) -> float:
    """Half a unit in the last printed digit: how far a printed number may be from its true value."""
    return 0.5 * 10.0 ** (-decimals)


@dataclass(frozen=True)
class Check:
    kind: str
    where: str
    printed: float
    recomputed: float
    tolerance: float
    detail: str = ""
    printed_text: str = ""  # the printed number as the paper prints it (58.40, 8100)
    candidates: tuple[float, ...] = ()  # granularity: the possible values either side of the printed one

    @property
    def diff(self) -> float:
        return self.printed - self.recomputed

    @property
    def agrees(self) -> bool:
        return abs(self.diff) <= self.tolerance + EPS

    @property
    def shown(self) -> str:
        return self.printed_text or f"{self.printed:g}"


def tname(table: str) -> str:
    return table.replace("table", "Table ").replace("figure", "Figure ")


def where(v: RefValue) -> str:
    """Where a printed number is: table, method, NFE, column and horizon, in words."""
    h = "" if v.horizon == "all" else f", horizon {v.horizon}"
    return f"{tname(v.table)}, {v.method} {nfe_label(*v.nfe)}, {v.column}{h}"


__all__ = ["EPS", "Check", "half_unit", "tname", "where"]
