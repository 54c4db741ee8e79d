"""HTTP answers for everything that is not a websocket upgrade: health, wrong methods, garbage.

The policy server speaks websocket on a plain TCP port, so curl, a browser, a load balancer's probe or
a mistyped client reach it too. Each gets an HTTP status and one line saying what this port is:
- `GET /healthz` (any method): 200 `OK`.
- another method (`POST /infer` from an HTTP client, say): 405, `Allow: GET`.
- a plain `GET` without the upgrade headers (a browser): 426 Upgrade Required.
- a request websockets cannot parse at all (a body, chunked encoding, not HTTP/1.1, binary): websockets
  would close the socket without a word (curl: "Empty reply from server"); `AnsweringConnection`
  sends a 405 (a method other than GET) or 400 first.
"""

from __future__ import annotations

import http
import re
from typing import Any

from websockets.exceptions import InvalidMessage
from websockets.protocol import CONNECTING
from websockets.server import ServerProtocol
from websockets.sync.server import Request, Response, ServerConnection

HEALTH_PATH = "/healthz"
WHAT_THIS_IS = (
    "this is a wambench policy server: it speaks websocket + msgpack (connect with "
    "`remote` policies, LingBot-VA's or openpi's websocket clients); GET /healthz answers health"
)
_METHOD = re.compile(rb"[A-Z]{3,10} ")


def process_request(connection: ServerConnection, request: Request) -> Response | None:
    """websockets' `process_request` hook: health and wrong methods; None lets the handshake proceed."""
    if request.path == HEALTH_PATH:
        return connection.respond(http.HTTPStatus.OK, "OK\n")
    if request.method != "GET":
        response = connection.respond(
            http.HTTPStatus.METHOD_NOT_ALLOWED, f"{request.method} is not served: {WHAT_THIS_IS}\n"
        )
        response.headers["Allow"] = "GET"
        return response
    if request.headers.get("Upgrade", "").lower() != "websocket":
        response = connection.respond(http.HTTPStatus.UPGRADE_REQUIRED, f"{WHAT_THIS_IS}\n")
        response.headers["Upgrade"] = "websocket"
        return response
    return None


class _AnsweringProtocol(ServerProtocol):
    """websockets' server protocol, answering a request it cannot parse instead of hanging up.

    websockets handles an unparseable request by sending EOF (ServerProtocol.parse); this intercepts
    that EOF while the handshake is still pending and sends an HTTP error ahead of it.
    """

    _prefix = b""  # the first bytes received, to name the method in the answer
    _answered = False

    def receive_data(self, data: bytes | bytearray) -> None:
        if len(self._prefix) < 16:
            self._prefix = (self._prefix + bytes(data))[:16]
        super().receive_data(data)

    def send_eof(self) -> None:
        unparsed = self.state is CONNECTING and isinstance(self.handshake_exc, InvalidMessage)
        if not unparsed or self._answered:
            super().send_eof()
            return
        self._answered = True
        method = _METHOD.match(self._prefix)
        cause = self.handshake_exc.__cause__ if self.handshake_exc is not None else None
        why = f" ({cause})" if cause is not None and str(cause) else ""
        if method is not None and method.group().strip() != b"GET":
            name = method.group().strip().decode()
            response = self.reject(
                http.HTTPStatus.METHOD_NOT_ALLOWED, f"{name} is not served{why}: {WHAT_THIS_IS}\n"
            )
            response.headers["Allow"] = "GET"
        else:
            response = self.reject(
                http.HTTPStatus.BAD_REQUEST, f"not a websocket upgrade request{why}: {WHAT_THIS_IS}\n"
            )
        self.send_response(response)  # sends the EOF itself, through this method again


class AnsweringConnection(ServerConnection):
    """`serve(create_connection=...)`: a ServerConnection whose protocol answers bad requests.

    websockets' `serve` builds the ServerProtocol itself and offers no hook to choose its class, so the
    instance is given the subclass (which adds behaviour only, no state of its own) before any byte is
    read.
    """

    def __init__(self, socket: Any, protocol: ServerProtocol, *args: Any, **kwargs: Any) -> None:
        if type(protocol) is ServerProtocol:
            protocol.__class__ = _AnsweringProtocol
        super().__init__(socket, protocol, *args, **kwargs)


__all__ = ["HEALTH_PATH", "WHAT_THIS_IS", "AnsweringConnection", "process_request"]
