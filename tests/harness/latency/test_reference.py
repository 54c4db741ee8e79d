"""The paper's latency numbers, read from its definition (harness/papers/NAME) and nowhere else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.latency.reference import (
    PAPER_DEVICE,
    latency_reference,
    paper_family,
    paper_latency,
    paper_rows,
    teacher_steps,
)
from harness.report.paperdef import load_paper

QUICK = Path(__file__).resolve().parents[1] / "report" / "data" / "quick-wam"


def test_lookup() -> None:
    t = paper_latency("robotwin2", (25, 50))
    assert t is not None and t.total_ms == 8100.0 and t.video_ms == 3550.0 and t.action_ms == 4550.0
    assert t.device == PAPER_DEVICE == "NVIDIA L40S" and t.where == "Figure 1, Table 1"
    f = paper_latency("robotwin2", (1, 1))
    assert f is not None and f.total_ms == 348.0 and f.speedup == 23.3
    lib = paper_latency("libero_goal", (1, 2))
    assert lib is not None and lib.speedup == 13.7 and lib.total_ms is None and lib.where == "Table 2"
    assert paper_latency("robotwin2", (3, 3)) is None
    assert teacher_steps("robotwin2") == (25, 50) and teacher_steps("libero_10") == (20, 50)
    assert teacher_steps("other") is None and paper_family("other") is None


def test_suites_belong_to_the_benchmarks_paper_yaml_declares() -> None:
    assert paper_family("libero_long") == "libero"  # an alias of libero_10
    assert paper_family("libero_90") is None and paper_family("robotwin") is None  # no name-prefix guess
    assert [r.steps for r in paper_rows("robotwin2")] == [(25, 50), (1, 2), (1, 1)]


def test_a_made_up_paper_yields_its_own_latency_rows() -> None:
    ref = latency_reference(load_paper(QUICK))
    assert ref.device == "Made-up GPU" and ref.source == "Quick-WAM (made up for a test)"
    assert ref.teacher_steps("libero_goal") == (20, 50) and ref.family("libero_10") is None
    assert [(r.steps, r.speedup, r.total_ms, r.where) for r in ref.rows_of("libero_spatial")] == [
        ((20, 50), 1.0, None, "Table A"),
        ((1, 1), 10.0, 90.0, "Figure 2, Table A"),
    ]
    assert all(r.device == "Made-up GPU" for r in ref.rows)


def _copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "quick-wam"
    shutil.copytree(QUICK, folder)
    text = (folder / file).read_text(encoding="utf-8")
    assert old in text
    (folder / file).write_text(text.replace(old, new), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("file", "old", "new", "error"),
    [
        ("paper.yaml", "latency: {device: Made-up GPU}\n", "", "names no `latency: device`"),
        ("values.csv", "libero,total_ms,all,90,ms", "libero,speedup,all,90,x", "both 10 and 90"),
    ],
)
def test_a_paper_without_a_device_or_contradicting_itself_is_refused(
    tmp_path: Path, file: str, old: str, new: str, error: str
) -> None:
    with pytest.raises(UserError, match=error):
        latency_reference(load_paper(_copy(tmp_path, file, old, new)))
