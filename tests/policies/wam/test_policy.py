"""The per-chunk loop on the real tiny network: NFE counts, timings, determinism, isolation of episodes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from harness import registry
from harness.shapes import ShapeSuite
from harness.types import STAGES, ActionChunk, EpisodeSpec, Observation, Policy

SMALL = {"dim": 32, "depth": 1, "heads": 2}


def build(name: str, suite: ShapeSuite, **options: Any) -> Any:
    return registry.policies.get(name).build(suite, {**SMALL, **options})


class HeadCounter:
    """Counts network evaluations at the model's output heads (batch rows), apart from the policy's count."""

    def __init__(self, policy: Any) -> None:
        self.counts = {"video": 0, "action": 0}
        model = policy.network.model
        model.video_out.register_forward_hook(self._hook("video"))
        model.action_out.register_forward_hook(self._hook("action"))

    def _hook(self, stream: str) -> Callable[..., None]:
        def hook(module: Any, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            self.counts[stream] += int(args[0].shape[0])

        return hook


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        (
            "teacher-1v2a",
            {},
            {"video": 1 * 2, "action": 2 * 1},
        ),  # CFG 5 on video doubles, CFG 1 on action not
        ("flash-wam-1v1a", {}, {"video": 2, "action": 1}),
        ("joint-dmd2-1v2a", {"cfg_action": 2.0}, {"video": 2, "action": 4}),
        ("flash-wam-1v2a", {"cfg_video": 1.0, "nfe_video": 3}, {"video": 3, "action": 2}),
        ("teacher-25v50a", {"sampler": "consistency"}, {"video": 50, "action": 50}),
    ],
)
def test_network_evaluations_per_chunk_are_nfe_times_cfg(
    name: str,
    options: dict[str, Any],
    expected: dict[str, int],
    robotwin: ShapeSuite,
    make_obs: Any,
    make_episode: Any,
) -> None:
    policy = build(name, robotwin, **options)
    counter = HeadCounter(policy)
    policy.reset(make_episode(robotwin, 0), "stack the bowls")
    for i in range(2):
        before = dict(counter.counts)
        chunk = policy.act(make_obs(robotwin, i))
        measured = {k: counter.counts[k] - before[k] for k in before}
        assert measured == expected
        assert chunk.nfe == expected


@pytest.mark.parametrize("family", ["libero", "robotwin"])
def test_chunk_shape_timings_and_spec(family: str, request: Any, make_obs: Any, make_episode: Any) -> None:
    suite = request.getfixturevalue(family)
    policy = build("flash-wam-1v2a", suite)
    assert isinstance(policy, Policy)
    policy.reset(make_episode(suite, 0), "go")
    chunk = policy.act(make_obs(suite, 0))
    assert isinstance(chunk, ActionChunk)
    per_chunk = {"libero": 16, "robotwin": 32}[family]
    assert chunk.actions.shape == (per_chunk, suite.action_space.dim)
    assert np.isfinite(chunk.actions).all()
    assert set(STAGES) <= set(chunk.timings)
    assert sum(chunk.timings[s] for s in STAGES if s != "total") <= chunk.timings["total"] + 1e-6
    assert chunk.device.startswith("cpu")
    spec = policy.spec
    assert (spec.name, spec.nfe_video, spec.nfe_action, spec.backend) == ("flash-wam-1v2a", 1, 2, "tiny")
    assert (
        spec.checkpoint is None
        and spec.details["trained"] is False
        and "untrained" in spec.details["warning"]
    )


def _rollout(
    policy: Any, suite: ShapeSuite, episode: EpisodeSpec, obs: list[Observation]
) -> list[np.ndarray]:
    policy.reset(episode, "put the bowl on the plate")
    return [policy.act(o).actions for o in obs]


def test_same_seed_and_observations_give_the_same_chunks(
    robotwin: ShapeSuite, make_obs: Any, make_episode: Any
) -> None:
    obs = [make_obs(robotwin, i) for i in range(3)]
    a = _rollout(build("teacher-1v2a", robotwin), robotwin, make_episode(robotwin, 11), obs)
    policy = build("teacher-1v2a", robotwin)
    b = _rollout(policy, robotwin, make_episode(robotwin, 11), obs)
    c = _rollout(policy, robotwin, make_episode(robotwin, 11), obs)  # the same policy, reset again
    for x, y, z in zip(a, b, c, strict=True):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)
    d = _rollout(policy, robotwin, make_episode(robotwin, 12), obs)
    assert not np.allclose(a[0], d[0])  # another noise seed, other actions


def test_episodes_never_share_state(robotwin: ShapeSuite, make_obs: Any, make_episode: Any) -> None:
    obs_a = [make_obs(robotwin, i) for i in range(4)]
    obs_b = [make_obs(robotwin, 100 + i) for i in range(3)]
    fresh_b = _rollout(build("flash-wam-1v2a", robotwin), robotwin, make_episode(robotwin, 5, 1), obs_b)

    policy = build("flash-wam-1v2a", robotwin)
    _rollout(policy, robotwin, make_episode(robotwin, 4, 0), obs_a)  # a long episode first fills the cache
    after_a = _rollout(policy, robotwin, make_episode(robotwin, 5, 1), obs_b)
    for x, y in zip(fresh_b, after_a, strict=True):
        np.testing.assert_array_equal(x, y)

    # Two policies built by one factory, interleaved chunk by chunk, behave as if alone.
    p, q = build("flash-wam-1v2a", robotwin), build("flash-wam-1v2a", robotwin)
    p.reset(make_episode(robotwin, 4, 0), "put the bowl on the plate")
    q.reset(make_episode(robotwin, 5, 1), "put the bowl on the plate")
    for i in range(3):
        p.act(obs_a[i])
        np.testing.assert_array_equal(q.act(obs_b[i]).actions, fresh_b[i])


def test_observations_are_fed_back_into_the_context(
    robotwin: ShapeSuite, make_obs: Any, make_episode: Any
) -> None:
    """The second chunk depends on what was observed after the first, and on nothing else changing."""
    first, second = make_obs(robotwin, 0), make_obs(robotwin, 1)
    other = make_obs(robotwin, 2)
    base = _rollout(build("teacher-1v1a", robotwin), robotwin, make_episode(robotwin, 3), [first, second])
    changed = _rollout(build("teacher-1v1a", robotwin), robotwin, make_episode(robotwin, 3), [first, other])
    np.testing.assert_array_equal(base[0], changed[0])
    assert not np.allclose(base[1], changed[1])


def test_act_before_reset_is_refused(robotwin: ShapeSuite, make_obs: Any) -> None:
    with pytest.raises(RuntimeError, match="before reset"):
        build("teacher-1v1a", robotwin).act(make_obs(robotwin, 0))


def test_kv_cache_is_bounded_by_its_window(robotwin: ShapeSuite, make_obs: Any, make_episode: Any) -> None:
    policy = build("teacher-1v1a", robotwin, window=3)
    policy.reset(make_episode(robotwin, 0), "go")
    for i in range(6):
        policy.act(make_obs(robotwin, i))
        assert len(policy._ctx.blocks) == min(i + 1, 3)
    keys = policy._ctx.past[0][0]
    assert keys.shape[2] == sum(block[0][0].shape[2] for block in policy._ctx.blocks)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_low_precision_tracks_float32(
    dtype: str, libero: ShapeSuite, make_obs: Any, make_episode: Any
) -> None:
    obs = [make_obs(libero, i) for i in range(2)]
    ref = _rollout(build("flash-wam-1v2a", libero), libero, make_episode(libero, 1), obs)
    low = _rollout(build("flash-wam-1v2a", libero, dtype=dtype), libero, make_episode(libero, 1), obs)
    for x, y in zip(ref, low, strict=True):
        np.testing.assert_allclose(y, x, atol=0.1)


def test_per_step_observations_reach_a_network_that_keeps_key_frames(
    robotwin: ShapeSuite, make_obs: Any, make_episode: Any
) -> None:
    """The runner calls policy.observe after every env step; a network with `observe(ctx, obs)` (LingBot-VA's
    compute_kv_cache needs the chunk's key frames) receives each one with this episode's context."""
    policy = build("teacher-1v1a", robotwin)
    seen: list[tuple[Any, Observation]] = []
    policy.network.observe = lambda ctx, obs: seen.append((ctx, obs))
    policy.observe(make_obs(robotwin, 0))  # before reset: no episode context, nothing forwarded
    assert seen == []
    policy.reset(make_episode(robotwin, 0), "task")
    frames = [make_obs(robotwin, i) for i in range(3)]
    for obs in frames:
        policy.observe(obs)
    assert [o for _, o in seen] == frames and all(c is policy._ctx for c, _ in seen)
