"""The store's tables as SQL: what a new store is created with.

Tables
- `meta`      schema version.
- `runs`      one row per invocation (a resume adds a row): config, its hash, the run's provenance
              (versions, host, device; `provenance_json` whole, the main fields also as columns).
- `manifest`  the frozen episode list, written before anything runs.
- `policies`  the policies of the run: registry name, options, and the spec as resolved for the run's
              last suite (what stores before `policy_specs` hold).
- `policy_specs` the spec (method, NFE, samplers, shifts, trained) as resolved for each (policy, suite).
- `episodes`  one final row per (policy, episode key); rewritten only by a retry of an `error`.
- `chunks`    one row per policy call: per-stage milliseconds, NFE, device, warm-up flag; `source` is
              `rollout` or `benchmark`; rollouts add the execution model's latency, delay, stale rows.
- `executions` per policy: its execution model and the policy it is a latency variant of.

Tables and columns added after the first release are created by store_migrations.py, on open, for new
and older stores alike; this is the schema they started from.
"""

from __future__ import annotations

SCHEMA_VERSION = 1
STORE_NAME = "wambench.sqlite"

# What `wambench export` writes, one file each (executions: see the README's store table).
EXPORTED_TABLES = ("runs", "manifest", "policies", "policy_specs", "episodes", "chunks")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL DEFAULT 'rollout',
    config_name TEXT, config_json TEXT, config_hash TEXT, manifest_hash TEXT,
    wambench_version TEXT, git_revision TEXT, packages_json TEXT,
    host TEXT, device TEXT, python TEXT, command TEXT,
    started_at REAL, finished_at REAL, status TEXT
);
CREATE TABLE IF NOT EXISTS manifest (
    suite TEXT NOT NULL, task TEXT NOT NULL, split TEXT NOT NULL, idx INTEGER NOT NULL,
    seed INTEGER NOT NULL, max_steps INTEGER NOT NULL, noise_seed INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (suite, task, split, idx)
);
CREATE TABLE IF NOT EXISTS policies (
    policy TEXT PRIMARY KEY, name TEXT NOT NULL, spec_json TEXT NOT NULL, options_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS episodes (
    policy TEXT NOT NULL, suite TEXT NOT NULL, task TEXT NOT NULL, split TEXT NOT NULL,
    idx INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'error')),
    steps INTEGER NOT NULL, chunks INTEGER NOT NULL, wall_s REAL NOT NULL,
    error TEXT, attempt INTEGER NOT NULL, video_path TEXT, info_json TEXT,
    worker INTEGER, run_id INTEGER, finished_at REAL,
    PRIMARY KEY (policy, suite, task, split, idx)
);
CREATE TABLE IF NOT EXISTS chunks (
    source TEXT NOT NULL DEFAULT 'rollout',
    policy TEXT NOT NULL, suite TEXT NOT NULL, task TEXT NOT NULL, split TEXT NOT NULL,
    idx INTEGER NOT NULL, chunk INTEGER NOT NULL,
    encode_ms REAL, video_ms REAL, action_ms REAL, decode_ms REAL, total_ms REAL,
    stages_json TEXT, nfe_video INTEGER, nfe_action INTEGER,
    device TEXT, warmup INTEGER NOT NULL, run_id INTEGER,
    PRIMARY KEY (source, policy, suite, task, split, idx, chunk)
);
CREATE TABLE IF NOT EXISTS executions (
    policy TEXT PRIMARY KEY, base TEXT NOT NULL, mode TEXT NOT NULL, execution_json TEXT NOT NULL
);
"""

__all__ = ["EXPORTED_TABLES", "SCHEMA", "SCHEMA_VERSION", "STORE_NAME"]
