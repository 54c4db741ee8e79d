"""`wambench serve --policy P [--suite S] [--host 127.0.0.1] [--port N]`: a policy server.

Serves any registered policy (or `module:attr`) over websocket + msgpack to wambench's `remote`
backend and to LingBot-VA's and openpi's own evaluation clients. Loopback only unless `--host` says
otherwise: the protocol has no authentication, so anyone who can reach the port can run the policy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import yaml

from harness import registry
from harness.errors import UserError


def _pairs(values: list[str] | None, flag: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UserError(f"{flag} takes KEY=VALUE, got '{item}'")
        try:
            out[key] = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            out[key] = raw
    return out


def register(sub: Any) -> None:
    p = sub.add_parser(
        "serve", help="serve a policy over websocket (wambench, LingBot-VA and openpi clients)"
    )
    p.add_argument("--policy", help="registered policy name or module:attr (required)")
    p.add_argument("--suite", help="suite the policy is built for (else: the one the first client names)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    p.add_argument("--port", type=int, default=8000, help="port (0: any free port; default 8000)")
    p.add_argument("-o", "--option", action="append", metavar="KEY=VALUE", help="policy option (repeatable)")
    p.add_argument("--suite-option", action="append", metavar="KEY=VALUE", help="suite option (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="noise seeds for clients that send none")
    p.add_argument(
        "--actions-per-frame",
        type=int,
        help="actions per latent frame in LingBot-VA replies (default: the policy's own, else the chunk)",
    )
    p.add_argument("--max-concurrent", type=int, default=1, help="policy calls run at once (default 1)")
    p.add_argument(
        "--max-frame-mb",
        type=float,
        help="largest accepted frame in MiB (default: twice the suite's largest real message, "
        "LingBot-VA's key frames of one chunk; 11 MiB for the shipped suites)",
    )
    p.add_argument("--max-connections", type=int, help="clients connected at once (default 32)")
    p.add_argument(
        "--idle-timeout-s", type=float, help="close a connection silent for this long (default 600)"
    )
    p.add_argument(
        "--max-batch-size",
        type=int,
        default=16,
        help="batch concurrent sessions' network evaluations at the same point of the loop, up to this "
        "many (WAM policies; default 16; 1: no batching, one policy per connection)",
    )
    p.add_argument(
        "--max-wait-ms",
        type=float,
        default=2.0,
        help="longest a velocity request waits for others to join its batch (default 2)",
    )
    p.add_argument("--ready-file", help=argparse.SUPPRESS)  # the runner's `policy_server: shared`
    p.add_argument("--serve-file", help=argparse.SUPPRESS)  # its (policy, suite) pairs, one listener each
    p.add_argument("--stop-on-stdin-eof", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.serving.codec import Limits
    from harness.serving.server import LOOPBACK, PolicyServer

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be 0..65535, got {args.port}")
    if args.max_concurrent < 1:
        raise UserError("--max-concurrent must be >= 1")
    if args.actions_per_frame is not None and args.actions_per_frame < 1:
        raise UserError("--actions-per-frame must be >= 1")
    bounds: dict[str, Any] = {}  # what is not given keeps the server's defaults
    if args.max_connections is not None:
        if args.max_connections < 1:
            raise UserError("--max-connections must be >= 1")
        bounds["max_connections"] = args.max_connections
    if args.idle_timeout_s is not None:
        if not args.idle_timeout_s > 0:
            raise UserError("--idle-timeout-s must be > 0")
        bounds["idle_timeout_s"] = args.idle_timeout_s
    if args.max_batch_size < 1 or args.max_wait_ms < 0:
        raise UserError("--max-batch-size must be >= 1 and --max-wait-ms >= 0")
    batching = None
    if args.max_batch_size > 1:
        from harness.serving.sharing import BatchSettings

        batching = BatchSettings(args.max_batch_size, args.max_wait_ms)
    limits = None  # sized by the server from its suite's geometry
    if args.max_frame_mb is not None:
        frame = int(args.max_frame_mb * 1024 * 1024)
        if frame < 1024:
            raise UserError("--max-frame-mb is too small")
        limits = Limits(max_frame_bytes=frame, max_array_bytes=frame)
    common = {
        "host": args.host,
        "limits": limits,
        "seed": args.seed,
        "actions_per_frame": args.actions_per_frame,
        "max_concurrent": args.max_concurrent,
        "batching": batching,
        **bounds,
    }
    if args.serve_file:
        return _serve_many(args, PolicyServer, json.loads(Path(args.serve_file).read_text()), common)
    if not args.policy:
        raise UserError("wambench serve needs --policy")
    factory = registry.policies.get(args.policy)
    server = PolicyServer(
        factory,
        options=_pairs(args.option, "--option"),
        suite=args.suite,
        suite_options=_pairs(args.suite_option, "--suite-option"),
        port=args.port,
        **common,
    )
    server.check()
    if args.host not in LOOPBACK:
        print(
            f"wambench: warning: serving on {args.host} without authentication; anyone who can reach "
            "this port can run the policy",
            file=sys.stderr,
        )
    try:
        server.open()
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    http = server.url.replace("ws://", "http://", 1)
    print(
        f"wambench: serving {factory.spec.name} (suite {server.suite_name or 'named by the client'}) "
        f"on {server.url}  health: {http}/healthz",
        flush=True,
    )
    _stop_on_signals(args)
    if args.ready_file:
        info = {"url": server.url, "pid": os.getpid(), "client": server.client_config()}
        _write_ready(Path(args.ready_file), info)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0


def _serve_many(
    args: argparse.Namespace, server_class: Any, entries: list[dict[str, Any]], common: dict[str, Any]
) -> int:
    """Several (policy, suite) pairs in this one process, one loopback listener each (the runner's
    `policy_server: shared`: one server per device, its sessions keyed by policy through the listener
    they connect to). The ready file names each pair's client."""
    servers = []
    try:
        for entry in entries:
            server = server_class(
                registry.policies.get(entry["policy"]),
                options=entry["options"],
                suite=entry["suite"],
                suite_options=entry["suite_options"],
                port=0,
                **common,
            )
            servers.append(server)
            server.check()
            server.open()
        _stop_on_signals(args)
        for server in servers:
            threading.Thread(target=server.serve_forever, name="wambench-serve", daemon=True).start()
        if args.ready_file:
            clients = [
                {"key": e["key"], "client": s.client_config()} for e, s in zip(entries, servers, strict=True)
            ]
            _write_ready(Path(args.ready_file), {"pid": os.getpid(), "servers": clients})
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()  # until SIGTERM, Ctrl-C or the end of stdin
    finally:
        for server in servers:
            server.shutdown()
    return 0


def _stop_on_signals(args: argparse.Namespace) -> None:
    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # SIGTERM as Ctrl-C: close client connections cleanly (1001 going away)

    signal.signal(signal.SIGTERM, stop)
    if args.stop_on_stdin_eof:  # started by a runner: stop when it closes our stdin, or dies
        threading.Thread(target=_stop_at_eof, name="wambench-stdin", daemon=True).start()


def _stop_at_eof() -> None:
    sys.stdin.buffer.read()
    os.kill(os.getpid(), signal.SIGTERM)


def _write_ready(path: Path, info: dict[str, Any]) -> None:
    """Written once listening, atomically: whoever waits for the file reads it whole."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(path)
