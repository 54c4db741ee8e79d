"""The serving tests' doubles: harness.testing's fake suite and seeded policy, LIBERO-shaped.

`SeededPolicy` stands in for a WAM only where the real one is not needed to test the wire: its actions
depend on the episode's noise seed, the instruction and the observation (images and state), so a
server that drops, reorders or mis-decodes any of them produces different actions than in-process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.testing import FakeEnv, FakeSuite, SeededFactory, SeededPolicy
from harness.types import ActionSpace, PolicySpec

SeededDoublePolicy = SeededPolicy


@dataclass
class DoubleSuite(FakeSuite):
    """LIBERO's action space and cameras at 16 px; observations change every step."""

    name: str = "libero_double"
    action_space: ActionSpace = field(default_factory=lambda: ActionSpace("ee_delta7", 7, -1.0, 1.0))
    camera_shapes: Mapping[str, tuple[int, int, int]] = field(
        default_factory=lambda: {"agentview": (16, 16, 3), "wrist": (16, 16, 3)}
    )
    state_dim: int = 8
    env_memory_gb: float = 0.0
    steps: int = 40
    vary: bool = True
    instruction: str = "pick up the bowl"


def double_suite(**options: Any) -> DoubleSuite:
    return DoubleSuite()


def large_double_suite(**options: Any) -> DoubleSuite:
    """LIBERO-like geometry at 1024 px (the largest `image_size` LIBERO accepts)."""
    return DoubleSuite(camera_shapes={"agentview": (1024, 1024, 3), "wrist": (1024, 1024, 3)})


def double_env(on_step: Callable[[int], None] | None = None) -> FakeEnv:
    """DoubleSuite's env; `on_step(n)` runs after step n (to inject faults)."""
    return FakeEnv(DoubleSuite(), on_step)


@dataclass
class SeededDoubleFactory(SeededFactory):
    spec: PolicySpec = field(
        default_factory=lambda: PolicySpec(
            "double-1v1a", "double", 1, 1, "double", details={"actions_per_frame": 4}
        )
    )


double = SeededDoubleFactory()
