"""Each shipped suite declares its observation and action geometry without being built (its factory's
`geometry()`), for the same options the suite takes, and a machine without the simulator still gets it."""

from __future__ import annotations

from typing import Any

import pytest

from harness import registry
from harness.errors import SetupError, UserError
from harness.shapes import ShapeSuite

CASES: list[tuple[str, dict[str, Any]]] = [
    ("libero_spatial", {}),
    ("libero_long", {"image_size": 64}),
    ("libero_goal", {"privileged_state": True}),
    ("libero_object", {"cameras": False}),
    ("robotwin2", {}),
    ("robotwin2", {"action_type": "qpos"}),
]


def _geometry(suite: Any) -> tuple[Any, ...]:
    return (
        suite.name,
        suite.action_space,
        dict(suite.camera_shapes),
        suite.state_dim,
        tuple(suite.splits),
        dict(suite.client_camera_keys),
    )


@pytest.mark.parametrize(("name", "options"), CASES)
def test_declared_geometry_is_the_built_suites(name: str, options: dict[str, Any]) -> None:
    factory = registry.suites.get(name)
    declared = factory.geometry(**options)
    assert isinstance(declared, ShapeSuite)
    assert _geometry(declared) == _geometry(factory(**options))


def test_options_shape_the_geometry() -> None:
    libero = registry.suites.get("libero_spatial")
    assert dict(libero.geometry(image_size=64).camera_shapes) == {
        "agentview": (64, 64, 3),
        "wrist": (64, 64, 3),
    }
    assert libero.geometry(privileged_state=True).state_dim > libero.geometry().state_dim
    assert registry.suites.get("robotwin2").geometry(action_type="qpos").action_space.kind == "qpos14"
    with pytest.raises(UserError, match="image_size"):
        libero.geometry(image_size=8)


def test_libero_geometry_needs_no_installation(monkeypatch: pytest.MonkeyPatch) -> None:
    from suites.libero import paths

    def missing() -> None:
        raise SetupError("LIBERO is not installed")

    monkeypatch.setattr(paths, "check_installed", missing)
    factory = registry.suites.get("libero_10")
    with pytest.raises(SetupError):
        factory()
    assert factory.geometry().state_dim == 8
