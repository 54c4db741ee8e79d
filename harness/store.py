"""The results store: one SQLite database (WAL) per output directory, the single source of truth.

The store is the only code that speaks SQL (with its parts: the schema in store_schema.py, the
migrations of older stores in store_migrations.py, the reads in store_reads.py, opening and SQLite's
errors in storeio.py); it takes and gives the records of harness/records.py. Only the runner's main
process writes during a run, one transaction per episode and its chunks.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.errors import UserError
from harness.records import ChunkRecord, EpisodeRecord, Provenance
from harness.store_migrations import EPISODE_METRICS, migrate
from harness.store_reads import StoreReads
from harness.store_schema import SCHEMA, SCHEMA_VERSION, STORE_NAME
from harness.storeio import (
    check_store_path,
    connect_read_only,
    connect_read_write,
    storage_error,
    writable,
)
from harness.types import STAGES, EpisodeKey, EpisodeSpec, PolicySpec


def _spec_json(spec: PolicySpec) -> str:
    return json.dumps(asdict(spec), sort_keys=True, default=str)


def manifest_hash(specs: Sequence[EpisodeSpec]) -> str:
    rows = [asdict(s) for s in specs]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:16]


class Store(StoreReads):
    """Typed access to the SQLite database of one output directory: writes here, reads in StoreReads."""

    def __init__(self, path: Path, conn: sqlite3.Connection, readonly: bool = False) -> None:
        self.path = path
        self.conn = conn
        self.readonly = readonly  # opened read-only (the store or its directory cannot be written)

    # ---- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, out_dir: str | Path, create: bool = False) -> Store:
        """Open (or with `create`, make) a directory's store. Without `create` one that cannot be
        written is opened read-only (archives); a corrupt or unusable store raises StorageError."""
        out = Path(out_dir)
        path = out / STORE_NAME if out.suffix != ".sqlite" else out
        check_store_path(path, out, create)
        if not create and not writable(path):
            return cls(path, connect_read_only(path, SCHEMA_VERSION), readonly=True)
        try:
            conn = connect_read_write(path, SCHEMA, SCHEMA_VERSION)
            try:
                migrate(conn)  # what a store written by an older wambench lacks (store_migrations.py)
            except BaseException:
                conn.close()
                raise
            return cls(path, conn)
        except sqlite3.Error as exc:
            raise storage_error(exc, path) from None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            # SQLite has already rolled back after some errors (disk full): keep the original error.
            if self.conn.in_transaction:
                with suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # ---- runs ----------------------------------------------------------------------------------
    def begin_run(
        self,
        *,
        kind: str,
        config_name: str,
        config: Mapping[str, Any],
        config_hash: str,
        manifest_hash: str | None,
        provenance: Provenance,
    ) -> int:
        """Record a run as `running`: its provenance whole, and its main fields as columns too (what
        older readers and the export's flat files read)."""
        p = provenance
        with self.transaction() as c:
            cur = c.execute(
                """INSERT INTO runs(kind, config_name, config_json, config_hash, manifest_hash,
                   wambench_version, git_revision, packages_json, host, device, python, command,
                   started_at, status, provenance_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?, 'running', ?)""",
                (
                    kind,
                    config_name,
                    json.dumps(config, sort_keys=True),
                    config_hash,
                    manifest_hash,
                    p.wambench_version,
                    p.git_revision,
                    json.dumps(dict(p.packages), sort_keys=True),
                    p.host,
                    p.device,
                    p.python,
                    p.command,
                    time.time(),
                    json.dumps(p.as_dict(), sort_keys=True),
                ),
            )
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE runs SET finished_at=?, status=? WHERE run_id=?",
                (time.time(), status, run_id),
            )

    # ---- manifest and policies -----------------------------------------------------------------
    def write_manifest(self, specs: Sequence[EpisodeSpec]) -> None:
        """Write the frozen manifest once; a second call must carry the same episodes."""
        existing = self.manifest()
        if existing:
            if manifest_hash(existing) != manifest_hash(specs):
                raise UserError(f"store '{self.path}' holds a different episode manifest; use a new --out")
            return
        with self.transaction() as c:
            c.executemany(
                """INSERT INTO manifest(suite, task, split, idx, seed, max_steps, noise_seed,
                   position) VALUES (?,?,?,?,?,?,?,?)""",
                [
                    (s.suite, s.task, s.split, s.index, s.seed, s.max_steps, s.noise_seed, i)
                    for i, s in enumerate(specs)
                ],
            )

    def manifest_hash(self) -> str | None:
        specs = self.manifest()
        return manifest_hash(specs) if specs else None

    def write_policies(
        self,
        entries: Iterable[tuple[str, str, PolicySpec, Mapping[str, Any]]],
        suite_specs: Mapping[tuple[str, str], PolicySpec] | None = None,
    ) -> None:
        """(stored id, registry name, spec, options) for each policy of the run, and the spec each
        resolved to per (stored id, suite); upserted, in one transaction."""
        with self.transaction() as c:
            for pid, name, spec, options in entries:
                c.execute(
                    "INSERT OR REPLACE INTO policies(policy, name, spec_json, options_json) VALUES (?,?,?,?)",
                    (pid, name, _spec_json(spec), json.dumps(dict(options), sort_keys=True, default=str)),
                )
            c.executemany(
                "INSERT OR REPLACE INTO policy_specs(policy, suite, spec_json) VALUES (?,?,?)",
                [(pid, suite, _spec_json(spec)) for (pid, suite), spec in (suite_specs or {}).items()],
            )

    def write_executions(self, entries: Iterable[tuple[str, str, str, Mapping[str, Any]]]) -> None:
        """(stored policy id, base policy id, mode, execution details) per policy; upserted."""
        with self.transaction() as c:
            c.executemany(
                "INSERT OR REPLACE INTO executions(policy, base, mode, execution_json) VALUES (?,?,?,?)",
                [(p, b, m, json.dumps(dict(d), sort_keys=True, default=str)) for p, b, m, d in entries],
            )

    # ---- episodes and chunks -------------------------------------------------------------------
    def record_episode(self, rec: EpisodeRecord, run_id: int | None = None) -> None:
        """Store an episode and its chunks atomically; idempotent on (policy, key).

        A final outcome (success/failure) is never overwritten by a later attempt's error, so a
        duplicate delivery after a worker crash cannot lose a finished episode.
        """
        k = rec.key
        keycols = (rec.policy, k.suite, k.task, k.split, k.index)
        with self.transaction() as c:
            prev = c.execute(
                "SELECT outcome FROM episodes WHERE policy=? AND suite=? AND task=? AND split=? AND idx=?",
                keycols,
            ).fetchone()
            if prev is not None and prev["outcome"] != "error" and rec.outcome == "error":
                return
            c.execute(
                "DELETE FROM chunks WHERE source='rollout' AND policy=? AND suite=? AND task=? "
                "AND split=? AND idx=?",
                keycols,
            )
            c.execute(
                """INSERT OR REPLACE INTO episodes(policy, suite, task, split, idx, outcome, steps,
                   chunks, wall_s, error, attempt, video_path, info_json, worker, run_id,
                   finished_at, execution, time_s, wait_s, stale_fraction, hold_fraction,
                   effective_hz) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (
                    *keycols,
                    rec.outcome,
                    rec.steps,
                    len(rec.chunks),
                    rec.wall_s,
                    rec.error,
                    rec.attempt,
                    rec.video_path,
                    json.dumps(dict(rec.info), default=str),
                    rec.worker,
                    run_id,
                    time.time(),
                    *(rec.execution.get(k) for k in EPISODE_METRICS),
                ),
            )
            self._insert_chunks(c, "rollout", rec.policy, k, rec.chunks, run_id)

    def record_chunks(
        self,
        source: str,
        policy: str,
        key: EpisodeKey,
        chunks: Sequence[ChunkRecord],
        run_id: int | None = None,
    ) -> None:
        """Store chunks that belong to no rollout episode (e.g. `wambench latency`)."""
        with self.transaction() as c:
            self._insert_chunks(c, source, policy, key, chunks, run_id)

    def delete_chunks(self, source: str, policy: str, suite: str, task: str, split: str) -> None:
        """Drop a (source, policy, suite, task, split)'s chunks: a re-measured latency configuration
        replaces its earlier chunks, so a key never holds chunks from two runs."""
        with self.transaction() as c:
            c.execute(
                "DELETE FROM chunks WHERE source=? AND policy=? AND suite=? AND task=? AND split=?",
                (source, policy, suite, task, split),
            )

    @staticmethod
    def _insert_chunks(
        c: sqlite3.Connection,
        source: str,
        policy: str,
        k: EpisodeKey,
        chunks: Sequence[ChunkRecord],
        run_id: int | None,
    ) -> None:
        rows = []
        for ch in chunks:
            t = dict(ch.timings)
            extra = {s: v for s, v in t.items() if s not in STAGES}
            rows.append(
                (
                    source,
                    policy,
                    k.suite,
                    k.task,
                    k.split,
                    k.index,
                    ch.chunk,
                    *(t.get(s) for s in STAGES),
                    json.dumps(extra),
                    ch.nfe.get("video"),
                    ch.nfe.get("action"),
                    ch.device,
                    int(ch.warmup),
                    run_id,
                    ch.latency_ms,
                    ch.delay_steps,
                    ch.request_step,
                    ch.stale_rows,
                    ch.executed_rows,
                )
            )
        c.executemany(
            """INSERT OR REPLACE INTO chunks(source, policy, suite, task, split, idx, chunk,
               encode_ms, video_ms, action_ms, decode_ms, total_ms, stages_json, nfe_video,
               nfe_action, device, warmup, run_id, latency_ms, delay_steps, request_step, stale_rows,
               executed_rows) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            rows,
        )


__all__ = ["STORE_NAME", "Store", "manifest_hash"]
