"""The wire codec: openpi's msgpack_numpy layout, exact round trips, and refusal of hostile frames."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest

from harness.serving.codec import Limits, WireError, packb, unpackb


def _openpi_array(arr: np.ndarray) -> dict[bytes, object]:
    """openpi's documented layout, built by hand: binary keys, numpy's dtype.str, the shape as a list."""
    return {b"__ndarray__": True, b"data": arr.tobytes(), b"dtype": arr.dtype.str, b"shape": list(arr.shape)}


@pytest.mark.parametrize(
    "arr",
    [
        np.arange(24, dtype=np.float32).reshape(2, 3, 4),
        np.arange(12, dtype=">f8").reshape(3, 4),  # big-endian survives: dtype.str carries the order
        np.zeros((4, 5, 3), np.uint8) + 7,
        np.array([True, False, True]),
        np.array([-(2**62), 2**62], dtype=np.int64),
        np.array(["pick", "place"]),
        np.zeros((0, 7), np.float32),
        np.array(3.5, dtype=np.float32),  # zero-dimensional
    ],
)
def test_round_trip_is_exact(arr: np.ndarray) -> None:
    out = unpackb(packb({"x": arr, "nested": [{"y": arr}]}))
    for got in (out["x"], out["nested"][0]["y"]):
        assert got.dtype == arr.dtype and got.shape == arr.shape
        assert np.array_equal(got, arr)
        assert got.flags.writeable  # a copy: the policy may write into its inputs


def test_non_contiguous_arrays_are_sent_as_their_values() -> None:
    arr = np.arange(20, dtype=np.float32).reshape(4, 5)[:, ::2]
    assert np.array_equal(unpackb(packb(arr)), arr)


def test_layout_is_openpis() -> None:
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    raw = msgpack.unpackb(packb({"a": arr, "s": np.int16(4)}), raw=False)
    assert raw["a"] == _openpi_array(arr)
    assert raw["s"] == {b"__npgeneric__": True, b"data": 4, b"dtype": "<i2"}


def test_decodes_frames_written_in_openpis_layout() -> None:
    img = np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    frame = msgpack.packb(
        {"obs": [{"observation.images.cam": _openpi_array(img)}], "prompt": "go", "reset": False},
        use_bin_type=True,
    )
    msg = unpackb(frame)
    assert np.array_equal(msg["obs"][0]["observation.images.cam"], img)
    assert msg["prompt"] == "go" and msg["reset"] is False


def test_scalars_keep_their_type() -> None:
    out = unpackb(packb({"a": np.int16(-3), "b": np.bool_(True), "c": np.float32(0.25)}))
    assert out["a"] == -3 and out["a"].dtype == np.int16
    assert out["b"] == np.True_ and out["c"].dtype == np.float32


@pytest.mark.parametrize(
    "arr",
    [
        np.array([1 + 2j]),
        np.array([object()], dtype=object),
        np.zeros(2, dtype=[("a", "<i4")]),
        np.array(["2020-01-01"], dtype="datetime64[D]"),
    ],
)
def test_refuses_to_send_object_void_complex_datetime(arr: np.ndarray) -> None:
    with pytest.raises(WireError, match="not accepted"):
        packb({"x": arr})


def test_refuses_to_send_unknown_objects() -> None:
    with pytest.raises(TypeError, match="cannot send"):
        packb({"x": {1, 2}})


def _array_frame(**fields: object) -> bytes:
    base: dict[bytes, object] = {b"__ndarray__": True, b"data": b"\0" * 8, b"dtype": "<f4", b"shape": [2]}
    base.update({k.encode(): v for k, v in fields.items()})
    return msgpack.packb({"x": base}, use_bin_type=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"dtype": "|O"}, "numpy type string"),
        ({"dtype": "O"}, "numpy type string"),
        ({"dtype": "i4,O"}, "numpy type string"),
        ({"dtype": "[('a', 'O')]"}, "numpy type string"),
        ({"dtype": "<c16"}, "numpy type string"),
        ({"dtype": "|V8"}, "numpy type string"),
        ({"dtype": 4}, "numpy type string"),
        ({"shape": [3]}, "needs 12 bytes, got 8"),
        ({"shape": [-2]}, "non-negative"),
        ({"shape": "2"}, "list of non-negative"),
        ({"shape": [1.5]}, "list of non-negative"),
        ({"shape": [1] * 9, "data": b"\0" * 4}, "dimensions"),
        ({"data": "text"}, "binary"),
        ({"shape": [10**6, 10**6]}, "the limit is"),
    ],
)
def test_hostile_array_maps_are_wire_errors(fields: dict[str, object], message: str) -> None:
    with pytest.raises(WireError, match=message):
        unpackb(_array_frame(**fields))


def test_missing_array_fields_are_wire_errors() -> None:
    frame = msgpack.packb({"x": {b"__ndarray__": True, b"dtype": "<f4"}}, use_bin_type=True)
    with pytest.raises(WireError, match="lacks"):
        unpackb(frame)


def test_limits_apply_to_arrays_and_frames() -> None:
    limits = Limits(max_frame_bytes=4096, max_array_bytes=1024, max_ndim=2)
    ok = packb({"a": np.zeros(256, np.float32)})  # exactly 1024 bytes
    assert unpackb(ok, limits)["a"].shape == (256,)
    with pytest.raises(WireError, match="1028 bytes; the limit is 1024"):
        unpackb(packb({"a": np.zeros(257, np.float32)}), limits)
    with pytest.raises(WireError, match="3 dimensions"):
        unpackb(packb({"a": np.zeros((1, 1, 1), np.float32)}), limits)
    with pytest.raises(WireError, match="frame is"):
        unpackb(packb({"a": b"\0" * 5000}), limits)


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\xc1",  # never-used msgpack byte
        b"\x92\x01",  # truncated array
        msgpack.packb({1: 2}),  # integer map key
        msgpack.packb(msgpack.ExtType(5, b"x")),
        msgpack.packb([1]) + b"\x00",  # trailing bytes
        b"\xdb\xff\xff\xff\xff",  # str32 claiming 4 GiB
        b"\xa2\xff\xfe",  # invalid UTF-8
    ],
)
def test_malformed_frames_are_wire_errors(frame: bytes) -> None:
    with pytest.raises(WireError):
        unpackb(frame)


def test_text_frames_are_wire_errors() -> None:
    with pytest.raises(WireError, match="binary"):
        unpackb("hello")  # type: ignore[arg-type]


def test_random_bytes_never_escape_as_other_errors() -> None:
    rng = np.random.default_rng(7)
    outcomes = {"decoded": 0, "refused": 0}
    valid = packb({"obs": {"img": np.zeros((4, 4, 3), np.uint8)}, "prompt": "x", "state": np.ones(3)})
    for i in range(600):
        if i % 2:
            frame = rng.integers(0, 256, int(rng.integers(1, 200)), dtype=np.uint8).tobytes()
        else:  # flip bytes of a valid frame: reaches the array decoder with damaged fields
            buf = bytearray(valid)
            for pos in rng.integers(0, len(buf), 3):
                buf[pos] = int(rng.integers(0, 256))
            frame = bytes(buf)
        try:
            unpackb(frame)
            outcomes["decoded"] += 1
        except WireError:  # anything else escaping fails the test
            outcomes["refused"] += 1
    assert outcomes["refused"] > 300 and sum(outcomes.values()) == 600
