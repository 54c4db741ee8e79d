"""Reading a store: every query returns the typed records of harness/records.py, never a SQL row.

Kept apart from store.py (which opens the store and writes it) so each module has one job. A store
opened read-only is not migrated (harness/store_migrations.py), so each read also accepts what an older
store lacks: a missing column reads as not recorded, a missing table as what the older store meant.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.records import (
    ChunkRecord,
    EpisodeRecord,
    OutcomeCounts,
    PolicyInfo,
    Provenance,
    RunInfo,
    StoredChunk,
)
from harness.store_migrations import EPISODE_METRICS, has_table
from harness.store_schema import EXPORTED_TABLES
from harness.types import STAGES, EpisodeKey, EpisodeSpec


def _get(row: sqlite3.Row, column: str) -> Any:
    """The column's value; None where an older store (opened read-only) lacks the column."""
    return row[column] if column in row.keys() else None  # noqa: SIM118 (`in` a Row reads its values)


def _json(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except json.JSONDecodeError:
        return default


def _provenance(row: sqlite3.Row) -> Provenance:
    whole = _json(_get(row, "provenance_json"), None)
    if isinstance(whole, Mapping):
        return Provenance.from_dict(whole)
    # a run recorded before `provenance_json`: its main fields, as columns
    return Provenance.from_dict(
        {
            **{
                k: row[k] for k in ("wambench_version", "git_revision", "host", "device", "python", "command")
            },
            "packages": _json(row["packages_json"], {}),
        }
    )


def run_info(row: sqlite3.Row) -> RunInfo:
    return RunInfo(
        run_id=int(row["run_id"]),
        kind=row["kind"],
        config_name=row["config_name"],
        config=_json(row["config_json"], {}),
        config_hash=row["config_hash"],
        manifest_hash=row["manifest_hash"],
        provenance=_provenance(row),
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        status=row["status"],
    )


def _key(row: sqlite3.Row) -> EpisodeKey:
    return EpisodeKey(row["suite"], row["task"], row["split"], int(row["idx"]))


def episode_record(row: sqlite3.Row) -> EpisodeRecord:
    metrics = {k: _get(row, k) for k in EPISODE_METRICS}
    return EpisodeRecord(
        policy=row["policy"],
        key=_key(row),
        outcome=row["outcome"],
        steps=row["steps"],
        wall_s=row["wall_s"],
        attempt=row["attempt"],
        error=row["error"],
        video_path=row["video_path"],
        info=_json(row["info_json"], {}),
        worker=row["worker"],
        execution={k: v for k, v in metrics.items() if v is not None},
    )


def stored_chunk(row: sqlite3.Row) -> StoredChunk:
    timings = {s: row[f"{s}_ms"] for s in STAGES if row[f"{s}_ms"] is not None}
    timings.update(_json(row["stages_json"], {}))
    nfe = {s: row[f"nfe_{s}"] for s in ("video", "action") if row[f"nfe_{s}"] is not None}
    record = ChunkRecord(
        chunk=row["chunk"],
        timings=timings,
        nfe=nfe,
        device=row["device"],
        warmup=bool(row["warmup"]),
        latency_ms=_get(row, "latency_ms"),
        delay_steps=_get(row, "delay_steps"),
        request_step=_get(row, "request_step"),
        stale_rows=_get(row, "stale_rows"),
        executed_rows=_get(row, "executed_rows"),
    )
    return StoredChunk(row["source"], row["policy"], _key(row), record, row["run_id"])


class StoreReads:
    """The read half of `harness.store.Store`."""

    path: Path
    conn: sqlite3.Connection

    # ---- runs ----------------------------------------------------------------------------------
    def runs(self, kind: str | None = None) -> list[RunInfo]:
        sql = "SELECT * FROM runs" + (" WHERE kind=?" if kind else "") + " ORDER BY run_id"
        return [run_info(r) for r in self.conn.execute(sql, (kind,) if kind else ())]

    def rollout_identity(self) -> tuple[str, dict[str, Any]] | None:
        """(config hash, config) of the rollout runs already in this store, if any."""
        row = self.conn.execute(
            "SELECT config_hash, config_json FROM runs WHERE kind='rollout' ORDER BY run_id LIMIT 1"
        ).fetchone()
        return None if row is None else (row["config_hash"], json.loads(row["config_json"]))

    # ---- manifest and policies -----------------------------------------------------------------
    def manifest(self) -> list[EpisodeSpec]:
        rows = self.conn.execute("SELECT * FROM manifest ORDER BY position")
        return [
            EpisodeSpec(
                r["suite"], r["task"], r["split"], r["idx"], r["seed"], r["max_steps"], r["noise_seed"]
            )
            for r in rows
        ]

    def policies(self) -> dict[str, PolicyInfo]:
        """Each policy of the store with its options and its spec as resolved for the run (for a
        policy that resolves per suite, see `policy_specs`)."""
        rows = self.conn.execute("SELECT * FROM policies ORDER BY policy")
        return {
            r["policy"]: PolicyInfo.from_spec(
                r["policy"], r["name"], json.loads(r["spec_json"]), json.loads(r["options_json"])
            )
            for r in rows
        }

    def policy_specs(self) -> dict[tuple[str, str], PolicyInfo]:
        """(policy, suite) -> the policy as resolved for that suite. A store from before per-suite
        specs holds one spec per policy: it stands for every suite the policy ran on."""
        policies = self.policies()
        if has_table(self.conn, "policy_specs"):
            rows = self.conn.execute("SELECT * FROM policy_specs ORDER BY policy, suite").fetchall()
            pairs = [(r["policy"], r["suite"], json.loads(r["spec_json"])) for r in rows]
        else:  # an older store opened read-only (not migrated)
            ran = self.conn.execute(
                "SELECT DISTINCT policy, suite FROM episodes UNION SELECT DISTINCT policy, suite FROM chunks "
                "ORDER BY policy, suite"
            ).fetchall()
            pairs = [
                (r["policy"], r["suite"], policies[r["policy"]].spec) for r in ran if r["policy"] in policies
            ]
        out: dict[tuple[str, str], PolicyInfo] = {}
        for pid, suite, spec in pairs:
            known = policies.get(pid)
            name, options = (known.name, known.options) if known is not None else (pid, {})
            out[(pid, suite)] = PolicyInfo.from_spec(pid, name, spec, options, suite)
        return out

    def executions(self) -> dict[str, dict[str, Any]]:
        """policy id -> {base, mode, **details}; empty for a store from before execution models."""
        if not has_table(self.conn, "executions"):
            return {}  # an older store opened without writing (read-only)
        rows = self.conn.execute("SELECT * FROM executions ORDER BY policy").fetchall()
        return {
            r["policy"]: {**json.loads(r["execution_json"]), "base": r["base"], "mode": r["mode"]}
            for r in rows
        }

    # ---- episodes and chunks -------------------------------------------------------------------
    def episodes(self, with_chunks: bool = False) -> list[EpisodeRecord]:
        """Every stored episode, by (policy, suite, task, split, index); with `with_chunks`, each with
        its rollout chunks (else none: `chunks` reads them apart)."""
        sql = "SELECT * FROM episodes ORDER BY policy, suite, task, split, idx"
        episodes = [episode_record(r) for r in self.conn.execute(sql)]
        if not with_chunks:
            return episodes
        by_episode: dict[tuple[str, EpisodeKey], list[ChunkRecord]] = {}
        for c in self.chunks("rollout"):
            by_episode.setdefault((c.policy, c.key), []).append(c.record)
        return [replace(e, chunks=tuple(by_episode.get((e.policy, e.key), ()))) for e in episodes]

    def chunks(self, source: str | None = None) -> list[StoredChunk]:
        sql = "SELECT * FROM chunks" + (" WHERE source=?" if source else "")
        sql += " ORDER BY source, policy, suite, task, split, idx, chunk"
        return [stored_chunk(r) for r in self.conn.execute(sql, (source,) if source else ())]

    def final_keys(self, max_attempts: int | None = None) -> set[tuple[str, EpisodeKey]]:
        """(policy, key) pairs that need no more work: success/failure, or an error whose attempts
        are spent (`max_attempts`; None counts every error as unfinished)."""
        done: set[tuple[str, EpisodeKey]] = set()
        for r in self.conn.execute("SELECT policy, suite, task, split, idx, outcome, attempt FROM episodes"):
            if r["outcome"] != "error" or (max_attempts is not None and r["attempt"] >= max_attempts):
                done.add((r["policy"], _key(r)))
        return done

    def outcome_counts(self) -> dict[tuple[str, str], OutcomeCounts]:
        """(policy, suite) -> how its stored episodes ended."""
        counts: dict[tuple[str, str], OutcomeCounts] = {}
        rows = self.conn.execute(
            "SELECT policy, suite, outcome, COUNT(*) AS n FROM episodes GROUP BY policy, suite, outcome"
        )
        for r in rows:
            counts.setdefault((r["policy"], r["suite"]), OutcomeCounts()).add(r["outcome"], r["n"])
        return counts

    # ---- export --------------------------------------------------------------------------------
    def table(self, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """A whole table as (column names, rows), for `wambench export`."""
        if name not in EXPORTED_TABLES:
            raise ValueError(f"not an exported table: {name!r}")
        if name == "policy_specs" and not has_table(self.conn, name):  # as `policy_specs()` reads it
            specs = self.policy_specs()
            return ["policy", "suite", "spec_json"], [
                (pid, suite, json.dumps(info.spec, sort_keys=True, default=str))
                for (pid, suite), info in specs.items()
            ]
        cur = self.conn.execute(f"SELECT * FROM {name}")
        return [d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()]


__all__ = ["StoreReads", "episode_record", "run_info", "stored_chunk"]
