"""A test's side of the wire to a real server on loopback: open a connection (and read the server's
metadata), send one message and read its reply, and the doubles' observations to send."""

from __future__ import annotations

from typing import Any

import numpy as np
from websockets.sync.client import ClientConnection, connect

from harness.serving.codec import packb, unpackb
from harness.serving.server import PolicyServer
from harness.types import Observation


def open_client(srv: PolicyServer) -> tuple[ClientConnection, Any]:
    """A connection to `srv` and the metadata it sends first."""
    ws = connect(srv.url, compression=None, max_size=None, proxy=None, open_timeout=10).__enter__()
    return ws, unpackb(ws.recv(timeout=10))


def call(ws: ClientConnection, msg: dict[str, Any]) -> Any:
    """Send `msg`; the decoded reply, or the text frame the server answered with (an error)."""
    ws.send(packb(msg))
    reply = ws.recv(timeout=10)
    return reply if isinstance(reply, str) else unpackb(reply)


def observation(step: int, instruction: str = "pick up the bowl") -> Observation:
    """The doubles' observation drawn from `step`: two 16 px cameras and 8 state values."""
    rng = np.random.default_rng(step)
    images = {c: rng.integers(0, 255, (16, 16, 3), dtype=np.uint8) for c in ("agentview", "wrist")}
    return Observation(images, rng.standard_normal(8), instruction)
