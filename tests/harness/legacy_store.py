"""A store as wambench wrote it before per-(policy, suite) specs and whole provenance records: its
tables exactly as that version created them (frozen here, not taken from the current schema), with a
mixed two-suite rollout run (one spec per policy: the last suite's) and a latency run, whose provenance
had a format of its own (a short git revision, two packages)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

LEGACY_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL DEFAULT 'rollout',
    config_name TEXT, config_json TEXT, config_hash TEXT, manifest_hash TEXT,
    wambench_version TEXT, git_revision TEXT, packages_json TEXT,
    host TEXT, device TEXT, python TEXT, command TEXT,
    started_at REAL, finished_at REAL, status TEXT
);
CREATE TABLE manifest (
    suite TEXT NOT NULL, task TEXT NOT NULL, split TEXT NOT NULL, idx INTEGER NOT NULL,
    seed INTEGER NOT NULL, max_steps INTEGER NOT NULL, noise_seed INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (suite, task, split, idx)
);
CREATE TABLE policies (
    policy TEXT PRIMARY KEY, name TEXT NOT NULL, spec_json TEXT NOT NULL, options_json TEXT NOT NULL
);
CREATE TABLE episodes (
    policy TEXT NOT NULL, suite TEXT NOT NULL, task TEXT NOT NULL, split TEXT NOT NULL,
    idx INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'error')),
    steps INTEGER NOT NULL, chunks INTEGER NOT NULL, wall_s REAL NOT NULL,
    error TEXT, attempt INTEGER NOT NULL, video_path TEXT, info_json TEXT,
    worker INTEGER, run_id INTEGER, finished_at REAL,
    execution TEXT, time_s REAL, wait_s REAL, stale_fraction REAL, hold_fraction REAL, effective_hz REAL,
    PRIMARY KEY (policy, suite, task, split, idx)
);
CREATE TABLE chunks (
    source TEXT NOT NULL DEFAULT 'rollout',
    policy TEXT NOT NULL, suite TEXT NOT NULL, task TEXT NOT NULL, split TEXT NOT NULL,
    idx INTEGER NOT NULL, chunk INTEGER NOT NULL,
    encode_ms REAL, video_ms REAL, action_ms REAL, decode_ms REAL, total_ms REAL,
    stages_json TEXT, nfe_video INTEGER, nfe_action INTEGER,
    device TEXT, warmup INTEGER NOT NULL, run_id INTEGER,
    latency_ms REAL, delay_steps INTEGER, request_step INTEGER, stale_rows INTEGER, executed_rows INTEGER,
    PRIMARY KEY (source, policy, suite, task, split, idx, chunk)
);
CREATE TABLE executions (
    policy TEXT PRIMARY KEY, base TEXT NOT NULL, mode TEXT NOT NULL, execution_json TEXT NOT NULL
);
INSERT INTO meta VALUES ('schema_version', '1');
"""

SUITES = ("libero_10", "robotwin2")
# the one spec the old runner kept: the last suite's (RoboTwin's shifts and NFE)
SPEC = {
    "name": "flash-wam-1v2a",
    "method": "flash-wam",
    "nfe_video": 1,
    "nfe_action": 2,
    "backend": "lingbot",
    "checkpoint": "/ckpt",
    "description": "",
    "details": {"trained": True, "shift": 5.0},
}
ROLLOUT_PACKAGES = {"torch": "2.13.0", "numpy": "2.0", "wambench": "0.1.0"}


def write_legacy_store(out: Path) -> Path:
    """A finished legacy run in `out`: 2 episodes per suite (one success each), 2 chunks each."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "wambench.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(LEGACY_SCHEMA)
    rollout = ("0.1.0", "8e707265955317fde4ff44b969ddfad8b4e5dac1", json.dumps(ROLLOUT_PACKAGES), "host-a")
    conn.execute(
        "INSERT INTO runs(kind, config_name, config_json, config_hash, manifest_hash, wambench_version, "
        "git_revision, packages_json, host, device, python, command, started_at, finished_at, status) "
        "VALUES ('rollout', 'mixed', '{\"identity\": {}}', 'cfgold', 'mh', ?, ?, ?, ?, 'cpu (old)', '3.11', "
        "'wambench run mixed', 100.0, 200.0, 'finished')",
        rollout,
    )
    conn.execute(
        "INSERT INTO runs(kind, config_name, config_json, config_hash, manifest_hash, wambench_version, "
        "git_revision, packages_json, host, device, python, command, started_at, finished_at, status) "
        "VALUES ('latency', 'latency', '{}', 'lat', NULL, '0.1.0', '8e70726', "
        "'{\"torch\": \"2.13.0\", \"numpy\": \"2.0\"}', 'host-a', 'NVIDIA L40S', '3.11', "
        "'wambench latency', 300.0, 400.0, 'finished')"
    )
    conn.execute(
        "INSERT INTO policies VALUES ('flash', 'flash-wam-1v2a', ?, '{\"backend\": \"lingbot\"}')",
        (json.dumps(SPEC, sort_keys=True),),
    )
    position = 0
    for suite in SUITES:
        for idx in range(2):
            conn.execute(
                "INSERT INTO manifest VALUES (?, 'task', 'default', ?, ?, 100, 7, ?)",
                (suite, idx, idx, position),
            )
            position += 1
            outcome = "success" if idx == 0 else "failure"
            conn.execute(
                "INSERT INTO episodes(policy, suite, task, split, idx, outcome, steps, chunks, wall_s, "
                "attempt, info_json, worker, run_id, finished_at) "
                "VALUES ('flash', ?, 'task', 'default', ?, ?, 10, 2, 1.5, 1, ?, 0, 1, 150.0)",
                (suite, idx, outcome, '{"final_distance": 0.1}'),
            )
            for chunk in range(2):
                conn.execute(
                    "INSERT INTO chunks(source, policy, suite, task, split, idx, chunk, encode_ms, "
                    "video_ms, action_ms, decode_ms, total_ms, stages_json, nfe_video, nfe_action, device, "
                    "warmup, run_id) "
                    "VALUES ('rollout', 'flash', ?, 'task', 'default', ?, ?, 1.0, 4.0, 5.0, 0.5, 11.0, "
                    "'{\"extra\": 0.25}', 1, 2, 'cpu (old)', ?, 1)",
                    (suite, idx, chunk, int(chunk == 0)),
                )
    conn.commit()
    conn.close()
    return out


__all__ = ["LEGACY_SCHEMA", "ROLLOUT_PACKAGES", "SPEC", "SUITES", "write_legacy_store"]
