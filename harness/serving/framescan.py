"""Count a msgpack frame's objects and nesting before anything is decoded.

msgpack spends one byte on an empty map, and Python spends about 70 on the dict (plus its slot in the
parent list): a 16 MiB frame of empty maps decodes into more than 1 GB before any check of ours sees
it. msgpack's own `max_*_len` options bound each container's length, not how many there are. So the
frame is walked token by token first, allocating nothing per token, and refused as soon as it holds
more objects, nests deeper, or declares more elements than its remaining bytes could encode. Binary
and string payloads are skipped by their length, so the walk costs per object, not per byte: a
legitimate observation (a few hundred objects around a few large arrays) scans in microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass


class FrameScanError(ValueError):
    """The frame is malformed or over one of the scan's bounds; the message says which."""


@dataclass(frozen=True)
class FrameShape:
    objects: int  # every msgpack object: maps, arrays, strings, numbers, ...
    depth: int  # deepest container nesting (a bare scalar is depth 0)


# Payload-carrying types: header byte -> (bytes of the length field, extra fixed bytes before payload).
_SIZED = {
    0xC4: (1, 0),  # bin 8
    0xC5: (2, 0),  # bin 16
    0xC6: (4, 0),  # bin 32
    0xD9: (1, 0),  # str 8
    0xDA: (2, 0),  # str 16
    0xDB: (4, 0),  # str 32
    0xC7: (1, 1),  # ext 8 (type byte after the length)
    0xC8: (2, 1),  # ext 16
    0xC9: (4, 1),  # ext 32
}
# Fixed-size scalars and fixext: header byte -> bytes after the header.
_FIXED = {
    0xC0: 0, 0xC2: 0, 0xC3: 0,  # nil, false, true
    0xCA: 4, 0xCB: 8,  # float 32/64
    0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8,  # uint 8..64
    0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8,  # int 8..64
    0xD4: 2, 0xD5: 3, 0xD6: 5, 0xD7: 9, 0xD8: 17,  # fixext 1..16 (type byte + data)
}  # fmt: skip
# Containers with a length field: header byte -> (bytes of the length field, children per element).
_CONTAINERS = {0xDC: (2, 1), 0xDD: (4, 1), 0xDE: (2, 2), 0xDF: (4, 2)}


def scan(frame: bytes | bytearray | memoryview, max_objects: int, max_depth: int) -> FrameShape:
    """Walk one msgpack object; raise FrameScanError past `max_objects` objects or `max_depth` levels.

    Only the bounds are checked here (and truncation, which the walk notices anyway); everything else
    (trailing bytes, invalid UTF-8, key types, extension types) is left to the decoder.
    """
    buf = memoryview(frame).cast("B") if not isinstance(frame, bytes) else frame
    end = len(buf)
    pos = 0
    objects = 0
    deepest = 0
    # Children still to read in each open container, innermost last. One object is expected at top.
    pending = [1]
    while pending:
        if pending[-1] == 0:
            pending.pop()
            continue
        pending[-1] -= 1
        if pos >= end:
            raise FrameScanError(f"truncated msgpack frame: it ends inside an object at byte {pos}")
        objects += 1
        if objects > max_objects:
            raise FrameScanError(f"frame holds more than {max_objects} msgpack objects (the limit)")
        head = buf[pos]
        pos += 1
        children = 0
        if head <= 0x7F or head >= 0xE0:  # positive / negative fixint
            continue
        if head <= 0x8F:  # fixmap
            children = 2 * (head & 0x0F)
        elif head <= 0x9F:  # fixarray
            children = head & 0x0F
        elif head <= 0xBF:  # fixstr
            pos += head & 0x1F
            continue
        elif head in _FIXED:
            pos += _FIXED[head]
            continue
        elif head in _SIZED:
            width, extra = _SIZED[head]
            if pos + width > end:
                raise FrameScanError(f"truncated msgpack frame: a length field runs past byte {end}")
            pos += width + extra + int.from_bytes(buf[pos : pos + width], "big")
            continue
        elif head in _CONTAINERS:
            width, per = _CONTAINERS[head]
            if pos + width > end:
                raise FrameScanError(f"truncated msgpack frame: a length field runs past byte {end}")
            children = per * int.from_bytes(buf[pos : pos + width], "big")
            pos += width
        else:  # 0xC1: never used
            raise FrameScanError(f"malformed msgpack frame: byte 0x{head:02x} at {pos - 1} is not a type")
        if children == 0:
            deepest = max(deepest, len(pending))
            continue
        # Every child takes at least one byte: a header that promises more is a lie told to make a
        # decoder pre-allocate, and is refused before the walk goes further.
        if children > end - pos:
            raise FrameScanError(
                f"a msgpack container at byte {pos} declares {children} elements but only "
                f"{end - pos} bytes follow"
            )
        if len(pending) > max_depth:
            raise FrameScanError(f"frame nests containers deeper than {max_depth} levels (the limit)")
        deepest = max(deepest, len(pending))
        pending.append(children)
    if pos > end:
        raise FrameScanError(f"truncated msgpack frame: a payload runs {pos - end} bytes past its end")
    return FrameShape(objects, deepest)


__all__ = ["FrameScanError", "FrameShape", "scan"]
