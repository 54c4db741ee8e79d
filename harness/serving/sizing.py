"""The largest frame a legitimate client sends, from the suites' declared geometry.

The frame limit is what one request may make the server hold, per connection, before any check of
its content, so it should be what the largest real request needs and no more. That request is
LingBot-VA's `compute_kv_cache`: after each chunk their clients send every key frame they observed,
4 video frames per latent frame (the Wan2.2 VAE's temporal stride) for each latent frame of the
chunk, each a full observation. So, per suite:

    observation_bytes = sum over cameras of H * W * 3  +  8 * state_dim      (uint8 images, f64 state)
    largest_message   = frames_per_chunk * 4 * observation_bytes
    frame limit       = MARGIN * max over suites of largest_message, rounded up to a whole MiB

MARGIN (2) covers msgpack's framing (a few dozen bytes per array), prompts, the action array sent
back with the key frames, and clients that render above the suite's resolution (the server resizes).
With the shipped geometry (RoboTwin: 3 cameras of 240x320x3, 30-d state, 2 latent frames per chunk;
LIBERO: 2 cameras of 128x128x3, 8-d state, 4 latent frames) RoboTwin's message is the largest,
8 * 691,440 = 5,531,520 bytes, so the default limit is 11 MiB. A server for a suite configured larger
(e.g. LIBERO `image_size: 1024`) sizes its limit for that suite too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from policies.wam.profiles import SHAPES, profile_for

KEYFRAMES_PER_LATENT_FRAME = 4  # LingBot-VA's clients: one observation per per_frame / 4 actions
MARGIN = 2
MIB = 1 << 20


def observation_bytes(camera_shapes: Mapping[str, tuple[int, int, int]], state_dim: int) -> int:
    return sum(math.prod(shape) for shape in camera_shapes.values()) + 8 * int(state_dim)


def largest_message_bytes(suite: Any) -> int:
    """The bytes of array data in the largest request a client of this suite sends (see module doc)."""
    frames = profile_for(suite).frames_per_chunk * KEYFRAMES_PER_LATENT_FRAME
    return frames * observation_bytes(suite.camera_shapes, suite.state_dim)


def frame_limit_for(suites: Iterable[Any]) -> int:
    """MARGIN times the largest message of any of `suites` and of the shipped suites, in whole MiB.

    A suite that does not declare its geometry (camera_shapes, state_dim) adds nothing.
    """
    sizes = [largest_message_bytes(s) for s in SHAPES.values()]
    for suite in suites:
        try:
            sizes.append(largest_message_bytes(suite))
        except (AttributeError, TypeError, ValueError):
            continue
    return math.ceil(MARGIN * max(sizes) / MIB) * MIB


DEFAULT_FRAME_BYTES = frame_limit_for(())

__all__ = [
    "DEFAULT_FRAME_BYTES",
    "KEYFRAMES_PER_LATENT_FRAME",
    "MARGIN",
    "frame_limit_for",
    "largest_message_bytes",
    "observation_bytes",
]
