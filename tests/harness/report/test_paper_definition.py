"""A paper is data: a made-up second paper (data/quick-wam, YAML and CSV only) renders its tables,
measured and printed, and gets its consistency audit through the code path Flash-WAM takes."""

from __future__ import annotations

import shutil
from fnmatch import fnmatch
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import UserError
from harness.report.build import build_report
from harness.report.consistency import check_consistency
from harness.report.measured import measured_tables
from harness.report.paper import reference_tables
from harness.report.paperdef import DEFAULT_PAPER, default_paper, load_paper, shipped_papers
from harness.report.render import to_markdown
from harness.report.results import load_runs
from harness.report.review import check_tables, findings
from tests.harness.report.synth import SynthPolicy, by_index, make_store, manifest

QUICK = Path(__file__).parent / "data" / "quick-wam"
ROOT = Path(__file__).resolve().parents[3]
TEACHER = SynthPolicy("teacher-20v50a", "teacher", 20, 50, backend="bignet", total_ms=900.0)
FAST = SynthPolicy("quick-1v1a", "quick", 1, 1, backend="bignet", total_ms=90.0)


def test_the_made_up_paper_is_data_only() -> None:
    assert {p.suffix for p in QUICK.iterdir()} == {".yaml", ".csv"}
    paper = load_paper(QUICK)
    assert paper.name == "quick-wam" and len(paper.values) == 9 and paper.tasks == ()


def test_its_printed_table_renders_from_data_alone() -> None:
    tables = reference_tables(paper=load_paper(QUICK))
    assert [t.name for t in tables] == ["tab_main"]
    assert to_markdown(tables[0]) == (
        "### Table A (paper): LIBERO, two suites\n\n"
        "| Method | NFE | Spat. | Goal | Mean |\n"
        "|---|---|---|---|---|\n"
        "| BigNet teacher | 20v/50a | 90.0 | 80.0 | 85.0 |\n"
        "| Quick (ours) | 1v/1a | 70.2 | 60.0 | 66.0 |\n"
        "\n- As printed.\n"
    )


def test_its_measured_table_renders_beside_its_numbers(tmp_path: Path) -> None:
    specs = manifest("libero_spatial", ["a", "b"], ["default"], 5)
    specs += manifest("libero_goal", ["c"], ["default"], 5)
    store = make_store(tmp_path / "q", [FAST, TEACHER], specs, by_index({TEACHER.id: 4, FAST.id: 2}))
    [table] = measured_tables(load_runs([store]), True, load_paper(QUICK))
    assert table.name == "tab_main" and table.title == "Table A: LIBERO, two suites"
    assert table.header == [
        "Policy",
        "Method",
        "NFE",
        *[f"{h}{x}" for h in ("Spat. success", "Goal success", "Mean") for x in ("", " paper", " Δ")],
    ]
    rows = {r[0].text: [c.text for c in r[1:]] for r in table.rows}
    assert list(rows) == [TEACHER.id, FAST.id]  # the paper's order: highest NFE first
    # teacher: 8/10 Spatial, 4/5 Goal, 12/15 pooled; the paper prints 90.0, 80.0, 85.0
    spatial, goal, mean = ["80.0", "90.0", "-10.0"], ["80.0", "80.0", "+0.0"], ["80.0", "85.0", "-5.0"]
    assert rows[TEACHER.id] == ["BigNet teacher", "20v/50a", *spatial, *goal, *mean]
    assert rows[FAST.id][:2] == ["Quick (ours)", "1v/1a"] and rows[FAST.id][-3:] == ["40.0", "66.0", "-26.0"]
    assert table.notes[-1] == "Mean pools both suites."
    assert "paper: Quick-WAM's printed number for the same method and NFE." in table.notes


def test_its_mean_is_not_compared_when_a_suite_did_not_run(tmp_path: Path) -> None:
    specs = manifest("libero_spatial", ["a"], ["default"], 2)
    store = make_store(tmp_path / "q", [FAST], specs, by_index({}))
    [table] = measured_tables(load_runs([store]), True, load_paper(QUICK))
    row = [c.text for c in table.rows[0]]
    assert row[table.header.index("Mean paper")] == "–"
    assert row[table.header.index("Spat. success paper")] == "70.2"


def test_its_consistency_rules_are_read() -> None:
    paper = load_paper(QUICK)
    report = check_consistency(paper=paper)
    assert {c.kind for c in report.checks} == {"row-average", "granularity"}
    [bad] = report.disagreements  # 66.0 printed; (70.2 + 60.0) / 2 = 65.1
    assert bad.where == "tab_main, quick 1v/1a, average" and bad.recomputed == pytest.approx(65.1)
    assert any("printed 66.0, recomputed 65.10" in f for f in findings(report))
    summary = check_tables(report)[0]
    assert [c.text for c in summary.rows[0]] == [
        "row-average",
        "Mean column vs the suites it averages",
        "2",
        "1",
    ]
    assert all(c.agrees for c in report.of_kind("granularity"))  # 70.2 = 351 of 500 trials


def test_the_command_renders_any_paper_folder(tmp_path: Path) -> None:
    out = tmp_path / "review"
    assert main(["report", "--reference", "paper", "--paper", str(QUICK), "--out", str(out)]) == 0
    index = (out / "index.md").read_text(encoding="utf-8")
    assert index.startswith("# wambench reviewer report: Quick-WAM") and "tables/tab_main.md" in index
    assert not (out / "tables" / "table1.md").exists()
    assert "Counting" not in (out / "review" / "consistency.md").read_text(encoding="utf-8")
    store = make_store(tmp_path / "q", [FAST], manifest("libero_goal", ["c"], ["default"], 2), by_index({}))
    runs = tmp_path / "runs"
    assert main(["report", str(store), "--vs", "paper", "--paper", str(QUICK), "--out", str(runs)]) == 0
    assert sorted(p.name for p in (runs / "tables").glob("*.md")) == ["tab_main.md"]
    assert "| quick-1v1a | Quick (ours) | 1v/1a |" in (runs / "tables" / "tab_main.md").read_text()


def test_the_default_is_flash_wam_and_names_are_checked(tmp_path: Path) -> None:
    assert shipped_papers() == [DEFAULT_PAPER] == ["flash-wam"]
    assert load_paper("flash-wam") is default_paper()
    with pytest.raises(UserError, match=r"no paper 'nope'.*shipped: flash-wam"):
        load_paper("nope")
    store = make_store(tmp_path / "s", [FAST], manifest("libero_goal", ["c"], ["default"], 1), by_index({}))
    with pytest.raises(UserError, match="no real-robot table"):
        build_report([store], tmp_path / "r", real_robot=tmp_path / "robot.csv", paper=load_paper(QUICK))


def _copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "broken"
    shutil.copytree(QUICK, folder)
    text = (folder / file).read_text(encoding="utf-8")
    assert old in text
    (folder / file).write_text(text.replace(old, new), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("file", "old", "new", "error"),
    [
        ("tables.yaml", "notes: [As printed.]", "nots: [As printed.]", r"tables\.yaml: reference\.0\.nots"),
        ("tables.yaml", 'header: "{suite}"}', 'header: "{split}"}', r"header '\{split\}'"),
        ("paper.yaml", "values: values.csv", "values: missing.csv", "has no missing.csv"),
        ("values.csv", "90.0,success_pct", "ninety,success_pct", "values.csv"),
        ("paper.yaml", "- {id: quick,", "- {id: teacher,", "methods listed twice: teacher"),
        ("paper.yaml", "goal], teacher", "goal], aliases: {long: libero_10}, teacher", "aliases of no suite"),
    ],
)
def test_a_broken_definition_says_where(tmp_path: Path, file: str, old: str, new: str, error: str) -> None:
    with pytest.raises(UserError, match=error):
        load_paper(_copy(tmp_path, file, old, new))


def test_every_file_of_the_shipped_papers_is_package_data() -> None:
    """A wheel carries only what [tool.setuptools.package-data] names."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["harness"]
    files = [p.relative_to(ROOT / "harness").as_posix() for p in (ROOT / "harness" / "papers").rglob("*.*")]
    assert len(files) >= 5
    missing = [f for f in files if not any(fnmatch(f, g) for g in globs)]
    assert not missing, f"not in package-data {globs}: {missing}"
