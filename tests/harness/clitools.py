"""Running the `wambench` command in tests: as a subprocess, the way a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from harness.store import Store

ROOT = Path(__file__).resolve().parents[2]
TOY = "tests.harness.toy:toy_suite"


def wambench(*args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = (), **kw):
    """`wambench ARGS` as a subprocess; `prefix` runs it under another command (e.g. `unshare`)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "harness.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        **kw,
    )


def write_config(path: Path, **overrides) -> Path:
    data = {
        "policies": ["tests.harness.toy:greedy", {"name": "tests.harness.toy:noisy", "label": "noisy"}],
        "suites": [{"name": TOY, "options": {"step_sleep_s": 0.0}}],
        "episodes": 3,
        "workers": 2,
        **overrides,
    }
    path.write_text(yaml.safe_dump(data))
    return path


def children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def episodes_stored(out: Path) -> int:
    if not (out / "wambench.sqlite").exists():
        return 0
    with Store.open(out) as s:
        return len(s.episodes())


def start_run(conf: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "run", str(conf), "--out", str(out), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for(cond, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def worker_pids(pid: int) -> list[int]:
    """The spawned worker processes of a `wambench run` (its children running multiprocessing's main)."""
    found = []
    for kid in children(pid):
        try:
            if "spawn_main" in Path(f"/proc/{kid}/cmdline").read_text():
                found.append(kid)
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    """Running (a zombie is dead: an unreaped child in a container whose PID 1 does not reap)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
