"""Default workers for GPU suites (harness.gpus): the rule, with the GPU query mocked where a GPU is
needed (this machine has none; the real query runs once below and must say so)."""

from __future__ import annotations

from typing import Any

import pytest

from harness import gpus, sizing
from tests.harness.toy import ToySuite


def test_each_visible_gpu_takes_what_its_free_memory_holds() -> None:
    assert gpus.gpu_workers(4.0, 64, [80.0, 30.0]).workers == 20 + 7
    capped = gpus.gpu_workers(4.0, 16, [80.0, 30.0])
    assert capped.workers == 16 and "capped by 16 CPU cores" in capped.note
    assert "2 GPU(s) at ~4 GB of GPU memory per env (80 GB free -> 20, 30 GB free -> 7)" in capped.note


def test_no_gpu_or_too_little_memory_means_one_worker_and_says_why() -> None:
    none = gpus.gpu_workers(4.0, 16, ())
    assert none.workers == 1 and none.note.startswith("no GPU visible to torch: 1 worker")
    assert gpus.gpu_workers(4.0, 16, None).note.startswith("could not ask torch for the GPUs: 1 worker")
    short = gpus.gpu_workers(4.0, 16, [3.5])
    assert short.workers == 1 and "GPU memory short" in short.note


def test_the_query_on_this_machine_sees_no_gpu() -> None:
    """The real probe (a torch subprocess): this CPU-only machine has no CUDA device."""
    assert gpus.free_memory_gb.__wrapped__() == ()


def test_default_workers_asks_the_gpus_only_for_gpu_suites(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sizing.os, "cpu_count", lambda: 16)
    monkeypatch.setattr(sizing, "available_memory_gb", lambda: 1000.0)

    def no_query() -> Any:
        raise AssertionError("a CPU suite must not probe the GPUs")

    monkeypatch.setattr(gpus, "free_memory_gb", no_query)
    assert sizing.default_workers({"toy": ToySuite()}, 100) == (16, "")
    gpu_suite = ToySuite()
    gpu_suite.env_gpu_memory_gb = 10.0  # type: ignore[attr-defined]
    monkeypatch.setattr(gpus, "free_memory_gb", lambda: (139.0,))
    workers, note = sizing.default_workers({"toy": gpu_suite}, 100)
    assert workers == 13 and "139 GB free -> 13" in note
    assert sizing.default_workers({"toy": gpu_suite}, 5)[0] == 5  # never more than there is to run
    monkeypatch.setattr(gpus, "free_memory_gb", lambda: ())
    assert sizing.default_workers({"toy": gpu_suite}, 100) == (1, gpus.gpu_workers(10.0, 16, ()).note)
