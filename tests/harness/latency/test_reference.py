"""The paper's latency numbers as wambench carries them."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from harness.latency.reference import PAPER_DEVICE, paper_latency, paper_rows, teacher_steps

PACKAGED = Path(__file__).resolve().parents[3] / "harness" / "papers" / "flash-wam" / "paper_tables.csv"


def test_lookup() -> None:
    t = paper_latency("robotwin2", (25, 50))
    assert t is not None and t.total_ms == 8100.0 and t.video_ms == 3550.0 and t.action_ms == 4550.0
    assert t.device == PAPER_DEVICE == "NVIDIA L40S"
    f = paper_latency("robotwin2", (1, 1))
    assert f is not None and f.total_ms == 348.0 and f.speedup == 23.3
    lib = paper_latency("libero_goal", (1, 2))
    assert lib is not None and lib.speedup == 13.7 and lib.total_ms is None
    assert paper_latency("robotwin2", (3, 3)) is None
    assert teacher_steps("robotwin2") == (25, 50) and teacher_steps("libero_10") == (20, 50)
    assert teacher_steps("other") is None


@pytest.mark.skipif(not PACKAGED.exists(), reason="packaged reference tables not present yet")
def test_agrees_with_packaged_reference_tables() -> None:
    with open(PACKAGED) as fh:
        rows = list(csv.DictReader(fh))
    for family in ("robotwin2", "libero"):
        for ref in paper_rows(family):
            v, a = str(ref.steps[0]), str(ref.steps[1])
            mine = {
                "total_ms": ref.total_ms,
                "video_ms": ref.video_ms,
                "action_ms": ref.action_ms,
                "speedup": ref.speedup,
            }
            for r in rows:
                same = r["nfe_video"] == v and r["nfe_action"] == a and r["benchmark"] == family
                if same and r["column"] in mine and r["table"] in ("figure1", "table1", "table2"):
                    assert mine[r["column"]] == pytest.approx(float(r["value"])), r
