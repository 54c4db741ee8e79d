"""Older stores still open and read: migrated when they can be written, read as they are when not.

The legacy store (tests/harness/legacy_store.py) has the tables an older wambench created: one spec per
policy (its last suite's) and the run's provenance as flat columns, a latency run's in its own format.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.records import Provenance
from harness.report.results import load_runs
from harness.store import Store
from harness.store_schema import SCHEMA_VERSION
from harness.storeio import connect_read_only
from harness.types import EpisodeKey
from tests.harness.legacy_store import ROLLOUT_PACKAGES, SPEC, SUITES, write_legacy_store


def _check_reads(s: Store) -> None:
    """What every reader gets from the legacy store, migrated or not."""
    rollout, latency = s.runs()
    assert (rollout.kind, rollout.status, rollout.config_hash) == ("rollout", "finished", "cfgold")
    assert rollout.provenance == Provenance(
        wambench_version="0.1.0",
        git_revision="8e707265955317fde4ff44b969ddfad8b4e5dac1",
        packages=ROLLOUT_PACKAGES,
        host="host-a",
        device="cpu (old)",
        python="3.11",
        command="wambench run mixed",
    )
    assert latency.provenance.git_revision == "8e70726" and latency.provenance.device == "NVIDIA L40S"
    assert [r.run_id for r in s.runs("latency")] == [latency.run_id]
    # the one stored spec stands for every suite the policy ran on
    specs = s.policy_specs()
    assert set(specs) == {("flash", suite) for suite in SUITES}
    assert all(info.spec == SPEC and info.nfe == (1, 2) and not info.untrained for info in specs.values())
    assert s.policies()["flash"].options == {"backend": "lingbot"}
    episodes = s.episodes(with_chunks=True)
    assert len(episodes) == 4 and {e.outcome for e in episodes} == {"success", "failure"}
    first = episodes[0]
    assert first.key == EpisodeKey("libero_10", "task", "default", 0) and first.info == {
        "final_distance": 0.1
    }
    assert [c.warmup for c in first.chunks] == [True, False]
    assert first.chunks[0].timings == {
        "encode": 1.0,
        "video": 4.0,
        "action": 5.0,
        "decode": 0.5,
        "total": 11.0,
        "extra": 0.25,
    }
    assert first.chunks[0].nfe == {"video": 1, "action": 2} and first.execution == {}
    counts = s.outcome_counts()
    assert {k: (c.success, c.failure, c.error) for k, c in counts.items()} == {
        ("flash", suite): (1, 1, 0) for suite in SUITES
    }


def test_an_older_store_opened_for_writing_is_migrated_and_reads(tmp_path: Path) -> None:
    out = write_legacy_store(tmp_path / "old")
    with Store.open(out) as s:
        assert not s.readonly
        _check_reads(s)
        exported, rows = s.table("policy_specs")  # a real table now, filled from the old spec
        assert exported == ["policy", "suite", "spec_json"] and len(rows) == 2
    with Store.open(out) as s:  # a second open migrates nothing twice
        _check_reads(s)
        assert len(s.table("policy_specs")[1]) == 2
        # a run recorded now stores its provenance whole, beside the old ones
        run_id = s.begin_run(
            kind="rollout",
            config_name="mixed",
            config={},
            config_hash="cfgold",
            manifest_hash="mh",
            provenance=Provenance(git_revision="abc", packages={"torch": "2.13.0"}, cpu_count=16),
        )
        s.finish_run(run_id, "finished")
        new = s.runs()[-1]
    assert new.provenance == Provenance(git_revision="abc", packages={"torch": "2.13.0"}, cpu_count=16)


def test_an_older_store_read_without_writing_reads_the_same(tmp_path: Path) -> None:
    out = write_legacy_store(tmp_path / "old")
    before = (out / "wambench.sqlite").read_bytes()
    path = out / "wambench.sqlite"
    with Store(path, connect_read_only(path, SCHEMA_VERSION), readonly=True) as s:
        _check_reads(s)
        columns, rows = s.table("policy_specs")  # as the reader sees it: the one spec per suite
        assert columns == ["policy", "suite", "spec_json"] and [r[:2] for r in rows] == [
            ("flash", suite) for suite in SUITES
        ]
    assert (out / "wambench.sqlite").read_bytes() == before


def test_the_report_reads_an_older_store(tmp_path: Path) -> None:
    out = write_legacy_store(tmp_path / "old")
    keep = tmp_path / "copy"
    shutil.copytree(out, keep)
    runs = load_runs([keep])
    assert [p.nfe for p in runs.policies_in(["libero_10"])] == [(1, 2)]
    assert [p.nfe for p in runs.policies_in(["robotwin2"])] == [(1, 2)]
    assert [(out_dir, r.provenance.git_revision) for out_dir, r in runs.runs][1] == (str(keep), "8e70726")
    assert runs.devices() == ["cpu (old)"]
