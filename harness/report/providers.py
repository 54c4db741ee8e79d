"""Figures a plugin adds to every report, through the `wambench.figures` entry points.

A report reads stores and the paper's data; a figure of something else (the paper's Figure 2 plots
the samplers' maths: policies/wam/figures.py) comes from the package that owns it. Each entry point
names a callable taking no arguments and returning a `FigureSpec` or a sequence of them; providers
run in name order, and their figures follow the report's own. Nothing is imported until a report is
built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.errors import UserError
from harness.registry import Registry
from harness.report.plots import FigureSpec

GROUP = "wambench.figures"
figures: Registry[Any] = Registry("figure", GROUP, check=callable)


def provided_figures() -> list[FigureSpec]:
    """Every registered provider's figures, in provider-name order."""
    out: list[FigureSpec] = []
    for name in figures.names():
        made = figures.get(name)()
        specs = [made] if isinstance(made, FigureSpec) else made
        if not isinstance(specs, Sequence) or not all(isinstance(s, FigureSpec) for s in specs):
            raise UserError(f"figure provider '{name}' returned {made!r:.80}, not FigureSpec(s)")
        out.extend(specs)
    return out


__all__ = ["GROUP", "figures", "provided_figures"]
