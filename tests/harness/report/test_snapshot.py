"""The rendered tables do not change when their layouts move between code and data (see snapshot.py)."""

from __future__ import annotations

from functools import lru_cache

import pytest

from tests.harness.report.snapshot import SNAPSHOTS, render_all

NAMES = sorted(p.name for p in SNAPSHOTS.glob("*.md"))


@lru_cache(maxsize=1)
def _rendered() -> dict[str, str]:
    return render_all()


def test_every_snapshot_is_rendered() -> None:
    assert len(NAMES) >= 10 and sorted(_rendered()) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_rendering_equals_the_snapshot(name: str) -> None:
    want = (SNAPSHOTS / name).read_text(encoding="utf-8")
    assert _rendered()[name] == want, f"{name}: the rendered Markdown differs from snapshots/{name}"
