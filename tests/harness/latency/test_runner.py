"""The chunk loop: warm-up flagged, cold chunk first, consecutive chunks inside episodes, stage timings
that add up to the chunk's total."""

from __future__ import annotations

import statistics

import pytest

from harness.errors import UserError
from harness.latency.observations import builtin_geometry, synthetic_observations
from harness.latency.runner import HARNESS_STAGE, ChunkLoop
from harness.latency.stats import stage_sum_gap
from harness.shapes import ShapeSuite
from harness.types import ActionChunk, EpisodeSpec, Observation, PolicySpec

from .doubles import double_factory


def _suite() -> ShapeSuite:
    g = builtin_geometry("robotwin2")
    return ShapeSuite("robotwin2", g.action_space, g.camera_shapes, g.state_dim)


def test_warmup_flagged_and_cold_first() -> None:
    policy = double_factory(nfe=(2, 2)).build(_suite(), {"device": "cpu", "dtype": "float32"})
    obs = synthetic_observations(builtin_geometry("robotwin2"), 4)
    samples = ChunkLoop(policy, obs, warmup=3, iters=5, suite="robotwin2", label="2v2a").run()
    assert [s.warmup for s in samples] == [True] * 3 + [False] * 5
    assert [s.order for s in samples] == list(range(8))
    assert samples[0].timings["encode"] >= 5.0  # the double's cold-only 5 ms landed on the first chunk
    assert all(s.nfe == {"video": 4, "action": 2} for s in samples)
    assert len(policy.resets) == 1 and policy.calls == 8  # one episode of consecutive chunks


def test_stage_timings_add_up_to_total() -> None:
    policy = double_factory(nfe=(3, 4)).build(_suite(), {})
    obs = synthetic_observations(builtin_geometry("robotwin2"), 2)
    samples = ChunkLoop(policy, obs, warmup=1, iters=10, suite="robotwin2", label="3v4a").run()
    gaps = [stage_sum_gap(s.timings) for s in samples]
    # Only timer overhead lies between the double's stages; a shared machine may preempt once in a while.
    assert all(0.0 <= g <= max(2.0, 0.1 * s.total) for g, s in zip(gaps, samples, strict=True))
    assert statistics.median(gaps) < 0.2
    assert all(s.timings[HARNESS_STAGE] >= s.total for s in samples)  # the outside view contains the inside


def test_resets_every_k_chunks() -> None:
    policy = double_factory(nfe=(1, 1)).build(_suite(), {})
    obs = synthetic_observations(builtin_geometry("robotwin2"), 3)
    samples = ChunkLoop(
        policy, obs, warmup=1, iters=6, suite="robotwin2", label="1v1a", chunks_per_episode=3
    ).run()
    assert [(s.episode, s.chunk) for s in samples] == [(e, c) for e in range(3) for c in range(3)][:7]
    assert [r.index for r in policy.resets] == [0, 1, 2]
    assert all(r.split == "1v1a" and r.task == "latency" for r in policy.resets)


class _NoTotal:
    spec = PolicySpec("no-total", "double")

    def reset(self, episode: EpisodeSpec, instruction: str) -> None:
        pass

    def act(self, obs: Observation) -> ActionChunk:
        return ActionChunk(obs.state[None], {"video": 1.0})

    def close(self) -> None:
        pass


def test_policy_without_total_is_refused() -> None:
    obs = synthetic_observations(builtin_geometry("libero_goal"), 1)
    with pytest.raises(UserError, match="no 'total' timing"):
        ChunkLoop(_NoTotal(), obs, warmup=1, iters=1, suite="libero_goal", label="x").run()


def test_warmup_zero_is_refused() -> None:
    obs = synthetic_observations(builtin_geometry("libero_goal"), 1)
    with pytest.raises(UserError, match="cold"):
        ChunkLoop(_NoTotal(), obs, warmup=0, iters=1, suite="libero_goal", label="x").run()


def test_interleaved_loops_rotate_and_flag_their_own_warmup() -> None:
    from harness.latency.runner import run_interleaved

    order: list[str] = []

    class Tracing:
        def __init__(self, name: str) -> None:
            self.inner = double_factory(nfe=(1, 1), cold_extra_ms=0.0).build(_suite(), {})
            self.spec = self.inner.spec
            self.name = name

        def reset(self, episode: EpisodeSpec, instruction: str) -> None:
            self.inner.reset(episode, instruction)

        def act(self, obs: Observation) -> ActionChunk:
            order.append(self.name)
            return self.inner.act(obs)

        def close(self) -> None:
            pass

    obs = synthetic_observations(builtin_geometry("robotwin2"), 2)
    loops = [
        ChunkLoop(Tracing(n), obs, warmup=2, iters=k, suite="robotwin2", label=n)
        for n, k in (("a", 2), ("b", 3), ("c", 1))
    ]
    run_interleaved(loops)
    assert order[:9] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]  # who goes first rotates
    assert order.count("a") == 4 and order.count("b") == 5 and order.count("c") == 3
    for loop in loops:
        assert [s.warmup for s in loop.samples][:2] == [True, True]
        assert not any(s.warmup for s in loop.samples[2:])
