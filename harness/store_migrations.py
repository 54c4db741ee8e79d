"""Additive schema changes: what a store written by an older wambench lacks, added when it is opened.

Every added column is nullable, so old rows read NULL ("not recorded") and an older wambench can still
write the store (it names its columns). An added table is filled, when it is created, from what an
older store already holds. The schema version changes only for a change that is not additive. A store
opened read-only is not migrated: its reader (harness/store_reads.py) reads each missing piece as
what an older store meant by it.
"""

from __future__ import annotations

import sqlite3

# (table, column, SQL type): additive, nullable; see `add_columns`.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("chunks", "latency_ms", "REAL"),
    ("chunks", "delay_steps", "INTEGER"),
    ("chunks", "request_step", "INTEGER"),
    ("chunks", "stale_rows", "INTEGER"),
    ("chunks", "executed_rows", "INTEGER"),
    ("episodes", "execution", "TEXT"),
    ("episodes", "time_s", "REAL"),
    ("episodes", "wait_s", "REAL"),
    ("episodes", "stale_fraction", "REAL"),
    ("episodes", "hold_fraction", "REAL"),
    ("episodes", "effective_hz", "REAL"),
    # the run's whole provenance record (harness.records.Provenance) as JSON; older rows hold only its
    # main fields, as columns, and latency runs wrote them in a format of their own (short revision)
    ("runs", "provenance_json", "TEXT"),
)
# episode metric columns <- EpisodeRecord.execution keys (harness/realtime/metrics.py)
EPISODE_METRICS = ("execution", "time_s", "wait_s", "stale_fraction", "hold_fraction", "effective_hz")

# One resolved spec per (policy, suite): a policy may resolve differently per suite (shifts, NFE),
# and the `policies` row keeps only one.
POLICY_SPECS = """
CREATE TABLE IF NOT EXISTS policy_specs (
    policy TEXT NOT NULL, suite TEXT NOT NULL, spec_json TEXT NOT NULL,
    PRIMARY KEY (policy, suite)
)"""
# A store from before `policy_specs` recorded one spec per policy, meant for every suite it ran.
_BACKFILL_POLICY_SPECS = """
INSERT OR IGNORE INTO policy_specs(policy, suite, spec_json)
SELECT p.policy, s.suite, p.spec_json FROM policies p
JOIN (SELECT DISTINCT policy, suite FROM episodes
      UNION SELECT DISTINCT policy, suite FROM chunks) s ON s.policy = p.policy"""


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone()
        is not None
    )


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def add_columns(conn: sqlite3.Connection) -> None:
    """Bring an older store's tables up to date. Idempotent; two processes opening one store at once
    may race to add a column, and the loser's "duplicate column" is the same outcome."""
    for table, column, kind in ADDED_COLUMNS:
        if column in columns(conn, table):
            continue
        try:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):
                raise


def add_policy_specs(conn: sqlite3.Connection) -> None:
    """Create `policy_specs`, and in a store from before it, record each policy's one spec for every
    suite it ran on. One transaction: a second process opening the store at once waits, then finds
    the table made."""
    if has_table(conn, "policy_specs"):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not has_table(conn, "policy_specs"):
            conn.execute(POLICY_SPECS)
            conn.execute(_BACKFILL_POLICY_SPECS)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def migrate(conn: sqlite3.Connection) -> None:
    """Everything an older store lacks, in order; a no-op on a current one."""
    add_columns(conn)
    add_policy_specs(conn)


__all__ = [
    "ADDED_COLUMNS",
    "EPISODE_METRICS",
    "POLICY_SPECS",
    "add_columns",
    "add_policy_specs",
    "columns",
    "has_table",
    "migrate",
]
