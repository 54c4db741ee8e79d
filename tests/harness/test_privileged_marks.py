"""A policy run on a suite that hands out privileged inputs is marked privileged (‡) in the store, the
summary, the report's tables and notes, and `wambench compare`; the same policy on a plain suite is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import runner
from harness.config import parse_config
from harness.records import PRIVILEGED_NOTE, PolicyInfo
from harness.report.compare import compare_runs, comparison_table
from harness.report.index import policy_lines
from harness.report.results import load_runs
from harness.store import Store
from harness.summary import status_rows

GREEDY = "tests.harness.toy:greedy"
TOY = "tests.harness.toy:toy_suite"


def _run(out: Path, suites: list[str]) -> Path:
    config = parse_config(
        {
            "policies": [GREEDY, {"name": GREEDY, "label": "other"}],
            "suites": [{"name": s, "tasks": ["reach_a"], "splits": ["easy"]} for s in suites],
            "episodes": 2,
            "workers": 1,
            "out": str(out),
        }
    )
    assert not runner.run(config).failed
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("privileged")
    return {
        "mixed": _run(
            root / "mixed", ["tests.harness.toy:toy_suite", "tests.harness.toy:toy_privileged_suite"]
        ),
        "plain": _run(root / "plain", ["tests.harness.toy:toy_suite"]),
    }


def test_the_store_marks_the_spec_of_the_privileged_suite_only(runs: dict[str, Path]) -> None:
    with Store.open(runs["mixed"]) as s:
        specs, run_level = s.policy_specs(), s.policies()[GREEDY]
    assert specs[(GREEDY, "toy_privileged")].privileged and not specs[(GREEDY, "toy")].privileged
    assert run_level.privileged  # the run-level row: privileged where any suite was
    with Store.open(runs["plain"]) as s:
        assert not any(p.privileged for p in s.policies().values())


def test_every_face_of_the_results_marks_it(runs: dict[str, Path]) -> None:
    mixed = load_runs([runs["mixed"]])
    (line,) = [ln for ln in policy_lines(mixed) if ln.startswith(f"| {GREEDY} ")]
    assert "‡ privileged" in line
    with Store.open(runs["mixed"]) as s:
        rows = {(r["policy"], r["suite"]): r["privileged"] for r in status_rows(s)}
    assert rows[(GREEDY, "toy_privileged")] == "yes ‡" and rows[(GREEDY, "toy")] == "no"
    table = comparison_table(compare_runs([runs["mixed"]], GREEDY, "other", n_boot=100))
    assert any(PRIVILEGED_NOTE in n for n in table.notes)
    plain = load_runs([runs["plain"]])
    assert not any("‡" in ln for ln in policy_lines(plain))
    assert not any(
        PRIVILEGED_NOTE in n
        for n in comparison_table(compare_runs([runs["plain"]], GREEDY, "other", n_boot=100)).notes
    )


def test_marks_put_the_privileged_sign_after_the_untrained_one() -> None:
    info = PolicyInfo.from_spec("p", None, {"details": {"trained": False, "privileged": True}})
    assert info.untrained and info.privileged and info.marks == " † ‡"
    assert PolicyInfo.from_spec("q", None, {"backend": "x", "checkpoint": "c"}).marks == ""
