"""What the policy is fed: synthetic frames of the suite's shapes, or recorded ones checked first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import registry
from harness.errors import UserError
from harness.latency.observations import builtin_geometry, recorded_observations, synthetic_observations
from harness.latency.suite import resolve_suite
from harness.shapes import ShapeSuite
from harness.types import ActionSpace

savez: Any = np.savez  # numpy's stub types **arrays against allow_pickle


def test_synthetic_is_deterministic_and_shaped() -> None:
    g = builtin_geometry("robotwin2")
    a = synthetic_observations(g, 3, seed=7)
    b = synthetic_observations(g, 3, seed=7)
    assert set(a[0].images) == {"head", "left_wrist", "right_wrist"}
    for x, y in zip(a, b, strict=True):
        for cam, shape in g.camera_shapes.items():
            assert x.images[cam].shape == shape and x.images[cam].dtype == np.uint8
            assert np.array_equal(x.images[cam], y.images[cam])
        assert x.state.shape == (30,)
    assert not np.array_equal(a[0].images["head"], a[1].images["head"])  # a fresh frame per chunk


def test_recorded_observations_checked(tmp_path: Path) -> None:
    g = builtin_geometry("libero_spatial")
    good = tmp_path / "obs.npz"
    arrays = {
        f"images/{c}": np.full((2, *s), i, np.uint8) for i, (c, s) in enumerate(g.camera_shapes.items())
    }
    savez(good, state=np.arange(16, dtype=np.float32).reshape(2, 8), **arrays)
    obs = recorded_observations(good, g, 5)
    assert len(obs) == 5 and obs[2].state[0] == 0.0 and obs[3].state[0] == 8.0  # cycled
    bad = tmp_path / "bad.npz"
    savez(bad, state=np.zeros((2, 8), np.float32), **{k: v[:, :10] for k, v in arrays.items()})
    with pytest.raises(UserError, match="expected uint8"):
        recorded_observations(bad, g, 1)
    with pytest.raises(UserError, match="not found"):
        recorded_observations(tmp_path / "none.npz", g, 1)


def test_unknown_suite_is_refused() -> None:
    with pytest.raises(UserError):
        resolve_suite("no_such_suite")


class _Unbuildable:
    """A suite factory whose simulator is absent; with `declared`, it declares RoboTwin's geometry."""

    def __init__(self, declared: bool) -> None:
        if declared:
            self.geometry = lambda **options: registry.suites.get("robotwin2").geometry(**options)

    def __call__(self, **_: object) -> object:
        raise ImportError("simulator not installed")


def test_suite_that_cannot_be_built_falls_back_to_its_declared_geometry() -> None:
    registry.suites.register("broken_test", _Unbuildable(declared=True))
    try:
        r = resolve_suite("broken_test")
    finally:
        registry.suites.unregister("broken_test")
    assert isinstance(r.suite, ShapeSuite) and r.suite.name == "broken_test"
    assert r.geometry.source == "builtin" and "simulator not installed" in r.note
    assert r.suite.camera_shapes["head"] == (240, 320, 3)
    assert r.suite.client_camera_keys["lingbot"]["head"] == "observation.images.cam_high"


def test_suite_that_cannot_be_built_and_declares_nothing_is_refused() -> None:
    registry.suites.register("robotwin_broken_test", _Unbuildable(declared=False))
    try:
        with pytest.raises(UserError, match="could not be built here: simulator not installed"):
            resolve_suite("robotwin_broken_test")  # a name like a shipped suite's says nothing
        with pytest.raises(UserError, match="declares no geometry"):
            builtin_geometry("robotwin_broken_test")
    finally:
        registry.suites.unregister("robotwin_broken_test")


def test_real_suite_geometry_is_used() -> None:
    fake = ShapeSuite("libero_fake", ActionSpace("ee_delta7", 7), {"agentview": (128, 128, 3)}, 9)
    registry.suites.register("libero_fake_test", lambda **_: fake)
    try:
        r = resolve_suite("libero_fake_test")
    finally:
        registry.suites.unregister("libero_fake_test")
    assert r.suite is fake and r.geometry.source == "suite" and r.note == ""
    assert r.geometry.camera_shapes == {"agentview": (128, 128, 3)} and r.geometry.state_dim == 9
