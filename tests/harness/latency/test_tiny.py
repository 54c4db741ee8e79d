"""The latency benchmark on the real WAM policies with the built-in tiny backend, on CPU."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from harness import registry
from harness.latency.app import LatencyRequest, run_latency
from harness.latency.costmodel import Point, bounded_latency
from harness.latency.observations import synthetic_observations
from harness.latency.runner import ChunkLoop
from harness.latency.stats import stage_sum_gap
from harness.latency.suite import resolve_suite
from harness.store import Store

pytest.importorskip("policies.factory")


def test_tiny_stage_timings_add_up_and_warmup_flagged() -> None:
    resolved = resolve_suite("robotwin2")
    opts = {"device": "cpu", "dtype": "float32", "nfe_video": 2, "nfe_action": 3}
    policy = registry.policies.get("teacher-25v50a").build(resolved.suite, opts)
    try:
        obs = synthetic_observations(resolved.geometry, 4)
        samples = ChunkLoop(policy, obs, warmup=2, iters=10, suite="robotwin2", label="2v3a").run()
    finally:
        policy.close()
    assert [s.warmup for s in samples] == [True, True] + [False] * 10
    # Teacher: CFG on video (two evaluations per step), off on actions.
    assert all(s.nfe == {"video": 4, "action": 3} for s in samples)
    gaps = [stage_sum_gap(s.timings) for s in samples]
    assert all(g >= 0.0 for g in gaps)
    assert all(g <= max(2.0, 0.10 * s.total) for g, s in zip(gaps, samples, strict=True))
    assert statistics.median(gaps) < 0.5  # only the cache update between stages, well under a ms
    for s in samples:
        assert set(s.timings) >= {"encode", "video", "action", "decode", "total"}


def test_tiny_sweep_end_to_end(tmp_path: Path) -> None:
    lines: list[str] = []
    req = LatencyRequest(
        policies=["flash-wam-1v1a"],
        suite="robotwin2",
        warmup=1,
        iters=10,
        sweep=True,
        grid="1x1,1x2,2x1,2x2",
        teacher="2x2",
        interleave=True,
        stat="p50",
        out=str(tmp_path),
        threads=1,
    )
    outcome = run_latency(req, lines.append)
    text = "\n".join(lines)
    assert "R^2" in text and "1v1a over 2v2a (p50): measured" in text and "paper NVIDIA L40S" in text
    assert "1 degree(s) of freedom" in text
    a = outcome.analysis
    assert a is not None and [r.label for r in a.rows] == ["1v1a", "1v2a", "2v1a", "2v2a"]
    # Flash-WAM keeps the teacher's video CFG: 2 evaluations per video step, 1 per action step.
    assert [(r.n_video, r.n_action) for r in a.rows] == [(2, 1), (2, 2), (4, 1), (4, 2)]
    points = [Point(r.label, r.n_video, r.n_action, r.measured, r.lower) for r in a.rows]
    for r in a.rows:
        assert r.reported >= r.lower
        for q in a.rows:
            if q.n_video >= r.n_video and q.n_action >= r.n_action:
                assert q.reported >= r.reported - 1e-9
    assert bounded_latency(a.model, points, 8, 8) >= max(p.lower for p in points)
    with Store.open(tmp_path) as store:
        rows = store.chunks("benchmark")
        (run,) = store.runs("latency")
    assert len(rows) == 4 * 11 and sum(c.record.warmup for c in rows) == 4
    assert {c.key.split for c in rows} == {"1v1a", "1v2a", "2v1a", "2v2a"}
    assert (run.provenance.device or "").startswith("cpu (")
