"""A blocking websocket client for policy servers (wambench's, LingBot-VA's, openpi's).

It connects with retries and exponential backoff (a server may still be loading weights), bounds
every call by a timeout, and turns every way a server can fail into one of two errors: `ServerGone`
(unreachable, closed, killed, or silent past the timeout; the connection is dropped and the next
`connect` starts afresh) and `RemoteError` (the server answered with an error text).

Keep-alive pings are off, as in LingBot-VA's own client: their server runs inference on its event
loop and cannot answer pings during a multi-second chunk. A dead peer is still noticed at once (the
socket closes) or, at worst, when the call timeout expires.
"""

from __future__ import annotations

import contextlib
import inspect
import time
from typing import Any

import websockets
from websockets.sync.client import ClientConnection, connect

from harness.serving.codec import DEFAULT_LIMITS, Limits, WireError, packb, unpackb

BAD_REQUEST_PREFIX = "wambench: bad request: "
# websockets >= 15 honours proxy environment variables unless told not to; older releases have no
# such parameter (and would hand it to the socket). A policy server is reached directly.
_DIRECT = {"proxy": None} if "proxy" in inspect.signature(connect).parameters else {}


class ServerGone(ConnectionError):
    """The server cannot be reached, closed the connection, or did not answer in time."""


class RemoteError(RuntimeError):
    """The server replied with an error text instead of a msgpack frame."""


class WireClient:
    def __init__(
        self,
        url: str,
        *,
        connect_timeout_s: float = 30.0,
        call_timeout_s: float = 300.0,
        backoff_s: tuple[float, float] = (0.05, 2.0),
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.url = url
        self.connect_timeout_s = connect_timeout_s
        self.call_timeout_s = call_timeout_s
        self.backoff_s = backoff_s
        self.limits = limits
        self.metadata: dict[str, Any] = {}
        self.connects = 0  # successful connections so far (reconnects show up here)
        self._ws: ClientConnection | None = None

    @property
    def connected(self) -> bool:
        return self._ws is not None

    def connect(self) -> dict[str, Any]:
        """Connect (retrying until connect_timeout_s) and return the server's metadata map."""
        self.close()
        deadline = time.monotonic() + self.connect_timeout_s
        delay, max_delay = self.backoff_s
        last: Exception | None = None
        while True:
            remaining = deadline - time.monotonic()
            try:
                # Entered as a context manager (which yields the connection in every websockets
                # release): websockets 17 deprecates using the return value of connect() directly.
                ws = connect(
                    self.url,
                    compression=None,
                    max_size=self.limits.max_frame_bytes,
                    open_timeout=max(1.0, min(10.0, remaining)),
                    ping_interval=None,
                    close_timeout=2,
                    **_DIRECT,
                ).__enter__()
            except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
                last = exc
            else:
                try:
                    meta = self._recv(ws, max(1.0, remaining))
                except ServerGone as exc:
                    last = exc
                else:
                    if not isinstance(meta, dict):
                        ws.close()
                        raise RemoteError(f"{self.url} sent {type(meta).__name__} as metadata, not a map")
                    self._ws, self.metadata = ws, meta
                    self.connects += 1
                    return meta
            if time.monotonic() + delay > deadline:
                raise ServerGone(
                    f"no policy server at {self.url} after {self.connect_timeout_s:.0f}s ({last}); "
                    "start one with `wambench serve --policy NAME --suite SUITE`"
                )
            time.sleep(delay)
            delay = min(delay * 2, max_delay)

    def _recv(self, ws: ClientConnection, timeout: float) -> Any:
        try:
            frame = ws.recv(timeout=timeout)
        except TimeoutError:
            ws.close()
            raise ServerGone(f"{self.url} sent nothing for {timeout:.0f}s") from None
        except websockets.ConnectionClosed as exc:
            raise ServerGone(f"{self.url} closed the connection ({exc})") from None
        if isinstance(frame, str):
            if not frame.startswith(BAD_REQUEST_PREFIX):  # a server-side failure: it closes after this
                ws.close()
                self._ws = None
            raise RemoteError(frame)
        try:
            return unpackb(frame, self.limits)
        except WireError as exc:
            ws.close()
            raise ServerGone(f"{self.url} sent an unreadable frame: {exc}") from None

    def call(self, msg: dict[str, Any], timeout_s: float | None = None) -> dict[str, Any]:
        """Send one request and wait for its reply (raises ServerGone or RemoteError)."""
        if self._ws is None:
            raise ServerGone(f"not connected to {self.url}")
        ws = self._ws
        data = packb(msg)
        try:
            ws.send(data)
            reply = self._recv(ws, self.call_timeout_s if timeout_s is None else timeout_s)
        except ServerGone:
            self._ws = None
            raise
        except websockets.ConnectionClosed as exc:
            self._ws = None
            raise ServerGone(f"{self.url} closed the connection ({exc})") from None
        if not isinstance(reply, dict):
            raise RemoteError(f"{self.url} replied with a {type(reply).__name__}, not a map")
        return reply

    def close(self) -> None:
        if self._ws is not None:
            # Closing a broken socket may fail in many ways; it is gone either way.
            with contextlib.suppress(Exception):
                self._ws.close()
            self._ws = None


__all__ = ["RemoteError", "ServerGone", "WireClient"]
