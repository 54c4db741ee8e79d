"""The `wambench` command as a user runs it: exit codes, one-line errors, kill -9 and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from harness.store import Store
from tests.harness.clitools import TOY, children, episodes_stored, start_run, wait_for, wambench, write_config


def test_run_then_info_then_export(tmp_path: Path) -> None:
    conf = write_config(tmp_path / "c.yaml")
    out = tmp_path / "out"
    r = wambench("run", str(conf), "--out", str(out))
    assert r.returncode == 0, r.stderr
    info = wambench("info", str(out))
    assert info.returncode == 0 and "noisy" in info.stdout and "manifest: 18 episodes" in info.stdout
    ex = wambench("export", str(out), "--format", "jsonl")
    assert ex.returncode == 0 and (out / "export" / "episodes.jsonl").stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--policy", "flash-wam-1v1"], "did you mean 'flash-wam-1v1a'"),
        (["--suite", "libero_spatail"], "did you mean 'libero_spatial'"),
        (["--tasks", "reach_q"], "unknown task 'reach_q'"),
        (["--episodes", "0"], "--episodes must be at least 1"),
        (["--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    conf = write_config(tmp_path / "c.yaml")
    r = wambench("run", str(conf), "--out", str(tmp_path / "o"), *args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert not (tmp_path / "o").exists()


def test_unknown_config_key_is_one_line_and_exit_2(tmp_path: Path) -> None:
    conf = write_config(tmp_path / "c.yaml", episdoes=3)
    r = wambench("run", str(conf))
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0
    assert "episdoes: unknown key" in r.stderr


def test_other_config_in_the_same_directory_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert wambench("run", str(write_config(tmp_path / "a.yaml")), "--out", str(out)).returncode == 0
    before = (out / "wambench.sqlite").read_bytes()
    r = wambench("run", str(write_config(tmp_path / "b.yaml", seed=5)), "--out", str(out))
    assert r.returncode == 2 and "holds another config" in r.stderr and "seed: 0 -> 5" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    with Store.open(out) as s:
        assert len(s.runs()) == 1
    assert (out / "wambench.sqlite").read_bytes() == before


def test_kill_9_of_a_worker_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    conf = write_config(tmp_path / "c.yaml", suites=[{"name": TOY, "options": {"step_sleep_s": 0.004}}])
    out = tmp_path / "o"
    proc = start_run(conf, out)
    wait_for(lambda: episodes_stored(out) >= 4)
    workers = [p for p in children(proc.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]
    assert workers, "no worker processes found"
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    with Store.open(out) as s:
        rows = s.episodes()
        keys = [(r.policy, r.key) for r in rows]
        assert len(keys) == len(set(keys)) == len(s.manifest()) * 2
        assert all(r.outcome != "error" for r in rows)


def test_sigint_then_rerun_resumes_with_the_uninterrupted_outcomes(tmp_path: Path) -> None:
    conf = write_config(tmp_path / "c.yaml", suites=[{"name": TOY, "options": {"step_sleep_s": 0.004}}])
    reference = tmp_path / "ref"
    assert wambench("run", str(conf), "--out", str(reference)).returncode == 0

    out = tmp_path / "o"
    proc = start_run(conf, out)
    wait_for(lambda: episodes_stored(out) >= 5)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    done_first = episodes_stored(out)
    assert 5 <= done_first < 36
    r = wambench("run", str(conf), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert f"ran {36 - done_first} episode attempts, {done_first} already finished" in r.stderr

    def rows(path: Path) -> dict:
        with Store.open(path) as s:
            return {
                (r.policy, r.key.task, r.key.split, r.key.index): (r.outcome, r.steps) for r in s.episodes()
            }

    assert rows(out) == rows(reference)


def test_a_rerun_that_still_leaves_errored_episodes_exits_1(tmp_path: Path) -> None:
    opts = {"faults": {"raise": ["reach_a/easy/0"]}}
    conf = write_config(tmp_path / "c.yaml", episodes=1, retries=0, suites=[{"name": TOY, "options": opts}])
    out = tmp_path / "o"
    assert wambench("run", str(conf), "--out", str(out)).returncode == 1
    again = wambench("run", str(conf), "--out", str(out))
    assert again.returncode == 1, again.stderr
    assert "ran 0 episode attempts" in again.stderr and "2 episodes ended in error" in again.stderr


def test_malformed_yaml_is_one_line_with_its_position_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("policies: [tests.harness.toy:greedy\nsuites: [x]\n")
    r = wambench("run", str(bad))
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"wambench: error: {bad}:2:"), r.stderr
    d = wambench("run", str(tmp_path))
    assert d.returncode == 2 and "is a directory" in d.stderr and len(d.stderr.strip().splitlines()) == 1


def test_unknown_policy_hint_names_the_real_list_command(tmp_path: Path) -> None:
    r = wambench("run", str(write_config(tmp_path / "c.yaml")), "--policy", "no-such-policy")
    assert r.returncode == 2 and "`wambench list policies`" in r.stderr, r.stderr


@pytest.mark.parametrize(
    "args", [["run"], ["run", "ci", "--episodes", "x"], ["list", "colours"], ["compare", "o"], ["nope"]]
)
def test_argparse_errors_fit_in_two_lines(args: list[str]) -> None:
    r = wambench(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) <= 2 and "error:" in lines[0], r.stderr


def _flash_wam_policies() -> list[str]:
    from harness import registry

    return [n for n in registry.policies.names() if n.startswith("flash-wam")]


def test_list_policies_in_a_pipe_is_plain_and_greppable() -> None:
    r = wambench("list", "policies", env={"COLUMNS": "80"})  # stdout is a pipe, 80 columns as in CI
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert [ln for ln in lines if "flash-wam-1v1a" in ln]  # `| grep flash-wam-1v1a` finds it
    assert sorted(_flash_wam_policies()) == ["flash-wam-1v1a", "flash-wam-1v2a"]
    assert len([ln for ln in lines if "flash-wam" in ln]) == 2  # `| grep -c flash-wam`
    assert not any(ch in r.stdout for ch in "┃│━")  # no box drawing in a pipe


def test_list_as_json_and_csv() -> None:
    import csv
    import io
    import json

    j = json.loads(wambench("list", "policies", "--format", "json").stdout)
    assert {row["policy"] for row in j} >= set(_flash_wam_policies())
    assert {"method", "NFE video", "NFE action", "backend"} <= set(j[0])
    rows = list(csv.DictReader(io.StringIO(wambench("list", "suites", "--format", "csv").stdout)))
    assert "libero_spatial" in {r["suite"] for r in rows}


def test_info_and_compare_as_json_and_csv(tmp_path: Path) -> None:
    import csv
    import io
    import json

    out = tmp_path / "o"
    assert wambench("run", str(write_config(tmp_path / "c.yaml")), "--out", str(out)).returncode == 0
    info = json.loads(wambench("info", str(out), "--format", "json").stdout)
    assert info["manifest_episodes"] == 18 and [r["status"] for r in info["runs"]] == ["finished"]
    by_policy = {r["policy"]: r for r in info["status"]}
    assert set(by_policy) == {"tests.harness.toy:greedy", "noisy"}
    assert all(r["done"] == 18 and r["left"] == 0 for r in by_policy.values())
    status = list(csv.DictReader(io.StringIO(wambench("info", str(out), "--format", "csv").stdout)))
    assert {r["policy"] for r in status} == set(by_policy)
    with Store.open(out) as s:
        wins = sum(1 for r in s.episodes() if r.policy == "noisy" and r.outcome == "success")
    assert int(next(r for r in status if r["policy"] == "noisy")["success"]) == wins

    args = ["compare", str(out), "--a", "tests.harness.toy:greedy", "--b", "noisy", "--n-boot", "200"]
    doc = json.loads(wambench(*args, "--format", "json").stdout)
    assert doc["rows"] and doc["verdict"]
    table = wambench(*args, "--format", "csv").stdout
    assert len(list(csv.reader(io.StringIO(table)))) == len(doc["rows"]) + 1


def test_a_broken_plugin_command_does_not_break_the_others(capsys: pytest.CaptureFixture[str]) -> None:
    import harness.cli as cli
    from harness.testing import installed_entry_points

    with installed_entry_points({"wambench.commands": {"broken": "no_such_plugin.cli"}}):
        assert cli.main(["list", "configs"]) == 0
        assert "ci" in capsys.readouterr().out.split()
        assert cli.main(["broken", "x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1
        and "command 'broken' could not be loaded (entry point wambench.commands:broken" in err[0]
    )
    assert "cannot import module 'no_such_plugin.cli'" in err[0]


def test_a_plugin_claiming_one_of_our_commands_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    import harness.cli as cli
    from harness.testing import installed_entry_points

    with installed_entry_points({"wambench.commands": {"info": "suites.robotwin.cli"}}):
        assert cli.main(["info", "x"]) == 2
    assert "command 'info' is registered twice" in capsys.readouterr().err


def test_bench_help_and_list_show_the_benchmarks_entry_points_register(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import harness.cli as cli
    from harness.testing import installed_entry_points
    from tests.declared import declared_entry_points

    with declared_entry_points(), pytest.raises(SystemExit):
        cli.main(["bench", "--help"])
    out = capsys.readouterr().out
    assert "Installed benchmarks: libero, overhead, sampler, serving" in out
    mine = {"wambench.benchmarks": {"mine": "tests.harness.test_registry:_bench"}}
    with installed_entry_points(mine):
        assert cli.main(["list", "benchmarks", "--format", "csv"]) == 0
        assert "mine,tests.harness.test_registry:_bench" in capsys.readouterr().out
        assert cli.main(["bench", "mine"]) == 0
        assert cli.main(["bench", "mien"]) == 2
    assert "unknown benchmark 'mien'; did you mean 'mine'?" in capsys.readouterr().err


def test_doctor_names_come_from_entry_points(capsys: pytest.CaptureFixture[str]) -> None:
    import harness.cli as cli
    from harness.testing import installed_entry_points

    with installed_entry_points({"wambench.doctors": {"toy": "tests.harness.test_cli:ToyDoctor"}}):
        assert cli.main(["doctor", "toy", "-o", "broken=1"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "toy: the toy install",
        "toy: 1 problem(s) stop it from running here:",
        "  - broken",
    ]


class ToyDoctor:
    @staticmethod
    def doctor(**options: Any) -> list[str]:
        return sorted(options)

    @staticmethod
    def doctor_source(**options: Any) -> str:
        return "the toy install"


def test_list_shows_a_policy_that_cannot_load_as_unavailable_and_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from harness import registry
    from harness.cli import main

    registry.policies.register("zz-broken", "no_such_module:factory")
    try:
        assert main(["list", "policies", "--format", "csv"]) == 0
    finally:
        registry.policies.unregister("zz-broken")
    out = capsys.readouterr().out
    assert "flash-wam-1v1a" in out
    assert "zz-broken,unavailable" in out and "no_such_module" in out


def test_info_floor_is_the_ci_bar(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert wambench("run", str(write_config(tmp_path / "c.yaml")), "--out", str(out)).returncode == 0
    with Store.open(out) as s:
        rows = [r for r in s.episodes() if r.policy == "noisy"]
    rate = 100 * sum(r.outcome == "success" for r in rows) / len(rows)
    assert 0 < rate < 100  # the bar can fall on either side of it
    ok = wambench("info", str(out), "--floor", f"noisy={rate - 1:.1f}", "--format", "json")
    assert ok.returncode == 0 and "ok floor noisy" in ok.stderr and json.loads(ok.stdout)["status"]
    below = wambench("info", str(out), "--floor", f"noisy={rate + 1:.1f}")
    assert below.returncode == 1 and "BELOW floor noisy" in below.stderr
    for bad, needle in (("noisy=120", "PERCENT in 0..100"), ("nosuch=10", "no such policy")):
        r = wambench("info", str(out), "--floor", bad)
        assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1
