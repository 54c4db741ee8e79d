"""`wambench report` end to end: the make-eval path (LIBERO, untrained tiny policies), reviewer mode,
figures on disk, and bad input as exit code 2."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main
from harness.report.providers import figures
from tests.harness.report.synth import SynthPolicy, by_index, make_store, manifest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _figure2_provider() -> Iterator[None]:
    """The `wambench.figures` entry point as pyproject.toml declares it (the shared venv's installed
    metadata may predate it until `make setup` reinstalls)."""
    figures.register("fig2_analysis", "policies.wam.figures:figure2")
    yield
    figures.unregister("fig2_analysis")


# Untrained tiny policies, timed on the test's CPU: what `make eval` stores.
_untrained_tiny = functools.partial(
    SynthPolicy, backend="tiny", checkpoint=None, trained=False, device="cpu (test)"
)
TINY = [
    _untrained_tiny("teacher-20v50a", "teacher", 20, 50, total_ms=300.0, video_ms=120.0, action_ms=150.0),
    _untrained_tiny("flash-wam-1v1a", "flash-wam", 1, 1, total_ms=20.0, video_ms=6.0, action_ms=8.0),
]


def _figures_ok(folder: Path, stems: list[str]) -> None:
    for stem in stems:
        png, pdf = folder / f"{stem}.png", folder / f"{stem}.pdf"
        assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 5000, stem
        assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 1000, stem


def test_make_eval_path_small_libero_run_with_tiny_policies(tmp_path: Path) -> None:
    specs = manifest("libero_spatial", ["pick_up_the_black_bowl"], ["default"], 2)
    specs += manifest("libero_goal", ["open_the_middle_drawer"], ["default"], 2)
    out = make_store(tmp_path / "results" / "ci", TINY, specs, by_index({}))
    report = tmp_path / "reports" / "ci"
    assert main(["report", str(out), "--out", str(report), "--vs", "paper", "--budget-ms", "150"]) == 0
    index = (report / "index.md").read_text()
    assert "untrained tiny model: success ~0 is expected" in index
    for name in ("table1", "table2", "table4", "table7", "table8", "pertask_libero"):
        for ext in ("md", "tex", "csv"):
            assert (report / "tables" / f"{name}.{ext}").exists()
        assert f"tables/{name}.md" in index
    assert "No data for this table" in (report / "tables" / "table1.md").read_text()  # no RoboTwin ran
    table2 = (report / "tables" / "table2.md").read_text()
    assert "Flash-WAM †" in table2 and "15.0×" in table2  # 300 ms / 20 ms on the same device
    assert (
        "cfg0123" in index and "deadbeefcafe" in index and "cpu (test)" in index and "torch 2.13.0" in index
    )
    _figures_ok(
        report / "figures",
        ["fig1_latency_libero", "success_latency_libero", "heatmap_libero", "fig2_analysis"],
    )


def test_reviewer_mode(tmp_path: Path) -> None:
    report = tmp_path / "paper"
    assert main(["report", "--reference", "paper", "--out", str(report)]) == 0
    index = (report / "index.md").read_text()
    assert "stack_bowls_three" in index and "review/consistency.md" in index
    review = (report / "review" / "consistency.md").read_text()
    assert "Counting stack_bowls_three" in review
    assert (report / "tables" / "table8.tex").exists()
    _figures_ok(
        report / "figures", ["fig1_latency_paper", "success_latency_paper", "heatmap_paper", "fig2_analysis"]
    )


def test_real_robot_table(tmp_path: Path) -> None:
    specs = manifest("libero_object", ["t"], ["default"], 1)
    out = make_store(tmp_path / "r", TINY[:1], specs, by_index({}))
    csv = tmp_path / "robot.csv"
    csv.write_text(
        "method,nfe_video,nfe_action,task,successes,trials\nflash-wam,1,1,T1,4,10\nflash-wam,1,1,T2,5,10\n"
    )
    assert (
        main(["report", str(out), "--out", str(tmp_path / "rep"), "--real-robot", str(csv), "--vs", "paper"])
        == 0
    )
    t3 = (tmp_path / "rep" / "tables" / "table3.md").read_text()
    assert "| Flash-WAM | 1v/1a | 40.0 <sub>" in t3 and "| 40 | +0.0 |" in t3  # the paper prints 40%
    bad = tmp_path / "bad.csv"
    bad.write_text("method,task\nx,T1\n")
    assert main(["report", str(out), "--out", str(tmp_path / "rep2"), "--real-robot", str(bad)]) == 2


def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "nostore").mkdir()
    assert main(["report", str(tmp_path / "nostore"), "--out", str(tmp_path / "r")]) == 2
    assert "no wambench store" in capsys.readouterr().err
    a = make_store(tmp_path / "a", TINY[:1], manifest("libero_goal", ["t"], ["default"], 2), by_index({}))
    b = make_store(tmp_path / "b", TINY[:1], manifest("libero_goal", ["t"], ["default"], 3), by_index({}))
    assert main(["report", str(a), str(b), "--out", str(tmp_path / "r")]) == 2
    assert "different episode manifests" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "r")]) == 2
    assert main(["report", str(a), "--reference", "paper", "--out", str(tmp_path / "r")]) == 2
    assert not (tmp_path / "r").exists()  # nothing written before the input was checked
