"""Resolving `--suite` to what a policy needs to be built and timed, simulator or not.

The policy factory takes a Suite (it reads suite-dependent defaults: shifts, chunk geometry, action
space). When the real suite object can be built, it is used as is. When it cannot (its simulator or
assets are absent on this machine), a `harness.shapes.ShapeSuite` with the geometry its factory
declares (`geometry()`) stands in: the suite's name and observation/action geometry, no tasks, no env.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness import registry
from harness.errors import UserError
from harness.latency.observations import Geometry, builtin_geometry, declared_shape, geometry_from_suite
from harness.shapes import ShapeSuite


@dataclass(frozen=True)
class ResolvedSuite:
    suite: Any
    geometry: Geometry
    note: str  # why the built-in geometry was used, or ""


def resolve_suite(name: str, options: Mapping[str, Any] | None = None) -> ResolvedSuite:
    """The real suite if it builds here, else the geometry its factory declares."""
    try:
        suite = registry.suites.get(name)(**dict(options or {}))
    except Exception as exc:  # any failure to build the suite here: import, assets, simulator
        declared = declared_shape(name)
        if declared is None:
            if isinstance(exc, UserError):
                raise
            raise UserError(f"suite '{name}' could not be built here: {exc}") from exc
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    else:
        return ResolvedSuite(suite, geometry_from_suite(suite, name), "")
    geo = builtin_geometry(name)
    stand_in = ShapeSuite(
        name=name,
        action_space=geo.action_space,
        camera_shapes=geo.camera_shapes,
        state_dim=geo.state_dim,
        reason=reason,
        client_camera_keys=declared.client_camera_keys,
    )
    return ResolvedSuite(
        stand_in, geo, f"suite '{name}' not buildable here ({reason}); built-in geometry used"
    )


__all__ = ["ResolvedSuite", "resolve_suite"]
