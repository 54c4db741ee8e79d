"""The shipped suites as their factories declare them (`geometry()`), by family: shapes only, no
simulator, for tests that build and time policies against a suite's geometry."""

from __future__ import annotations

from harness import registry
from harness.shapes import ShapeSuite

FAMILIES: dict[str, str] = {"libero": "libero_spatial", "robotwin": "robotwin2"}


def shape_suite(family: str) -> ShapeSuite:
    geometry: ShapeSuite = registry.suites.get(FAMILIES[family]).geometry()
    return geometry


SHAPES: dict[str, ShapeSuite] = {family: shape_suite(family) for family in FAMILIES}

__all__ = ["FAMILIES", "SHAPES", "shape_suite"]
