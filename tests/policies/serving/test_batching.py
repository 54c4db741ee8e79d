"""Batched serving: every session's actions equal its own unbatched run, whatever the batch around it."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import numpy as np
import pytest
import torch

from harness import registry
from harness.serving.server import PolicyServer
from harness.serving.sharing import BatchSettings
from harness.types import EpisodeSpec, Observation
from policies.serving.batching import NetworkBatcher, batched_policy
from tests.shapes import shape_suite
from tests.threads import run_threads

SMALL = {"backend": "tiny", "dim": 32, "depth": 1, "heads": 2, "window": 3}
LONGER = {**SMALL, "nfe_video": 3, "nfe_action": 6}  # more steps per chunk: more chances to overlap
TOL = 1e-5


def _obs(suite: Any, session: int, chunk: int) -> Observation:
    rng = np.random.default_rng(1000 * session + chunk)
    images = {c: rng.integers(0, 255, s, dtype=np.uint8) for c, s in suite.camera_shapes.items()}
    return Observation(images, rng.standard_normal(suite.state_dim), f"task {session % 3}")


def _episode(suite: Any, session: int) -> EpisodeSpec:
    return EpisodeSpec(suite.name, "t", "default", session, session, 1000, noise_seed=77 + session)


def _run(
    policy: Any, suite: Any, session: int, chunks: int, jitter: random.Random | None
) -> list[np.ndarray]:
    policy.reset(_episode(suite, session), f"task {session % 3}")
    out = []
    for chunk in range(chunks):
        if jitter is not None:  # a client stepping its simulator for a while between chunks
            time.sleep(jitter.uniform(0.0, 0.01))
        out.append(policy.act(_obs(suite, session, chunk)).actions)
    return out


def _concurrent(batcher: NetworkBatcher, template: Any, suite: Any, chunks: list[int], seed: int) -> Any:
    """Sessions in rounds: session i runs its chunks in the last chunks[i] rounds, so sessions at different
    chunk counts (caches of different lengths) meet; within a round they arrive in a random order at
    random times."""
    results: dict[int, list[np.ndarray]] = {}
    errors: list[BaseException] = []
    rounds = max(chunks)
    barrier = threading.Barrier(len(chunks))

    def session(i: int) -> None:
        rng = random.Random(seed * 100 + i)
        policy = batched_policy(template, batcher)
        out: list[np.ndarray] = []
        try:
            for r in range(rounds):
                barrier.wait(timeout=60)
                chunk = r - (rounds - chunks[i])
                if chunk < 0:
                    continue
                if chunk == 0:
                    policy.reset(_episode(suite, i), f"task {i % 3}")
                time.sleep(rng.uniform(0.0, 0.003))
                out.append(policy.act(_obs(suite, i, chunk)).actions)
            results[i] = out
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            policy.close()

    order = list(range(len(chunks)))
    random.Random(seed).shuffle(order)
    run_threads(session, order, 120)
    assert not errors, errors
    return results


def _spy_on_cache_lengths(network: Any) -> list[int]:
    """Record every batch whose contexts' caches differ in length (so the masking is exercised)."""
    from policies.backends.tiny.batch import cache_length

    mixed: list[int] = []
    inner = network.velocity_batch

    def spy(ctxs: Any, stream: str, *args: Any) -> Any:
        lengths = {cache_length(c.past if stream == "video" else c.with_video) for c in ctxs}
        if len(lengths) > 1:
            mixed.append(len(ctxs))
        return inner(ctxs, stream, *args)

    network.velocity_batch = spy
    return mixed


@pytest.mark.parametrize(
    ("family", "policy", "seed"),
    [
        ("robotwin", "teacher-1v2a", 1),  # Euler: each group steps its rows stacked
        ("libero", "flash-wam-1v2a", 2),
        ("robotwin", "dmd2-reg-1v2a", 3),  # DMD2 re-noises: each row steps with its own generator
    ],
)
def test_each_session_equals_its_unbatched_run(family: str, policy: str, seed: int) -> None:
    torch.set_num_threads(1)
    suite = shape_suite(family)
    factory = registry.policies.get(policy)
    template = factory.build(suite, LONGER)
    # sessions at different chunk counts: caches of different lengths in one batch (window 3 fills)
    chunks = [1, 4, 2, 5, 3, 1]
    reference = {i: _run(factory.build(suite, LONGER), suite, i, n, None) for i, n in enumerate(chunks)}
    mixed = _spy_on_cache_lengths(template.network)
    for attempt in range(3):  # three random arrival orders
        batcher = NetworkBatcher(template.network, BatchSettings(max_batch_size=4, max_wait_ms=20.0))
        try:
            got = _concurrent(batcher, template, suite, chunks, seed * 10 + attempt)
        finally:
            batcher.close()
        assert max(batcher.batch_sizes) > 1, f"nothing was batched: {dict(batcher.batch_sizes)}"
        assert max(batcher.batch_sizes) <= 4
        for i, n in enumerate(chunks):
            assert len(got[i]) == n
            for a, b in zip(got[i], reference[i], strict=True):
                np.testing.assert_allclose(a, b, rtol=0, atol=TOL)
    assert mixed, "no batch held caches of different lengths: the padding went untested"


def test_velocity_batch_rows_equal_single_calls_with_caches_of_different_lengths() -> None:
    suite = shape_suite("robotwin")
    policy = registry.policies.get("teacher-25v50a").build(suite, {"backend": "tiny"})
    net = policy.network
    geo = net.geometry()
    gen = torch.Generator().manual_seed(0)
    ctxs = []
    with torch.inference_mode():
        for i in range(5):
            ctx = net.start_episode(f"task {i}")
            for k in range(i + 1):
                net.encode(ctx, _obs(suite, i, k))
                video = torch.randn(geo.video_shape, generator=gen)
                net.condition_on_video(ctx, video)
                if k < i:
                    net.end_chunk(ctx, video, torch.randn(geo.action_shape, generator=gen))
            ctxs.append(ctx)
        assert len({c.past[0][0].shape[2] for c in ctxs}) == 5  # five different cache lengths
        for stream, shape in (("video", geo.video_shape), ("action", geo.action_shape)):
            for guidance in (("cond",), ("cond", "uncond")):
                xs = [torch.randn(shape, generator=gen) for _ in ctxs]
                sigmas = [0.9 - 0.1 * i for i in range(len(ctxs))]
                before = [c.past[0][0].clone() for c in ctxs]
                batched = net.velocity_batch(ctxs, stream, xs, sigmas, guidance)
                for i, ctx in enumerate(ctxs):
                    single = net.velocity(ctx, stream, xs[i], sigmas[i], guidance)
                    assert (batched[i] - single).abs().max().item() <= TOL
                    assert torch.equal(ctx.past[0][0], before[i])  # a batch changes no context
                # a row does not depend on the rest of the batch: change another row's input
                xs2 = [x + 1.0 for x in xs]
                xs2[2] = xs[2]
                again = net.velocity_batch(ctxs, stream, xs2, sigmas, guidance)
                assert (again[2] - batched[2]).abs().max().item() <= TOL


def test_a_late_session_catches_up_and_joins_the_batch_mid_stream() -> None:
    """A session that starts its chunk while two others are inside their video stream runs its own
    steps first (the group furthest behind goes first), then joins their batch at their step."""
    torch.set_num_threads(1)
    suite = shape_suite("robotwin")
    factory = registry.policies.get("teacher-1v2a")
    options = {**SMALL, "nfe_video": 12, "nfe_action": 4}
    template = factory.build(suite, options)
    reference = {i: _run(factory.build(suite, options), suite, i, 1, None) for i in range(3)}
    inner, started = template.network.velocity_batch, threading.Event()

    joined = threading.Event()

    def spy(*args: Any) -> Any:
        started.set()  # the first two are inside their video stream
        if len(args[0]) == 3:
            joined.set()
        elif len(args[0]) == 2 and not joined.is_set():
            time.sleep(0.02)  # hold the two back a little: on a loaded machine they could finish first
        return inner(*args)

    template.network.velocity_batch = spy
    batcher = NetworkBatcher(template.network, BatchSettings(max_batch_size=8, max_wait_ms=50.0))
    got: dict[int, list[np.ndarray]] = {}

    def session(i: int) -> None:
        policy = batched_policy(template, batcher)
        try:
            if i == 2:
                started.wait(timeout=60)
            got[i] = _run(policy, suite, i, 1, None)
        finally:
            policy.close()

    try:
        run_threads(session, range(3), 120)
    finally:
        batcher.close()
    assert batcher.batch_sizes[1] > 0, "the late session never ran alone: it was not late"
    assert batcher.batch_sizes[3] > 0, f"it never joined the others: {dict(batcher.batch_sizes)}"
    for i in range(3):
        np.testing.assert_allclose(got[i][0], reference[i][0], rtol=0, atol=TOL)


def test_single_velocity_calls_through_the_batcher_equal_the_network_and_are_batched() -> None:
    """`SessionNetwork.velocity` (the plain `WamNetwork` call, not a whole stream) is batched too."""
    suite = shape_suite("libero")
    net = registry.policies.get("teacher-1v2a").build(suite, SMALL).network
    geo = net.geometry()
    batcher = NetworkBatcher(net, BatchSettings(max_batch_size=4, max_wait_ms=2000.0))
    sessions = [
        batched_policy(registry.policies.get("teacher-1v2a").build(suite, SMALL), batcher) for _ in range(3)
    ]
    gen = torch.Generator().manual_seed(5)
    with torch.inference_mode():
        ctxs = [net.start_episode(f"task {i}") for i in range(3)]
        for i, ctx in enumerate(ctxs):
            net.encode(ctx, _obs(suite, i, 0))
        xs = [torch.randn(geo.video_shape, generator=gen) for _ in ctxs]
        expected = [
            net.velocity(ctx, "video", x, 0.7, ("cond", "uncond")) for ctx, x in zip(ctxs, xs, strict=True)
        ]
    got: dict[int, torch.Tensor] = {}

    def call(i: int) -> None:
        with torch.inference_mode():
            got[i] = sessions[i].network.velocity(ctxs[i], "video", xs[i], 0.7, ("cond", "uncond"))

    try:
        run_threads(call, range(3), 60)
    finally:
        batcher.close()
    assert dict(batcher.batch_sizes) == {3: 1}  # none of them is inside a chunk: all three waited
    for i in range(3):
        assert got[i].shape == expected[i].shape
        assert (got[i] - expected[i]).abs().max().item() <= TOL


def test_a_failing_session_does_not_stall_or_break_the_others() -> None:
    suite = shape_suite("libero")
    template = registry.policies.get("flash-wam-1v2a").build(suite, SMALL)
    reference = _run(registry.policies.get("flash-wam-1v2a").build(suite, SMALL), suite, 0, 3, None)
    batcher = NetworkBatcher(template.network, BatchSettings(max_batch_size=8, max_wait_ms=2000.0))
    try:
        bad = batched_policy(template, batcher)
        bad.reset(_episode(suite, 5), "x")
        with pytest.raises(Exception, match="camera"):
            bad.act(Observation({}, np.zeros(suite.state_dim), "x"))  # encode fails inside the chunk
        bad.close()  # what the server does after a policy error (it closes that connection)
        good = batched_policy(template, batcher)
        t0 = time.monotonic()
        got = _run(good, suite, 0, 3, None)
        # the failed session is gone: nobody waits max_wait_ms (2 s) for it
        assert time.monotonic() - t0 < 1.5
    finally:
        batcher.close()
    for a, b in zip(got, reference, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=TOL)


def test_remote_sessions_on_a_batching_server_equal_in_process() -> None:
    suite = shape_suite("libero")
    factory = registry.policies.get("flash-wam-1v2a")
    srv = PolicyServer(
        factory,
        options=SMALL,
        suite="tests.policies.serving.test_batching:libero_shapes",
        port=0,
        batching=BatchSettings(max_batch_size=8, max_wait_ms=5.0),
    ).start()
    try:
        chunks = [3, 1, 2, 4]
        reference = {i: _run(factory.build(suite, SMALL), suite, i, n, None) for i, n in enumerate(chunks)}
        got: dict[int, list[np.ndarray]] = {}

        def client(i: int) -> None:
            remote = factory.build(suite, {"backend": "remote", "url": srv.url})
            try:
                got[i] = _run(remote, suite, i, chunks[i], random.Random(i))
            finally:
                remote.close()

        run_threads(client, range(len(chunks)), 120)
        assert max(srv.batch_sizes()) > 1
    finally:
        srv.shutdown()
    for i, n in enumerate(chunks):
        assert len(got[i]) == n
        for a, b in zip(got[i], reference[i], strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=TOL)


def libero_shapes() -> Any:
    return shape_suite("libero")
