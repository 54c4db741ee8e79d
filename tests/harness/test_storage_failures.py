"""What a run does when its output directory or store cannot be used: one line, exit 3 (2 for a bad
--out), every finished episode kept, and a crashed run never recorded `finished`."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import runner
from harness.cli import main
from harness.cli.export import export
from harness.errors import UserError
from harness.store import Store
from harness.types import EpisodeKey
from tests.harness.clitools import wambench, write_config
from tests.harness.test_runner import cfg


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.strip().splitlines() if "error:" in ln]
    assert len(lines) == 1, stderr
    return lines[0]


def _finished_run(tmp_path: Path) -> tuple[Path, Path]:
    conf = write_config(tmp_path / "c.yaml", episodes=1)
    out = tmp_path / "out"
    assert wambench("run", str(conf), "--out", str(out)).returncode == 0
    return conf, out


def test_disk_full_mid_run_exits_3_keeps_every_finished_episode_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_open = Store.open.__func__  # type: ignore[attr-defined]

    def small_disk(cls: type[Store], out_dir: Any, create: bool = False) -> Store:
        store = real_open(cls, out_dir, create)
        if create:  # the runner's store: a few pages past what the schema and manifest need
            pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
            store.conn.execute(f"PRAGMA max_page_count = {pages + 4}")
        return store

    monkeypatch.setattr(Store, "open", classmethod(small_disk))
    conf = write_config(tmp_path / "c.yaml", episodes=10, workers=1)
    out = tmp_path / "o"
    assert main(["run", str(conf), "--out", str(out)]) == 3
    assert "the disk is full" in _one_error_line(capsys.readouterr().err)
    monkeypatch.undo()
    with Store.open(out) as s:
        assert [r.status for r in s.runs()] != ["finished"]
        columns, rows = s.table("episodes")  # as exported: with each episode's recorded chunk count
        assert 0 < len(rows) < 120
        per_episode: dict[tuple, int] = {}
        for c in s.chunks("rollout"):
            per_episode[(c.policy, c.key)] = per_episode.get((c.policy, c.key), 0) + 1
        for row in rows:  # no half-written episode: every stored one has all its chunks
            r = dict(zip(columns, row, strict=True))
            key = EpisodeKey(r["suite"], r["task"], r["split"], r["idx"])
            assert per_episode[(r["policy"], key)] == r["chunks"]
    again = wambench("run", str(conf), "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert f"{len(rows)} already finished" in again.stderr


class _Exploding:
    """An executor whose results stop with a bug after two episodes."""

    def __init__(self) -> None:
        from harness.executors.local import LocalExecutor

        self.inner = LocalExecutor(1, 60.0)

    def start(self, setup: Any) -> None:
        self.inner.start(setup)

    def submit(self, item: Any) -> None:
        self.inner.submit(item)

    def results(self) -> Iterator[Any]:
        for i, rec in enumerate(self.inner.results()):
            if i == 2:
                raise RuntimeError("executor bug")
            yield rec

    def shutdown(self) -> None:
        self.inner.shutdown()


def test_a_crashed_run_is_never_recorded_finished(tmp_path: Path) -> None:
    out = tmp_path / "x"
    with pytest.raises(RuntimeError, match="executor bug"):
        runner.run(cfg(out, episodes=1), executor=_Exploding())
    with Store.open(out) as s:
        assert [r.status for r in s.runs()] == ["crashed"]
        assert len(s.episodes()) == 2


def test_out_naming_a_file_is_bad_input(tmp_path: Path) -> None:
    conf = write_config(tmp_path / "c.yaml")
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    r = wambench("run", str(conf), "--out", str(target))
    assert r.returncode == 2 and "is a file, not a directory" in _one_error_line(r.stderr)
    assert target.read_text() == "keep me"


def test_a_corrupt_store_exits_3_and_is_left_as_it_was(tmp_path: Path) -> None:
    conf = write_config(tmp_path / "c.yaml")
    out = tmp_path / "o"
    out.mkdir()
    junk = b"this is not sqlite " * 500
    (out / "wambench.sqlite").write_bytes(junk)
    for args in (["run", str(conf), "--out", str(out)], ["info", str(out)], ["export", str(out)]):
        r = wambench(*args)
        assert r.returncode == 3, (args, r.stderr)
        assert "corrupt or not a wambench store" in _one_error_line(r.stderr)
    assert (out / "wambench.sqlite").read_bytes() == junk


def test_a_store_path_that_is_a_directory_exits_3(tmp_path: Path) -> None:
    conf = write_config(tmp_path / "c.yaml")
    out = tmp_path / "o"
    (out / "wambench.sqlite").mkdir(parents=True)
    for args in (["run", str(conf), "--out", str(out)], ["info", str(out)]):
        r = wambench(*args)
        assert r.returncode == 3, (args, r.stderr)
        assert "is a directory, not a wambench store" in _one_error_line(r.stderr)


def test_export_of_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no wambench store"):
        export(tmp_path / "none", "csv")
    assert not (tmp_path / "none").exists()


# ---- read-only file systems ----------------------------------------------------------------------


def _read_only_prefix(directory: Path) -> tuple[str, ...]:
    """A command prefix under which `directory` is read-only. As root, chmod stops nothing, so a
    private mount namespace bind-mounts it read-only (unshare -rm); otherwise chmod does it."""
    if os.geteuid() != 0:
        for p in [directory, *directory.rglob("*")]:
            p.chmod(p.stat().st_mode & ~0o222)
        return ()
    if shutil.which("unshare") is None:
        pytest.skip("running as root without unshare: no way to make a directory read-only")
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    prefix = ("unshare", "-rm", "sh", "-c", script, str(directory))
    probe = subprocess.run([*prefix, "touch", str(directory / ".probe")], capture_output=True, text=True)
    if probe.returncode == 0 or "Read-only file system" not in probe.stderr:
        pytest.skip(f"cannot make a read-only bind mount here (unshare -rm): {probe.stderr.strip()}")
    return prefix


def test_info_works_on_a_read_only_file_system(tmp_path: Path) -> None:
    _, out = _finished_run(tmp_path)
    prefix = _read_only_prefix(out)
    r = wambench("info", str(out), prefix=prefix)
    assert r.returncode == 0, r.stderr
    assert "manifest: 6 episodes" in r.stdout and "read-only" in r.stdout
    j = wambench("info", str(out), "--format", "json", prefix=prefix)
    assert j.returncode == 0 and '"manifest_episodes": 6' in j.stdout


def test_run_on_a_read_only_file_system_exits_3_and_changes_nothing(tmp_path: Path) -> None:
    conf, out = _finished_run(tmp_path)
    before = (out / "wambench.sqlite").read_bytes()
    prefix = _read_only_prefix(out)
    r = wambench("run", str(write_config(tmp_path / "c.yaml", episodes=2)), "--out", str(out), prefix=prefix)
    assert r.returncode == 3, r.stderr
    assert "read-only file system" in _one_error_line(r.stderr)
    assert (out / "wambench.sqlite").read_bytes() == before
    assert conf.exists()
