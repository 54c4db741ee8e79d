"""A RoboTwin run's default worker count comes from the visible GPUs (query mocked: no GPU here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import gpus, runner, sizing
from harness.config import parse_config
from tests.suites.robotwin import robotwin_double


def test_robotwin_workers_follow_gpu_memory(
    checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sizing.os, "cpu_count", lambda: 16)
    monkeypatch.setattr(sizing, "available_memory_gb", lambda: 1000.0)
    options = {"robotwin_root": str(checkout), "task_factory": robotwin_double.FACTORY}
    config = parse_config(
        {
            "policies": ["tests.suites.robotwin.hold_policy:hold"],
            "suites": [
                {"name": "robotwin2", "tasks": ["adjust_bottle"], "splits": ["clean"], "options": options}
            ],
            "episodes": 50,
            "out": str(tmp_path / "run"),
        }
    )
    monkeypatch.setattr(gpus, "free_memory_gb", lambda: (20.0, 9.0))  # two GPUs, one half full
    plan = runner.plan(config)
    assert plan.workers == 5 + 2  # floor(20 / 4) + floor(9 / 4) at RoboTwin's 4 GB per env
    assert "2 GPU(s) at ~4 GB of GPU memory per env" in plan.workers_note
    assert plan.lock is not None
    plan.lock.release()  # a plan holds its output directory until it runs; plan again below
    monkeypatch.setattr(gpus, "free_memory_gb", lambda: ())
    plan = runner.plan(config)
    assert plan.workers == 1 and plan.workers_note.startswith("no GPU visible to torch: 1 worker")
