"""How many workers a run gets by default: from cores, free memory, and the GPUs' free memory.

Kept apart from the planner (harness/planning.py) because it reads the machine, not the config.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from harness import gpus
from harness.types import Suite


def available_memory_gb() -> float:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return 8.0


def env_memory_gb(suites: Mapping[str, Suite]) -> float:
    """One worker's memory: the largest per-env footprint the run's suites declare."""
    return float(max((getattr(s, "env_memory_gb", 0.5) for s in suites.values()), default=0.5))


def default_workers(suites: Mapping[str, Suite], n_items: int) -> tuple[int, str]:
    """As many as cores allow, and as memory allows at each suite's per-env footprint; for a suite
    whose envs need a GPU (`env_gpu_memory_gb`), as the visible GPUs' free memory allows (harness.gpus).
    Returns the count and, when a GPU decided it, how."""
    cores = os.cpu_count() or 1
    by_memory = int(available_memory_gb() * 0.8 // max(env_memory_gb(suites), 0.1))
    workers = max(1, min(cores, by_memory, n_items))
    per_gpu_env = max(
        (float(getattr(s, "env_gpu_memory_gb", 0.0) or 0.0) for s in suites.values()), default=0.0
    )
    if per_gpu_env <= 0:
        return workers, ""
    by_gpu = gpus.gpu_workers(per_gpu_env, cores, gpus.free_memory_gb())
    return min(workers, by_gpu.workers), by_gpu.note


__all__ = ["available_memory_gb", "default_workers", "env_memory_gb"]
