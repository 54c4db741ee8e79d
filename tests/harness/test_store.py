from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.cli.export import export
from harness.errors import UserError
from harness.records import ChunkRecord, EpisodeRecord
from harness.store import Store
from harness.types import EpisodeKey, EpisodeSpec

KEY = EpisodeKey("toy", "reach_a", "easy", 0)


def _rec(outcome: str, attempt: int = 1, chunks: int = 2) -> EpisodeRecord:
    cs = [
        ChunkRecord(i, {"video": 1.0, "action": 2.0, "total": 3.5, "extra": 0.1}, {"video": 1}, "cpu", i == 0)
        for i in range(chunks)
    ]
    return EpisodeRecord(
        "p", KEY, outcome, 10, 1.0, attempt, "boom" if outcome == "error" else None, chunks=cs
    )


def test_wal_mode_and_missing_store_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no wambench store"):
        Store.open(tmp_path / "none")
    with Store.open(tmp_path, create=True) as s:
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_record_is_idempotent_and_replaces_chunks(tmp_path: Path) -> None:
    with Store.open(tmp_path, create=True) as s:
        s.record_episode(_rec("error", 1, chunks=3))
        s.record_episode(_rec("success", 2, chunks=2))
        s.record_episode(_rec("success", 2, chunks=2))
        rows = s.episodes()
        assert len(rows) == 1 and rows[0].outcome == "success" and rows[0].attempt == 2
        chunks = s.chunks("rollout")
        assert [c.record.chunk for c in chunks] == [0, 1]
        assert chunks[0].record.warmup and not chunks[1].record.warmup
        assert chunks[0].ms("total") == 3.5 and chunks[0].record.timings["extra"] == 0.1
        assert chunks[0].record == _rec("success").chunks[0]  # what was written reads back whole


def test_a_late_error_never_overwrites_a_final_outcome(tmp_path: Path) -> None:
    with Store.open(tmp_path, create=True) as s:
        s.record_episode(_rec("failure"))
        s.record_episode(_rec("error", 2))
        assert s.episodes()[0].outcome == "failure"
        assert len(s.chunks()) == 2


def test_final_keys_respect_attempts(tmp_path: Path) -> None:
    with Store.open(tmp_path, create=True) as s:
        s.record_episode(_rec("error", 1))
        assert s.final_keys(max_attempts=2) == set()
        assert s.final_keys(max_attempts=1) == {("p", KEY)}


def test_manifest_is_frozen(tmp_path: Path) -> None:
    specs = [EpisodeSpec("toy", "reach_a", "easy", i, i, 30, 7) for i in range(3)]
    with Store.open(tmp_path, create=True) as s:
        s.write_manifest(specs)
        s.write_manifest(specs)  # same list: fine
        assert s.manifest() == specs
        with pytest.raises(UserError, match="different episode manifest"):
            s.write_manifest(specs[:2])


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_export_formats(tmp_path: Path, fmt: str) -> None:
    with Store.open(tmp_path, create=True) as s:
        s.record_episode(_rec("success"))
    files = {p.name: p for p in export(tmp_path, fmt)}
    path = files[f"episodes.{fmt}"]
    df = {"csv": pd.read_csv, "parquet": pd.read_parquet}.get(fmt, lambda p: pd.read_json(p, lines=True))(
        path
    )
    assert list(df["outcome"]) == ["success"]
    assert f"chunks.{fmt}" in files
