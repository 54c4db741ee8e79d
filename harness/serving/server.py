"""The policy server behind `wambench serve`: websocket + msgpack, one thread per connection.

Each connection gets its own Session, hence its own Policy (state is never shared between clients).
With `batching` (what `wambench serve` does by default), sessions of one suite share one network
where the policy's factory offers that (sharing.py; the WAM factory batches their velocity calls, the
sessions taking turns on the network); otherwise each connection builds its own policy and a
semaphore lets `max_concurrent` policy calls run at once (1 by default: one accelerator). Like
openpi's server it sends a metadata map on connect, answers `GET /healthz`, and adds `server_timing`
(`infer_ms`, `prev_total_ms`, and the policy's own stage timings as `<stage>_ms`) to every reply.

A bad frame (not msgpack, refused dtype, over a limit, wrong types) gets a text reply starting with
`wambench: bad request:` and the connection stays usable; a frame over `max_frame_bytes` is refused
by the websocket layer (close code 1009). A failure inside the policy gets the traceback as text and
that connection is closed (what openpi's and LingBot-VA's clients expect). Other connections are
never affected.

What one client can hold is bounded: `max_connections` connections at once (each holds a Policy and
a thread; one more is closed at once with 1013 "try again later" and the reason), a connection that
sends nothing for `idle_timeout_s` is closed (1000, reason given; `remote` policies reconnect at their
next reset), a frame's size is bounded by `limits` (sized to the suite: sizing.py) and its decoded
object count and depth before decoding (framescan.py). Requests that are not websocket upgrades get an
HTTP error (handshake.py).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import traceback
from collections.abc import Mapping
from typing import Any

import websockets
from websockets.frames import CloseCode
from websockets.sync.server import ServerConnection, serve

from harness import registry
from harness.serving.codec import Limits, WireError, packb, unpackb
from harness.serving.handshake import AnsweringConnection, process_request
from harness.serving.session import PROTOCOL_VERSION, ProtocolError, Session
from harness.serving.sharing import BatchSettings, SharedSessions, shared_sessions
from harness.serving.sizing import frame_limit_for
from harness.types import Policy, PolicyFactory, PolicySpec, Suite

log = logging.getLogger("wambench.serve")

LOOPBACK = ("127.0.0.1", "::1", "localhost")
BAD_REQUEST = "wambench: bad request: "
# Each connection holds a thread and its own Policy (weights shared, context not): enough for a
# runner's workers on one machine, few enough that a leaking client cannot exhaust the host.
DEFAULT_MAX_CONNECTIONS = 32
# A client between requests is stepping its simulator (seconds per chunk; a RoboTwin reset that
# searches expert-solvable seeds can take minutes). Past this it is taken to be gone.
DEFAULT_IDLE_TIMEOUT_S = 600.0


def _plain(value: Any) -> Any:
    """A msgpack-safe copy of spec details (anything exotic becomes its repr)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


class PolicyServer:
    def __init__(
        self,
        factory: PolicyFactory,
        *,
        options: Mapping[str, Any] | None = None,
        suite: str | None = None,
        suite_options: Mapping[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 8000,
        limits: Limits | None = None,
        seed: int = 0,
        actions_per_frame: int | None = None,
        max_concurrent: int = 1,
        max_bad_requests: int = 32,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
        batching: BatchSettings | None = None,
    ) -> None:
        if max_connections < 1 or idle_timeout_s <= 0:
            raise ValueError("max_connections must be >= 1 and idle_timeout_s > 0")
        self.factory = factory
        self.options = dict(options or {})
        self.suite_options = dict(suite_options or {})
        self._suites: dict[str, Suite] = {}
        self._suites_lock = threading.Lock()
        # Clients name the suite as the suite names itself (EpisodeSpec.suite), so keep that name.
        self.suite_name = str(self._suite(suite).name) if suite is not None else None
        self.host = host
        self.port = port
        self.limits = limits if limits is not None else self._default_limits(suite)
        self.seed = seed
        self.actions_per_frame = actions_per_frame
        self.max_bad_requests = max_bad_requests
        self._gate = threading.BoundedSemaphore(max_concurrent)
        self.max_connections = max_connections
        self.idle_timeout_s = idle_timeout_s
        self._slots = threading.BoundedSemaphore(max_connections)
        self._server: Any = None
        self._built_spec: PolicySpec | None = None
        # batching (None: a policy per connection, run under the gate): per suite, the template policy
        # whose network every session shares, and the sessions its factory offers (sharing.py)
        self.batching = batching
        self._batchers: dict[str, tuple[Policy, SharedSessions] | None] = {}
        self._thread: threading.Thread | None = None
        self.connections = 0

    def _default_limits(self, suite: str | None) -> Limits:
        """The default limits, with the frame limit raised to fit this server's suite if it is larger."""
        frame = frame_limit_for(self.factory, [self._suite(suite)] if suite is not None else [])
        return Limits(max_frame_bytes=frame, max_array_bytes=frame)

    # -- policies --------------------------------------------------------------------------------
    def _suite(self, name: str) -> Suite:
        """The suite by registry name, `module:attr`, or the name a built suite calls itself."""
        with self._suites_lock:
            if name not in self._suites:
                suite = registry.suites.get(name)(**self.suite_options)
                self._suites[name] = self._suites[str(suite.name)] = suite
            return self._suites[name]

    def build(self, suite_name: str | None) -> tuple[Policy, Suite]:
        """A fresh Policy for one connection (the factory may share read-only weights internally)."""
        if suite_name is None:
            raise ProtocolError("no suite named")
        suite = self._suite(suite_name)
        if self.batching is not None:
            shared = self._shared(suite)
            if shared is not None:
                return shared[1].session(), suite
        # Called from Session.handle, i.e. inside the gate: building may load weights onto the device.
        return self.factory.build(suite, self.options), suite

    def _shared(self, suite: Suite) -> tuple[Policy, SharedSessions] | None:
        """The suite's template policy and its shared sessions, built once; None where the factory
        offers none for it: then each connection builds its own, as without batching."""
        assert self.batching is not None
        with self._suites_lock:
            name = str(suite.name)
            if name not in self._batchers:
                template = self.factory.build(suite, self.options)
                sessions = shared_sessions(self.factory, template, self.batching)
                if sessions is not None:
                    self._batchers[name] = (template, sessions)
                else:
                    log.info(
                        "policy %s cannot share its network: one policy per connection", template.spec.name
                    )
                    template.close()
                    self._batchers[name] = None
            return self._batchers[name]

    def batch_sizes(self) -> dict[int, int]:
        """Velocity batches run so far, by size, over every suite (for benchmarks and tests)."""
        out: dict[int, int] = {}
        for shared in self._batchers.values():
            if shared is not None:
                for size, n in shared[1].batch_sizes.items():
                    out[size] = out.get(size, 0) + n
        return out

    def check(self) -> None:
        """Build (and close) one policy before serving, so a bad option fails at start, not per client."""
        if self.suite_name is not None:
            policy, _ = self.build(self.suite_name)
            self._built_spec = policy.spec  # resolved: NFE, samplers, checkpoint, trained, device
            policy.close()

    def metadata(self) -> dict[str, Any]:
        from harness import __version__

        spec = self._built_spec or self.factory.spec
        return {
            "server": "wambench",
            "version": __version__,
            "protocols": [f"wambench/{PROTOCOL_VERSION}", "lingbot-va", "openpi"],
            "policy": spec.name,
            "spec": _plain(
                {
                    "name": spec.name,
                    "method": spec.method,
                    "nfe_video": spec.nfe_video,
                    "nfe_action": spec.nfe_action,
                    "backend": spec.backend,
                    "checkpoint": spec.checkpoint,
                    "details": spec.details,
                }
            ),
            "options": _plain(self.options),
            "suite": self.suite_name,
            "batching": None
            if self.batching is None
            else {"max_batch_size": self.batching.max_batch_size, "max_wait_ms": self.batching.max_wait_ms},
            "limits": {
                **self.limits.as_dict(),
                "max_connections": self.max_connections,
                "idle_timeout_s": self.idle_timeout_s,
            },
        }

    def client_config(self) -> dict[str, Any]:
        """How a harness worker reaches this server: a policy reference and its options (the runner's
        `policy_server: shared` hands them to its workers without knowing any policy)."""
        return {
            "policy": "harness.serving.remote:remote",
            "options": {"url": self.url, "check_policy": False},
        }

    # -- connections -----------------------------------------------------------------------------
    def _handle(self, conn: ServerConnection) -> None:
        if not self._slots.acquire(blocking=False):
            log.warning(
                "refused %s: %d connections open (the limit)", conn.remote_address, self.max_connections
            )
            conn.close(
                CloseCode.TRY_AGAIN_LATER,
                f"server full: {self.max_connections} connections open (its --max-connections)",
            )
            return
        try:
            self._handle_admitted(conn)
        finally:
            self._slots.release()

    def _handle_admitted(self, conn: ServerConnection) -> None:
        self.connections += 1
        peer = conn.remote_address
        log.info("connection from %s", peer)
        session = Session(self.build, self.suite_name, self.seed, self.actions_per_frame)
        try:
            conn.send(packb(self.metadata()))
            self._serve(conn, session)
        except websockets.ConnectionClosed:
            pass
        finally:
            try:
                session.close()
            except Exception:
                log.exception("closing the policy of %s failed", peer)
            log.info("connection from %s closed", peer)

    def _serve(self, conn: ServerConnection, session: Session) -> None:
        prev_total_ms: float | None = None
        bad = 0
        while True:
            try:
                frame = conn.recv(timeout=self.idle_timeout_s)
            except TimeoutError:
                log.info("closing %s: idle for %.0f s", conn.remote_address, self.idle_timeout_s)
                conn.close(
                    CloseCode.NORMAL_CLOSURE,
                    f"idle for {self.idle_timeout_s:g} s (the server's --idle-timeout-s); reconnect to go on",
                )
                return
            start = time.perf_counter()
            try:
                if isinstance(frame, str):
                    raise WireError("expected a binary msgpack frame, got text")
                msg = unpackb(frame, self.limits)
                # A batched session runs concurrently with the others: its batcher serialises the
                # network work (the sessions take turns) and batches it; anything else runs under the gate.
                gate = contextlib.nullcontext() if getattr(session.policy, "batched", False) else self._gate
                with gate:
                    t0 = time.perf_counter()
                    reply = session.handle(msg)
                    infer_ms = (time.perf_counter() - t0) * 1000.0
                timing: dict[str, float] = {"infer_ms": infer_ms}
                timing.update({f"{k}_ms": float(v) for k, v in reply.stages.items()})
                if prev_total_ms is not None:
                    timing["prev_total_ms"] = prev_total_ms
                reply.payload["server_timing"] = timing
                out = packb(reply.payload)
            except (WireError, ProtocolError) as exc:
                bad += 1
                log.warning("bad request from %s: %s", conn.remote_address, exc)
                conn.send(BAD_REQUEST + str(exc))
                if bad >= self.max_bad_requests:
                    conn.close(CloseCode.POLICY_VIOLATION, "too many bad requests")
                    return
                continue
            except Exception:
                log.exception("policy error for %s", conn.remote_address)
                conn.send("wambench: policy error:\n" + traceback.format_exc())
                conn.close(CloseCode.INTERNAL_ERROR, "policy error; traceback in the previous frame")
                return
            bad = 0
            conn.send(out)
            prev_total_ms = (time.perf_counter() - start) * 1000.0

    # -- running ---------------------------------------------------------------------------------
    def open(self) -> None:
        self._server = serve(
            self._handle,
            self.host,
            self.port,
            compression=None,
            max_size=self.limits.max_frame_bytes,
            process_request=process_request,
            create_connection=AnsweringConnection,
        )
        self.port = int(self._server.socket.getsockname()[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"

    def serve_forever(self) -> None:
        if self._server is None:
            self.open()
        self._server.serve_forever()

    def start(self) -> PolicyServer:
        """Serve from a daemon thread (tests, notebooks); returns once the socket is listening."""
        self.check()
        self.open()
        self._thread = threading.Thread(target=self._server.serve_forever, name="wambench-serve", daemon=True)
        self._thread.start()
        return self

    def shutdown(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for shared in self._batchers.values():
            if shared is not None:
                shared[1].close()
                shared[0].close()


__all__ = ["BAD_REQUEST", "LOOPBACK", "PolicyServer"]
