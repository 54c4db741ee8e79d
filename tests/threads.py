"""Running a test's concurrent clients: one thread each, all started before any is waited for."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable


def run_threads(target: Callable[[int], None], indices: Iterable[int], timeout_s: float) -> None:
    """`target(i)` in a thread per index; returns once every thread ended or `timeout_s` passed for it
    (a test then fails on what the stuck one did not record, not by hanging)."""
    threads = [threading.Thread(target=target, args=(i,)) for i in indices]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout_s)
