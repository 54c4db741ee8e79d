"""msgpack frames with numpy arrays, byte-compatible with openpi's `msgpack_numpy`.

openpi (and LingBot-VA, which vendors the same file) encode an array as a map with *binary* keys
`__ndarray__`, `data`, `dtype` (numpy's `dtype.str`, e.g. `<f4`) and `shape`, and a numpy scalar as
`__npgeneric__` / `data` / `dtype`. Speaking exactly that layout lets their clients and servers talk
to ours unchanged. We do not depend on `openpi-client` (it pins numpy<2, which the simulators cannot
use) nor on `msgpack-numpy` (a different layout, and it falls back to pickle for object arrays).

Decoding is for untrusted input: no pickle, only plain numeric/bool/string dtypes, shape and byte
length checked against each other, and size limits enforced before any array is built. The frame's
object count and nesting depth are bounded before msgpack decodes anything (framescan.py: one byte of
msgpack can cost ~70 bytes of Python objects). Every problem is a `WireError` whose message can be
sent back to the peer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np

from harness.serving.framescan import FrameScanError, scan
from harness.serving.sizing import DEFAULT_FRAME_BYTES

# Kinds that are plain bytes with a fixed meaning. Object ("O") would need pickle, void ("V") can hide
# object fields inside a structured dtype, complex ("c") has no use here and openpi refuses it too;
# datetime kinds ("M", "m") are refused as pointless surface.
ALLOWED_KINDS = frozenset("biufUS")

_ND, _NG = b"__ndarray__", b"__npgeneric__"
# numpy's `dtype.str` form (byte order, kind, item size): nothing else is parsed, so no structured or
# object dtype can be spelled on the wire in the first place.
_DTYPE_STR = re.compile(r"[<>|=]?[biufUS][0-9]{1,4}")


class WireError(ValueError):
    """A frame that cannot be accepted: malformed, refused dtype, or over a limit."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what a peer may send. The frame limit is also the websocket `max_size`.

    The frame default is sized to the largest suite's largest message (sizing.py). A real request
    holds a few hundred msgpack objects (maps, keys, shapes) around a few large arrays, nested about
    five deep; `max_objects` and `max_depth` leave two orders of magnitude and a factor of three of
    room, and bound what a hostile frame can cost to about `max_objects` * 100 bytes (~6 MB) of Python
    objects beyond the frame's own bytes.
    """

    max_frame_bytes: int = DEFAULT_FRAME_BYTES
    max_array_bytes: int = DEFAULT_FRAME_BYTES
    max_ndim: int = 8
    max_objects: int = 1 << 16
    max_depth: int = 16

    def as_dict(self) -> dict[str, int]:
        return {
            "max_frame_bytes": self.max_frame_bytes,
            "max_array_bytes": self.max_array_bytes,
            "max_ndim": self.max_ndim,
            "max_objects": self.max_objects,
            "max_depth": self.max_depth,
        }


DEFAULT_LIMITS = Limits()


def _check_dtype(dtype: np.dtype[Any]) -> None:
    if dtype.kind not in ALLOWED_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"dtype {dtype.str!r} is not accepted (only bool, int, uint, float, str, bytes)")


def _encode_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        _check_dtype(obj.dtype)
        data = np.ascontiguousarray(obj).tobytes()
        return {_ND: True, b"data": data, b"dtype": obj.dtype.str, b"shape": list(obj.shape)}
    if isinstance(obj, np.generic):
        _check_dtype(obj.dtype)
        return {_NG: True, b"data": obj.item(), b"dtype": obj.dtype.str}
    raise TypeError(f"cannot send a {type(obj).__name__} over the wire (use numpy arrays and plain types)")


def packb(obj: Any) -> bytes:
    """Encode a message. Raises WireError for refused dtypes, TypeError for unsupported objects."""
    return msgpack.packb(obj, default=_encode_default, use_bin_type=True)


def _field(obj: dict[Any, Any], name: str) -> Any:
    # openpi writes binary keys; tolerate text keys from other encoders of the same layout.
    key = name.encode()
    if key in obj:
        return obj[key]
    if name in obj:
        return obj[name]
    raise WireError(f"array map lacks the '{name}' field")


def _parse_dtype(raw: Any) -> np.dtype[Any]:
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    if not isinstance(raw, str) or not _DTYPE_STR.fullmatch(raw):
        raise WireError(f"array dtype must be a numpy type string like '<f4' or '|u1', got {raw!r:.40}")
    try:
        dtype = np.dtype(raw)
    except (TypeError, ValueError, SyntaxError) as exc:
        raise WireError(f"unknown dtype {raw!r}: {exc}") from None
    _check_dtype(dtype)
    return dtype


class _Decoder:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def hook(self, obj: dict[Any, Any]) -> Any:
        if _ND in obj or "__ndarray__" in obj:
            return self._array(obj)
        if _NG in obj or "__npgeneric__" in obj:
            return self._scalar(obj)
        return obj

    def _array(self, obj: dict[Any, Any]) -> np.ndarray:
        dtype = _parse_dtype(_field(obj, "dtype"))
        shape = _field(obj, "shape")
        data = _field(obj, "data")
        if not isinstance(data, bytes):
            raise WireError("array data must be binary")
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            raise WireError(f"array shape must be a list of non-negative integers, got {shape!r:.60}")
        if len(shape) > self.limits.max_ndim:
            raise WireError(f"array has {len(shape)} dimensions; the limit is {self.limits.max_ndim}")
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes > self.limits.max_array_bytes:
            raise WireError(
                f"array of shape {tuple(shape)} {dtype.str} is {nbytes} bytes; "
                f"the limit is {self.limits.max_array_bytes}"
            )
        if nbytes != len(data):
            raise WireError(f"array shape {tuple(shape)} {dtype.str} needs {nbytes} bytes, got {len(data)}")
        # A copy: the policy may write into its inputs, and the frame's buffer is read-only.
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()

    def _scalar(self, obj: dict[Any, Any]) -> np.generic:
        dtype = _parse_dtype(_field(obj, "dtype"))
        value = _field(obj, "data")
        if not isinstance(value, (bool, int, float, str, bytes)):
            raise WireError(f"numpy scalar data must be a plain value, got {type(value).__name__}")
        try:
            out: np.generic = dtype.type(value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise WireError(f"bad {dtype.str} scalar {value!r:.40}: {exc}") from None
        return out


def _ext_hook(code: int, data: bytes) -> Any:
    raise WireError(f"msgpack extension types are not accepted (got type {code})")


def unpackb(frame: bytes, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Decode one frame from an untrusted peer; every failure is a WireError."""
    if not isinstance(frame, (bytes, bytearray, memoryview)):
        raise WireError(f"expected a binary frame, got {type(frame).__name__}")
    if len(frame) > limits.max_frame_bytes:
        raise WireError(f"frame is {len(frame)} bytes; the limit is {limits.max_frame_bytes}")
    try:
        scan(frame, limits.max_objects, limits.max_depth)
    except FrameScanError as exc:
        raise WireError(str(exc)) from None
    decoder = _Decoder(limits)
    try:
        return msgpack.unpackb(
            frame,
            object_hook=decoder.hook,
            ext_hook=_ext_hook,
            raw=False,
            strict_map_key=True,
            timestamp=0,
            # Checked by the scan already; msgpack's own bounds stay as a second line.
            max_array_len=limits.max_objects,
            max_map_len=limits.max_objects,
        )
    except WireError:
        raise
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise WireError(f"malformed msgpack frame: {type(exc).__name__}: {exc}") from None
    except Exception as exc:  # msgpack's C decoder raises a few others on hostile input
        raise WireError(f"malformed msgpack frame: {type(exc).__name__}: {exc}") from None


__all__ = ["ALLOWED_KINDS", "DEFAULT_LIMITS", "Limits", "WireError", "packb", "unpackb"]
