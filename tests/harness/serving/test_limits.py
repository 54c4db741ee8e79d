"""What one frame may cost the server: its size (from the suites' geometry), its object count, its depth."""

from __future__ import annotations

import math
import struct
import tracemalloc
from typing import Any

import msgpack
import numpy as np
import pytest

from harness import registry
from harness.serving.codec import DEFAULT_LIMITS, Limits, WireError, packb, unpackb
from harness.serving.framescan import FrameScanError, scan
from harness.serving.sizing import MARGIN, MIB, frame_limit_for, largest_message_bytes
from policies.wam.profiles import profile_for
from tests.harness.serving.doubles import large_double_suite
from tests.shapes import SHAPES


def lingbot_keyframes_message(suite: Any) -> dict[str, Any]:
    """LingBot-VA's `compute_kv_cache` after a chunk, as their RoboTwin client builds it: 4 observed
    frames per latent frame of the chunk, each with every camera, the state and the prompt."""
    profile = profile_for(suite)
    frame = {
        f"observation.images.{cam}": np.zeros(shape, np.uint8) for cam, shape in suite.camera_shapes.items()
    }
    frame["observation.state"] = np.zeros(suite.state_dim)
    frame["task"] = "put the bottles into the dustbin, one after the other, then return the arms"
    return {
        "obs": [dict(frame) for _ in range(profile.frames_per_chunk * 4)],
        "compute_kv_cache": True,
        "imagine": False,
        "save_visualization": False,
        "state": np.zeros((30, profile.frames_per_chunk + 1, profile.actions_per_frame), np.float32),
    }


def _empty_maps(n: int) -> bytes:
    """An array32 of n empty maps: one byte of frame per ~70 bytes of Python dicts if decoded."""
    return b"\xdd" + struct.pack(">I", n) + b"\x80" * n


def _nested(depth: int) -> bytes:
    return b"\x91" * depth + b"\x01"


# -- the frame limit -----------------------------------------------------------------------------------
@pytest.mark.parametrize("family", sorted(SHAPES))
def test_largest_real_message_of_every_suite_fits_the_default_limit(family: str) -> None:
    frame = packb(lingbot_keyframes_message(SHAPES[family]))
    assert len(frame) <= DEFAULT_LIMITS.max_frame_bytes
    msg = unpackb(frame)
    assert len(msg["obs"]) == profile_for(SHAPES[family]).frames_per_chunk * 4


def test_default_limit_is_sized_to_the_largest_suite_not_arbitrarily_large() -> None:
    largest = max(len(packb(lingbot_keyframes_message(s))) for s in SHAPES.values())
    wam = registry.policies.get("teacher-25v50a")
    arrays = {f: largest_message_bytes(s, wam.request_observations(s)) for f, s in SHAPES.items()}
    # RoboTwin: 8 key frames of 3 x 240x320x3 images and a 30-d state.
    assert arrays["robotwin"] == 8 * (3 * 240 * 320 * 3 + 8 * 30)
    assert DEFAULT_LIMITS.max_frame_bytes == math.ceil(MARGIN * max(arrays.values()) / MIB) * MIB
    assert largest < DEFAULT_LIMITS.max_frame_bytes <= 2.5 * largest  # margin 2, rounded up to a MiB
    assert DEFAULT_LIMITS.max_array_bytes <= DEFAULT_LIMITS.max_frame_bytes


def test_a_larger_suite_gets_a_larger_limit() -> None:
    big = large_double_suite()
    frame = len(packb(lingbot_keyframes_message(big)))
    assert frame > DEFAULT_LIMITS.max_frame_bytes  # 1024 px LIBERO would not fit the default
    assert frame < frame_limit_for(registry.policies.get("flash-wam-1v1a"), [big]) <= 2.5 * frame


# -- object count and depth, before decoding -----------------------------------------------------------
def test_a_frame_of_empty_maps_is_refused_before_it_is_decoded() -> None:
    frame = _empty_maps((1 << 20) - 5)  # 1 MiB: about 75 MB of dicts if decoded
    tracemalloc.start()
    try:
        with pytest.raises(WireError, match="more than 65536 msgpack objects"):
            unpackb(frame)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"decoding allocated {peak / 1e6:.1f} MB before refusing"


def test_object_and_depth_limits_are_exact() -> None:
    limits = Limits(max_objects=101, max_depth=4)
    assert len(unpackb(_empty_maps(100), limits)) == 100  # the array and its 100 maps
    with pytest.raises(WireError, match="more than 101 msgpack objects"):
        unpackb(_empty_maps(101), limits)
    assert unpackb(_nested(4), limits) == [[[[1]]]]
    with pytest.raises(WireError, match="deeper than 4 levels"):
        unpackb(_nested(5), limits)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"\xdd\xff\xff\xff\xff\x80", "declares 4294967295 elements but only 1 bytes follow"),
        (b"\xdf\x00\x00\x10\x00" + b"\x01" * 100, "declares 8192 elements"),  # map32: 2 per entry
        (b"\x92\x01", "declares 2 elements but only 1 bytes follow"),
        (b"\x92\x01\xcb\x00", "truncated"),
        (b"\xc5\x00", "truncated"),
        (b"\xc1", "not a type"),
    ],
)
def test_scan_refuses_lies_and_truncation(frame: bytes, message: str) -> None:
    with pytest.raises(FrameScanError, match=message):
        scan(frame, 1 << 16, 16)


def _count(obj: Any, depth: int = 0) -> tuple[int, int]:
    """Objects and container depth of a decoded msgpack value, counted independently of the scan."""
    if isinstance(obj, dict):
        parts = [_count(x, depth + 1) for kv in obj.items() for x in kv]
    elif isinstance(obj, list):
        parts = [_count(x, depth + 1) for x in obj]
    else:
        return 1, depth
    return 1 + sum(p[0] for p in parts), max([depth + 1, *(p[1] for p in parts)])


@pytest.mark.parametrize(
    "value",
    [
        0,
        {},
        [[], {}],
        {"a": [1, -1, 2**40, -(2**40), 1.5, None, True, "x" * 40, b"y" * 300, "z" * 70000]},
        [{"k": [{"j": [[]]}]}, [1] * 20, {str(i): i for i in range(20)}],
    ],
)
def test_scan_counts_objects_and_depth_as_decoded(value: Any) -> None:
    frame = msgpack.packb(value, use_bin_type=True)
    shape = scan(frame, 1 << 16, 16)
    assert (shape.objects, shape.depth) == _count(msgpack.unpackb(frame, raw=False, strict_map_key=False))


def test_scan_of_a_real_observation_is_cheap() -> None:
    frame = packb(lingbot_keyframes_message(SHAPES["robotwin"]))
    shape = scan(frame, 1 << 16, 16)
    # a few hundred objects around 5.5 MB of arrays: the defaults leave two orders of magnitude
    assert shape.objects < DEFAULT_LIMITS.max_objects / 100 and shape.depth <= 5
    assert math.ceil(len(frame) / shape.objects) > 10_000


def _random_value(rng: np.random.Generator, depth: int) -> Any:
    kind = int(rng.integers(0, 9 if depth < 3 else 6))
    size = int(rng.choice([0, 1, 15, 16, 31, 32, 255, 256, 65536]))  # each msgpack length class
    if kind == 0:
        return int(rng.choice([0, 127, 128, 255, 256, 65536, -1, -32, -33, -129, -32769, -(2**40), 2**63]))
    if kind == 1:
        return float(rng.standard_normal())
    if kind == 2:
        return "s" * size
    if kind == 3:
        return b"b" * size
    if kind == 4:
        return bool(rng.integers(0, 2))
    if kind == 5:
        return None
    n = min(size, 17)
    if kind in (6, 7):
        return [_random_value(rng, depth + 1) for _ in range(n)]
    return {f"k{i}": _random_value(rng, depth + 1) for i in range(n)}


def test_scan_agrees_with_msgpack_on_random_values() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        value = _random_value(rng, 0)
        frame = msgpack.packb(value, use_bin_type=True)
        shape = scan(frame, 1 << 20, 64)
        assert (shape.objects, shape.depth) == _count(msgpack.unpackb(frame, raw=False))
        with pytest.raises(FrameScanError):  # every strict prefix is truncated (or lies about its size)
            scan(frame[: int(rng.integers(0, len(frame)))], 1 << 20, 64)
