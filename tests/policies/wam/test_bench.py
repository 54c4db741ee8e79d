"""`wambench bench sampler`: it runs, prints the comparison, and its overhead is a real ratio."""

from __future__ import annotations

import time
from typing import Any

import pytest

from harness.shapes import ShapeSuite
from policies.backends.tiny.network import TinyNetwork
from policies.wam import bench
from policies.wam import policy as wam_policy

NET_S = 0.02  # added to every network velocity call: must be counted as network time
LOOP_S = 0.03  # added to every sampler run around those calls: must be counted as loop overhead


def test_overhead_is_chunk_time_over_the_time_inside_the_network(
    libero: ShapeSuite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Known delays inside and outside the network must land on their own side of the ratio."""
    velocity, sample = TinyNetwork.velocity, wam_policy.sample

    def slow_velocity(self: TinyNetwork, *args: Any, **kwargs: Any) -> Any:
        time.sleep(NET_S)
        return velocity(self, *args, **kwargs)

    def slow_sample(*args: Any, **kwargs: Any) -> Any:
        time.sleep(LOOP_S)
        return sample(*args, **kwargs)

    monkeypatch.setattr(TinyNetwork, "velocity", slow_velocity)
    monkeypatch.setattr(wam_policy, "sample", slow_sample)
    # One chunk: the medians are that chunk's own values, so the ratio can be checked exactly.
    row = bench.measure("teacher-1v2a", libero, {"dim": 32, "depth": 1, "heads": 2}, warmup=0, chunks=1)
    assert row["nfe"] == "1v/2a" and row["evals"] == "2+2"  # video: 1 call (CFG batch of 2); action: 2
    assert row["network_ms"] >= 3 * NET_S * 1000  # every velocity call is inside the network's time
    assert row["total_ms"] - row["network_ms"] >= 2 * LOOP_S * 1000  # the two sampler runs are not
    assert row["overhead"] == pytest.approx(row["total_ms"] / row["network_ms"], rel=1e-9)
    assert row["overhead"] > 1.0 + 2 * LOOP_S * 1000 / row["total_ms"]


def test_main_prints_latency_ratios_and_overhead(capsys: Any) -> None:
    code = bench.main(
        [
            "--suite",
            "libero",
            "--policies",
            "teacher-1v2a",
            "flash-wam-1v1a",
            "--warmup",
            "0",
            "--chunks",
            "1",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "speedup vs teacher-1v2a" in out and "flash-wam-1v1a" in out
    assert "sampler overhead = chunk time / network time: worst" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--chunks", "0"], "--chunks must be >= 1"), (["--warmup", "-1"], "--warmup >= 0")],
)
def test_bad_arguments_exit_2_with_usage(argv: list[str], message: str, capsys: Any) -> None:
    with pytest.raises(SystemExit) as info:
        bench.main(argv)
    assert info.value.code == 2  # argparse's usage error, not a crash (1) or a silent success (0)
    err = capsys.readouterr().err
    assert err.startswith("usage: wambench bench sampler") and message in err
