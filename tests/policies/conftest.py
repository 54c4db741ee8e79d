"""Shared fixtures for the policy tests: suites as shapes (no simulator), observations, episodes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from harness.shapes import ShapeSuite
from harness.types import EpisodeSpec, Observation
from tests.shapes import SHAPES

# Small networks keep every test file well under its time budget; sizes do not change the maths.
SMALL = {"dim": 32, "depth": 1, "heads": 2}


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture
def libero() -> ShapeSuite:
    return SHAPES["libero"]


@pytest.fixture
def robotwin() -> ShapeSuite:
    return SHAPES["robotwin"]


def observation(suite: ShapeSuite, seed: int) -> Observation:
    rng = np.random.default_rng(seed)
    return Observation(
        {cam: rng.integers(0, 256, shape, dtype=np.uint8) for cam, shape in suite.camera_shapes.items()},
        rng.standard_normal(suite.state_dim),
        "pick up the black bowl",
    )


@pytest.fixture
def make_obs() -> Callable[[ShapeSuite, int], Observation]:
    return observation


def episode(suite: ShapeSuite, noise_seed: int, index: int = 0) -> EpisodeSpec:
    return EpisodeSpec(suite.name, "task", "default", index, index, 300, noise_seed=noise_seed)


@pytest.fixture
def make_episode() -> Callable[..., EpisodeSpec]:
    return episode
