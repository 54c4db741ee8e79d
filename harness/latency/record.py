"""Writing latency measurements into the results store, beside rollouts.

Chunks go to the `chunks` table with source `benchmark`, keyed (suite, "latency", config label,
episode index), warm-up chunks flagged, each with its device name and network-evaluation counts, so a
report can draw the per-chunk breakdown from rollouts or from benchmarks alike. The run row carries
the provenance a latency number is meaningless without, in the one format rollouts use too
(harness/provenance.py: device name, package versions with torch, git revision), and its config the
dtype, threads, the NFE of every configuration, where the observation geometry came from.

Re-measuring a configuration into the same store replaces its earlier benchmark chunks, so a key never
holds chunks from two runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import provenance
from harness.latency.runner import RunResult
from harness.records import ChunkRecord
from harness.store import Store
from harness.types import EpisodeKey, PolicySpec

SOURCE = "benchmark"
TASK = "latency"


def record(
    out: str | Path,
    results: Sequence[RunResult],
    *,
    suite: str,
    device_name: str,
    config: Mapping[str, Any],
    specs: Mapping[str, PolicySpec],
    packages: Sequence[str] = (),
) -> tuple[Path, int]:
    """Store every chunk of `results` under one `latency` run; returns (store path, run id).
    `packages`: what the suite and policies declare, whose versions the provenance records."""
    cfg = dict(config)
    cfg_json = json.dumps(cfg, sort_keys=True, default=str)
    with Store.open(out, create=True) as store:
        run_id = store.begin_run(
            kind="latency",
            config_name="latency",
            config=json.loads(cfg_json),
            config_hash=hashlib.sha256(cfg_json.encode()).hexdigest()[:16],
            manifest_hash=None,
            provenance=provenance.collect(device_name, packages),
        )
        status = "failed"
        try:
            store.write_policies(
                (
                    (name, name, spec, {k: v for k, v in cfg.get("options", {}).items()})
                    for name, spec in specs.items()
                ),
                {(name, suite): spec for name, spec in specs.items()},
            )
            for res in results:
                store.delete_chunks(SOURCE, res.policy, suite, TASK, res.label)
                by_episode: dict[int, list[ChunkRecord]] = {}
                for s in res.samples:
                    by_episode.setdefault(s.episode, []).append(
                        ChunkRecord(
                            chunk=s.chunk, timings=s.timings, nfe=s.nfe, device=device_name, warmup=s.warmup
                        )
                    )
                for episode, chunks in by_episode.items():
                    store.record_chunks(
                        SOURCE, res.policy, EpisodeKey(suite, TASK, res.label, episode), chunks, run_id
                    )
            status = "finished"
        finally:
            store.finish_run(run_id, status)
        return store.path, run_id


__all__ = ["SOURCE", "TASK", "record"]
