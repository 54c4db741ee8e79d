"""The checkpoint probe runs a tiny checkpoint closed-loop on fresh LIBERO placements (real simulator)."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.backends.tiny import write_untrained_checkpoint
from policies.backends.tiny.probe import PROBE_SEED_BASE, probe

pytestmark = pytest.mark.sim

SMALL = {"dim": 32, "depth": 1, "heads": 2}


def test_probe_gives_a_privileged_state_checkpoint_its_state(tmp_path: Path) -> None:
    from suites.libero.suite import LiberoOptions, LiberoSuite

    suite = LiberoSuite("libero_object", LiberoOptions.parse("libero_object", {"privileged_state": True}))
    folder = write_untrained_checkpoint(tmp_path / "ck", suite, **SMALL)
    [result] = probe(str(folder), "libero_object", 0, episodes=1, policy="teacher-1v1a", max_steps=8)
    assert result.seed == PROBE_SEED_BASE and result.steps == 8 and not result.success
    assert result.object_max_top >= result.object_start_top > 0
