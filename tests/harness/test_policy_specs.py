"""A policy that resolves differently per suite (shifts, NFE) is recorded once per (policy, suite), and
the summary, the report and the export each read the spec of the suite they show.

Before, the runner kept the last suite's spec for the whole run, so a mixed LIBERO + RoboTwin run
recorded only RoboTwin's shifts and NFE. Here two toy suites of different camera shapes stand in for
them (tests/harness/toy.py: `shaped` resolves NFE and shift from the camera height).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from harness import runner
from harness.cli.export import export
from harness.config import parse_config
from harness.report.index import policy_lines
from harness.report.results import load_runs
from harness.store import Store
from harness.summary import status_rows

SHAPED = "tests.harness.toy:shaped"


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mixed") / "run"
    config = parse_config(
        {
            "policies": [SHAPED],
            # the wide suite last: the spec the old runner kept for both
            "suites": [
                {"name": "tests.harness.toy:toy_suite", "tasks": ["reach_a"], "splits": ["easy"]},
                {"name": "tests.harness.toy:toy_wide_suite", "tasks": ["reach_a"], "splits": ["easy"]},
            ],
            "episodes": 2,
            "workers": 1,
            "out": str(out),
        }
    )
    result = runner.run(config)
    assert result.ran == 4 and not result.failed
    return out


def test_the_store_holds_one_resolved_spec_per_policy_and_suite(mixed_run: Path) -> None:
    with Store.open(mixed_run) as s:
        specs = s.policy_specs()
        run_level = s.policies()[SHAPED]
    assert set(specs) == {(SHAPED, "toy"), (SHAPED, "toy_wide")}
    narrow, wide = specs[(SHAPED, "toy")], specs[(SHAPED, "toy_wide")]
    assert (narrow.nfe, narrow.details["shift"]) == ((1, 1), 8.0)
    assert (wide.nfe, wide.details["shift"]) == ((2, 1), 16.0)
    assert narrow.suite == "toy" and wide.suite == "toy_wide"
    # the policy-level row keeps what older readers read: the last suite's spec
    assert run_level.nfe == (2, 1) and run_level.suite is None


def test_the_report_reads_each_suites_spec(mixed_run: Path) -> None:
    runs = load_runs([mixed_run])
    (narrow,) = runs.policies_in(["toy"])
    (wide,) = runs.policies_in(["toy_wide"])
    assert narrow.nfe == (1, 1) and wide.nfe == (2, 1)
    (row,) = [line for line in policy_lines(runs) if line.startswith(f"| {SHAPED} ")]
    assert "toy: 1v/1a; toy_wide: 2v/1a" in row


def test_the_export_holds_each_suites_spec(mixed_run: Path, tmp_path: Path) -> None:
    files = {p.name: p for p in export(mixed_run, "csv", tmp_path / "export")}
    df = pd.read_csv(files["policy_specs.csv"])
    got = {
        row.suite: (json.loads(row.spec_json)["nfe_video"], json.loads(row.spec_json)["details"]["shift"])
        for row in df.itertuples()
    }
    assert got == {"toy": (1, 8.0), "toy_wide": (2, 16.0)}


def test_the_summary_counts_each_suite_apart(mixed_run: Path) -> None:
    with Store.open(mixed_run) as s:
        rows = {r["suite"]: r for r in status_rows(s)}
    assert set(rows) == {"toy", "toy_wide"}
    assert all(r["done"] == r["episodes"] == 2 and r["trained"] == "yes" for r in rows.values())
