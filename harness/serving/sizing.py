"""The largest frame a legitimate client sends, from the suite's declared geometry.

The frame limit is what one request may make the server hold, per connection, before any check of
its content, so it should be what the largest real request needs and no more. That request is
LingBot-VA's `compute_kv_cache`: after each chunk their clients send every key frame they observed,
4 video frames per latent frame (the Wan2.2 VAE's temporal stride) for each latent frame of the
chunk, each a full observation. So, per suite:

    observation_bytes = sum over cameras of H * W * 3  +  8 * state_dim      (uint8 images, f64 state)
    largest_message   = observations per request * observation_bytes
    frame limit       = MARGIN * largest_message, rounded up to a whole MiB, and never below the default

How many observations one request carries depends on the policy's chunk geometry, so the policy's
factory says it (`factory.request_observations(suite) -> int`; the WAM factory: its latent frames per
chunk times 4). A factory that does not say gets `MAX_REQUEST_OBSERVATIONS`, the most any LingBot-VA
client sends (its LIBERO client: 4 latent frames of 4 key frames).

MARGIN (2) covers msgpack's framing (a few dozen bytes per array), prompts, the action array sent
back with the key frames, and clients that render above the suite's resolution (the server resizes).
`DEFAULT_FRAME_BYTES` is that limit for the shipped suites (RoboTwin: 3 cameras of 240x320x3, 30-d
state, 2 latent frames per chunk; LIBERO: 2 cameras of 128x128x3, 8-d state, 4 latent frames):
RoboTwin's message is the largest, 8 * 691,440 = 5,531,520 bytes, so 11 MiB (recomputed from the
suites' declared geometry by tests/harness/serving/test_limits.py). A server for a suite configured
larger (e.g. LIBERO `image_size: 1024`) sizes its limit for that suite.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

KEYFRAMES_PER_LATENT_FRAME = 4  # LingBot-VA's clients: one observation per per_frame / 4 actions
MAX_REQUEST_OBSERVATIONS = 16  # LingBot-VA's LIBERO client: 4 latent frames x 4 key frames
MARGIN = 2
MIB = 1 << 20
DEFAULT_FRAME_BYTES = 11 * MIB


def observation_bytes(camera_shapes: Mapping[str, tuple[int, int, int]], state_dim: int) -> int:
    return sum(math.prod(shape) for shape in camera_shapes.values()) + 8 * int(state_dim)


def request_observations(factory: Any, suite: Any) -> int:
    """How many observations the largest request for `factory`'s policy on `suite` carries."""
    declared = getattr(factory, "request_observations", None)
    return int(declared(suite)) if callable(declared) else MAX_REQUEST_OBSERVATIONS


def largest_message_bytes(suite: Any, observations: int) -> int:
    """The bytes of array data in a request of `observations` observations of this suite."""
    return observations * observation_bytes(suite.camera_shapes, suite.state_dim)


def frame_limit(message_bytes: Iterable[int]) -> int:
    """MARGIN times the largest of `message_bytes`, in whole MiB; never below the default."""
    largest = max(message_bytes, default=0)
    return max(DEFAULT_FRAME_BYTES, math.ceil(MARGIN * largest / MIB) * MIB)


def frame_limit_for(factory: Any, suites: Iterable[Any]) -> int:
    """The frame limit of a server of `factory`'s policy for `suites` (and the shipped suites).

    A suite that does not declare its geometry (camera_shapes, state_dim) adds nothing.
    """
    sizes = []
    for suite in suites:
        try:
            sizes.append(largest_message_bytes(suite, request_observations(factory, suite)))
        except (AttributeError, TypeError, ValueError):
            continue
    return frame_limit(sizes)


__all__ = [
    "DEFAULT_FRAME_BYTES",
    "KEYFRAMES_PER_LATENT_FRAME",
    "MARGIN",
    "MAX_REQUEST_OBSERVATIONS",
    "frame_limit",
    "frame_limit_for",
    "largest_message_bytes",
    "observation_bytes",
    "request_observations",
]
