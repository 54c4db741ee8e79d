"""`wambench latency` end to end on a cost-controlled policy double: tables, store rows, refusals."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import registry
from harness.cli import main
from harness.store import Store

from .doubles import CostDoubleFactory, double_factory

NAME = "cost-double-cli"
LATENCY = ["latency", "--suite", "robotwin2", "--policy", NAME]  # the command up to its options


@pytest.fixture
def factory() -> Iterator[CostDoubleFactory]:
    f = double_factory(NAME, c0_ms=0.6, video_eval_ms=0.12, action_eval_ms=0.06, cold_extra_ms=3.0)
    registry.policies.register(NAME, f)
    yield f
    registry.policies.unregister(NAME)


def test_plain_run_prints_and_stores(
    factory: CostDoubleFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main([*LATENCY, "--warmup", "2", "--iters", "10", "--out", str(tmp_path), "-o", "k=3"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "cold ms" in out and "p99" in out and "Paper, NVIDIA L40S" in out
    assert factory.built[0] == {"k": 3, "device": "cpu", "dtype": "float32"}
    with Store.open(tmp_path) as store:
        rows = [c.record for c in store.chunks("benchmark")]
        keys = {c.key for c in store.chunks("benchmark")}
        (run,) = store.runs("latency")
    assert len(rows) == 12
    assert [r.warmup for r in rows] == [True, True] + [False] * 10
    assert {(k.suite, k.task, k.split) for k in keys} == {("robotwin2", "latency", "25v50a")}
    assert {(r.nfe["video"], r.nfe["action"]) for r in rows} == {(50, 50)}
    assert rows[0].device.startswith("cpu (")
    t = [r.timings for r in rows]
    gaps = [x["total"] - (x["encode"] + x["video"] + x["action"] + x["decode"]) for x in t]
    # Only timer overhead lies between the double's stages; a shared machine may preempt once in a while.
    assert all(0 <= g <= max(2.0, 0.1 * x["total"]) for g, x in zip(gaps, t, strict=True))
    assert statistics.median(gaps) < 0.2
    assert all(x["harness_total"] >= x["total"] for x in t)
    cfg = run.config
    assert cfg["dtype"] == "float32" and cfg["torch"] and cfg["device_name"].startswith("cpu (")
    assert cfg["configs"][0]["nfe"] == {"video": 50.0, "action": 50.0}
    assert run.status == "finished" and (run.provenance.device or "").startswith("cpu (")
    # Measuring again replaces the key's chunks instead of mixing two runs.
    assert main([*LATENCY, "--warmup", "1", "--iters", "10", "--out", str(tmp_path)]) == 0
    with Store.open(tmp_path) as store:
        chunks = store.chunks("benchmark")
    assert len(chunks) == 11 and len({c.run_id for c in chunks}) == 1


def test_sweep_prints_fit_and_speedup(
    factory: CostDoubleFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    grid = "1x1,1x2,2x4,5x1,1x10,5x10"
    csv_path = tmp_path / "sweep.csv"
    rc = main(
        [*LATENCY, "--sweep", "--grid", grid, "--teacher", "5x10", "--iters", "10", "--warmup", "1",
         "--csv", str(csv_path)]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0
    assert "R^2" in out and "1v1a over 5v10a (mean): measured" in out
    assert [o.get("nfe_video") for o in factory.built] == [1, 1, 2, 5, 1, 5]
    assert csv_path.read_text().count("\n") == 7


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--iters", "3"], "below the minimum"),
        (["--device", "cuda:0"], "CUDA is not available"),
        (["--device", "tpu"], "not one of"),
        (["--sweep", "--grid", "1x1,2x2"], "at least 3"),
        (["--grid", "1x1,2x2,3x1"], "only applies with --sweep"),
        (["--budget-ms", "0"], "must be positive"),
        (["-o", "nfe_video=2"], "set by the command"),
        (["--suite", "nonexistent_suite"], "unknown suite"),
    ],
)
def test_bad_input_is_refused_before_work(
    factory: CostDoubleFactory, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*LATENCY, *argv]) == 2
    assert message in capsys.readouterr().err
    assert factory.built == []


def test_a_missing_suite_is_refused_with_the_registered_ones(
    factory: CostDoubleFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """No suite is the default: which geometry a policy is timed on is the user's choice."""
    assert main(["latency", "--policy", NAME]) == 2
    err = capsys.readouterr().err
    assert "--suite NAME, one of" in err and all(name in err for name in registry.suites.names())
    assert factory.built == []


def test_unknown_policy_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["latency", "--suite", "robotwin2", "--policy", "flash-wam-1v1b"]) == 2
    assert "did you mean 'flash-wam-1v1a'" in capsys.readouterr().err
