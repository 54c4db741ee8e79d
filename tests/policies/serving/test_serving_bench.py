"""`wambench bench serving` at its smallest: it runs both modes, batches, and prints the comparison."""

from __future__ import annotations

from typing import Any

import pytest

from harness import registry
from harness.serving.sharing import BatchSettings
from policies.serving import bench
from tests.declared import declared_entry_points

SMALL = {"backend": "tiny", "dim": 32, "depth": 1, "heads": 2, "nfe_video": 2, "nfe_action": 2}


def test_registered_under_bench() -> None:
    with declared_entry_points():
        assert registry.benchmarks.get("serving") is bench.main


def test_batched_sessions_are_batched_and_unbatched_are_not() -> None:
    suite = "policies.serving.bench:libero_shapes"
    batched = bench.measure("flash-wam-1v2a", suite, SMALL, 3, BatchSettings(8, 20.0), warmup=1, chunks=2)
    plain = bench.measure("flash-wam-1v2a", suite, SMALL, 3, None, warmup=1, chunks=2)
    assert batched["mean_batch"] > 1.0  # three sessions in lockstep share their velocity passes
    assert plain["mean_batch"] == 1.0
    assert batched["chunks_per_s"] > 0 and plain["chunks_per_s"] > 0


def test_bend_is_the_first_n_whose_doubling_adds_under_a_quarter() -> None:
    rows: list[dict[str, Any]] = [
        {"n": n, "batched": b} for n, b in ((1, 10.0), (2, 19.0), (4, 30.0), (8, 33.0))
    ]
    assert bench.bend(rows) == 8
    assert bench.bend(rows[:3]) is None


def test_main_prints_a_row_per_session_count(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--policy", "flash-wam-1v1a", "--suite", "libero", "--sizes", "small", "--sessions", "1", "2"]
    assert bench.main([*argv, "--warmup", "0", "--chunks", "1"]) == 0
    out = capsys.readouterr().out
    assert "network size small" in out and "batched / unbatched" in out
    assert len([line for line in out.splitlines() if line.strip().startswith(("1 ", "2 "))]) == 2
