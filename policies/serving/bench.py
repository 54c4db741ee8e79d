"""`wambench bench serving`: chunks per second of N concurrent tiny-backend sessions on one
`wambench serve`, batched against unbatched, for N = 1, 2, 4, 8, 16, measured side by side in one run.

Unbatched is the server without batching: one policy per connection, one policy call at a time
(`--max-batch-size 1`: what one model instance per episode gives, as every WAM evaluation path does).
Batched is `--max-batch-size 16 --max-wait-ms 2`: one network, its velocity calls gathered across
sessions (policies/serving/batching.py). The clients are `remote` policies (websocket + msgpack) in
threads of this process, each its own episode; each runs warm-up chunks, then all start together and
the time until the last finishes its chunks is what is measured.

Two network sizes by default: the tiny backend's own (dim 192, depth 4) and a small one (dim 32,
depth 1) whose forward pass costs little beyond per-call overhead, as most networks' single-episode
passes do on a GPU.
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from harness.types import EpisodeSpec, Observation

SIZES: dict[str, dict[str, int]] = {
    "default": {},
    "small": {"dim": 32, "depth": 1, "heads": 2},
}
SESSIONS = (1, 2, 4, 8, 16)
TARGET = 2.5  # batched / unbatched at N = 8


def robotwin_shapes() -> Any:
    """robotwin2 as its factory declares it: shapes only, no simulator needed."""
    from harness import registry

    return registry.suites.get("robotwin2").geometry()


def libero_shapes() -> Any:
    from harness import registry

    return registry.suites.get("libero_spatial").geometry()


def _observation(suite: Any, session: int, chunk: int) -> Observation:
    rng = np.random.default_rng(10_000 * session + chunk)
    images = {c: rng.integers(0, 256, s, dtype=np.uint8) for c, s in suite.camera_shapes.items()}
    return Observation(images, rng.standard_normal(suite.state_dim), "put the object in the basket")


def measure(
    policy: str,
    suite_ref: str,
    options: Mapping[str, Any],
    sessions: int,
    batching: Any,
    warmup: int,
    chunks: int,
) -> dict[str, Any]:
    """One server, `sessions` concurrent clients; chunks per second over the timed chunks."""
    from harness import registry
    from harness.serving.server import PolicyServer

    factory = registry.policies.get(policy)
    server = PolicyServer(
        factory, options=dict(options), suite=suite_ref, port=0, batching=batching,
        max_connections=max(32, sessions),
    ).start()  # fmt: skip
    suite = server._suite(suite_ref)
    start, stop = threading.Barrier(sessions + 1), threading.Barrier(sessions + 1)
    errors: list[BaseException] = []

    def client(i: int) -> None:
        remote = factory.build(suite, {"backend": "remote", "url": server.url})
        # made before the clock starts: what is timed is serving them, not making them up
        observations = [_observation(suite, i, c) for c in range(warmup + chunks)]
        try:
            remote.reset(EpisodeSpec(suite.name, "bench", "default", i, i, 10**6, noise_seed=i), "bench")
            for obs in observations[:warmup]:
                remote.act(obs)
            start.wait(timeout=600)
            for obs in observations[warmup:]:
                remote.act(obs)
        except BaseException as exc:
            errors.append(exc)
            start.abort()
        finally:
            stop.wait(timeout=600)
            remote.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(sessions)]
    try:
        for t in threads:
            t.start()
        start.wait(timeout=600)
        before = dict(server.batch_sizes())
        t0 = time.perf_counter()
        stop.wait(timeout=600)
        elapsed = time.perf_counter() - t0
        after = server.batch_sizes()
    finally:
        for t in threads:
            t.join(timeout=60)
        server.shutdown()
    if errors:
        raise errors[0]
    sizes = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    calls = sum(sizes.values())
    mean = sum(k * v for k, v in sizes.items()) / calls if calls else 1.0
    return {"chunks_per_s": sessions * chunks / elapsed, "mean_batch": mean}


def format_table(size: str, rows: Sequence[dict[str, Any]]) -> str:
    head = (
        "N",
        "unbatched chunks/s",
        "batched chunks/s",
        "batched / unbatched",
        "batched vs N/2",
        "mean batch",
    )
    body = []
    for i, r in enumerate(rows):
        step = f"{r['batched'] / rows[i - 1]['batched']:.2f}x" if i else "-"
        body.append(
            (
                str(r["n"]),
                f"{r['unbatched']:.2f}",
                f"{r['batched']:.2f}",
                f"{r['batched'] / r['unbatched']:.2f}x",
                step,
                f"{r['mean_batch']:.1f}",
            )
        )
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    lines = [f"network size {size}:", "  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(b, widths, strict=True)) for b in body]
    return "\n".join(lines)


def bend(rows: Sequence[dict[str, Any]]) -> int | None:
    """The first N at which doubling the sessions adds less than a quarter to batched throughput."""
    for prev, row in itertools.pairwise(rows):
        if row["batched"] < 1.25 * prev["batched"]:
            return int(row["n"])
    return None


def main(argv: Sequence[str] | None = None) -> int:
    from harness.serving.sharing import BatchSettings

    parser = argparse.ArgumentParser(prog="wambench bench serving", description=__doc__.split("\n\n")[0])
    parser.add_argument("--policy", default="teacher-25v50a", help="a WAM policy (default: the teacher)")
    parser.add_argument("--suite", choices=["robotwin", "libero"], default="robotwin")
    parser.add_argument("--sizes", nargs="+", choices=sorted(SIZES), default=["default", "small"])
    parser.add_argument("--sessions", nargs="+", type=int, default=list(SESSIONS))
    parser.add_argument("--warmup", type=int, default=1, help="chunks per session before timing")
    parser.add_argument("--chunks", type=int, default=3, help="timed chunks per session")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--max-batch-size", type=int, default=16)
    parser.add_argument("--max-wait-ms", type=float, default=2.0)
    args = parser.parse_args(list(argv or []))
    if args.chunks < 1 or args.warmup < 0 or min(args.sessions) < 1:
        parser.error("--chunks and --sessions must be >= 1 and --warmup >= 0")
    suite_ref = f"policies.serving.bench:{args.suite}_shapes"
    settings = BatchSettings(args.max_batch_size, args.max_wait_ms)
    print(
        f"wambench bench serving: {args.policy}, tiny backend (untrained), {args.suite} shapes, cpu, "
        f"{args.threads} torch thread(s); {args.chunks} timed chunks per session after {args.warmup} "
        f"warm-up; batched: max_batch_size {args.max_batch_size}, max_wait_ms {args.max_wait_ms:g}",
        flush=True,
    )
    for size in args.sizes:
        options = {"backend": "tiny", "threads": args.threads, **SIZES[size]}
        rows = []
        for n in args.sessions:
            plain = measure(args.policy, suite_ref, options, n, None, args.warmup, args.chunks)
            batched = measure(args.policy, suite_ref, options, n, settings, args.warmup, args.chunks)
            rows.append(
                {
                    "n": n,
                    "unbatched": plain["chunks_per_s"],
                    "batched": batched["chunks_per_s"],
                    "mean_batch": batched["mean_batch"],
                }
            )
        print(format_table(size, rows), flush=True)
        at8 = next((r for r in rows if r["n"] == 8), None)
        if at8 is not None:
            ratio = at8["batched"] / at8["unbatched"]
            verdict = "meets" if ratio >= TARGET else "MISSES"
            print(f"  at N = 8: {ratio:.2f}x, {verdict} the target >= {TARGET}x")
        knee = bend(rows)
        print(
            f"  batched throughput bends at N = {knee} (doubling N adds < 25%)"
            if knee
            else "  batched throughput still grows by >= 25% per doubling at the largest N",
            flush=True,
        )
    return 0


__all__ = ["bend", "format_table", "main", "measure"]
