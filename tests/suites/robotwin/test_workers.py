"""A RoboTwin run's default worker count comes from the visible GPUs (query mocked: no GPU here)."""

from __future__ import annotations

from typing import Any

import pytest

from harness import gpus, runner, sizing


def test_robotwin_workers_follow_gpu_memory(hold_run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sizing.os, "cpu_count", lambda: 16)
    monkeypatch.setattr(sizing, "available_memory_gb", lambda: 1000.0)
    config = hold_run(episodes=50)
    monkeypatch.setattr(gpus, "free_memory_gb", lambda: (20.0, 9.0))  # two GPUs, one half full
    plan = runner.plan(config)
    assert plan.workers == 5 + 2  # floor(20 / 4) + floor(9 / 4) at RoboTwin's 4 GB per env
    assert "2 GPU(s) at ~4 GB of GPU memory per env" in plan.workers_note
    assert plan.lock is not None
    plan.lock.release()  # a plan holds its output directory until it runs; plan again below
    monkeypatch.setattr(gpus, "free_memory_gb", lambda: ())
    plan = runner.plan(config)
    assert plan.workers == 1 and plan.workers_note.startswith("no GPU visible to torch: 1 worker")
