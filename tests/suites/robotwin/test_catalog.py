"""The catalog against what RoboTwin stable_2.0 and the paper publish."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import UserError
from harness.report.reference import robotwin_horizons
from suites.robotwin import robotwin2
from suites.robotwin.catalog import get_task, load_catalog, task_names

ROOT = Path(__file__).resolve().parents[3]
CSV = "papers/flash-wam/robotwin_per_task.csv"

# envs/<name>.py of RoboTwin-Platform/RoboTwin, branch stable_2.0 (class name = module name).
ROBOTWIN_MODULES = [
    "adjust_bottle", "beat_block_hammer", "blocks_ranking_rgb", "blocks_ranking_size", "click_alarmclock",
    "click_bell", "dump_bin_bigbin", "grab_roller", "handover_block", "handover_mic", "hanging_mug",
    "lift_pot", "move_can_pot", "move_pillbottle_pad", "move_playingcard_away", "move_stapler_pad",
    "open_laptop", "open_microwave", "pick_diverse_bottles", "pick_dual_bottles", "place_a2b_left",
    "place_a2b_right", "place_bread_basket", "place_bread_skillet", "place_burger_fries",
    "place_can_basket", "place_cans_plasticbox", "place_container_plate", "place_dual_shoes",
    "place_empty_cup", "place_fan", "place_mouse_pad", "place_object_basket", "place_object_scale",
    "place_object_stand", "place_phone_stand", "place_shoe", "press_stapler", "put_bottles_dustbin",
    "put_object_cabinet", "rotate_qrcode", "scan_object", "shake_bottle", "shake_bottle_horizontally",
    "stack_blocks_three", "stack_blocks_two", "stack_bowls_three", "stack_bowls_two", "stamp_seal",
    "turn_switch",
]  # fmt: skip

# task_config/_eval_step_limit.yml (stable_2.0): take_action calls per episode.
STEP_LIMITS = {
    "adjust_bottle": 400, "beat_block_hammer": 400, "blocks_ranking_rgb": 1200, "blocks_ranking_size": 1200,
    "click_alarmclock": 400, "click_bell": 400, "dump_bin_bigbin": 600, "grab_roller": 400,
    "handover_block": 800, "handover_mic": 600, "hanging_mug": 900, "lift_pot": 400, "move_can_pot": 400,
    "move_pillbottle_pad": 400, "move_playingcard_away": 400, "move_stapler_pad": 400, "open_laptop": 700,
    "open_microwave": 1500, "pick_diverse_bottles": 400, "pick_dual_bottles": 400, "place_a2b_left": 400,
    "place_a2b_right": 400, "place_bread_basket": 700, "place_bread_skillet": 500,
    "place_burger_fries": 500, "place_can_basket": 700, "place_cans_plasticbox": 800,
    "place_container_plate": 400, "place_dual_shoes": 600, "place_empty_cup": 500, "place_fan": 400,
    "place_mouse_pad": 400, "place_object_basket": 700, "place_object_scale": 400,
    "place_object_stand": 400, "place_phone_stand": 400, "place_shoe": 500, "press_stapler": 400,
    "put_bottles_dustbin": 1700, "put_object_cabinet": 700, "rotate_qrcode": 400, "scan_object": 500,
    "shake_bottle": 700, "shake_bottle_horizontally": 700, "stack_blocks_three": 1200,
    "stack_blocks_two": 800, "stack_bowls_three": 1200, "stack_bowls_two": 900, "stamp_seal": 400,
    "turn_switch": 400,
}  # fmt: skip

# The paper's Table 8 groups; every task not listed is horizon 1.
HORIZON_2 = {
    "handover_block", "handover_mic", "hanging_mug", "place_bread_skillet", "place_burger_fries",
    "place_can_basket", "place_cans_plasticbox", "place_dual_shoes", "place_object_basket",
    "put_object_cabinet", "scan_object", "stack_blocks_two", "stack_bowls_two", "pick_diverse_bottles",
    "pick_dual_bottles",
}  # fmt: skip
HORIZON_3 = {
    "blocks_ranking_rgb", "blocks_ranking_size", "put_bottles_dustbin", "stack_blocks_three",
    "stack_bowls_three",
}  # fmt: skip


def test_fifty_tasks_named_as_robotwin_modules() -> None:
    assert len(load_catalog()) == 50
    assert sorted(task_names()) == sorted(ROBOTWIN_MODULES)
    assert len(set(task_names())) == 50


def test_step_limits_as_published() -> None:
    assert {t.name: t.step_limit for t in load_catalog()} == STEP_LIMITS


def test_horizons_match_the_papers_per_task_table() -> None:
    # The paper's per-task table (Table 8) as shipped with the harness names every task's horizon. It is
    # package data: if it is missing the report's tables cannot be built, so that must fail, not skip.
    published = robotwin_horizons()
    assert len(published) == 50
    assert {t.name: t.horizon for t in load_catalog()} == published


def test_the_per_task_table_is_declared_package_data() -> None:
    """A wheel carries only what [tool.setuptools.package-data] names; a source tree has everything."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["harness"]
    assert (ROOT / "harness" / CSV).is_file()
    # fnmatch's `*` also crosses `/`: looser than setuptools, never stricter, so a miss is a real one.
    assert any(fnmatch(CSV, g) for g in globs), f"harness/{CSV} is not in package-data {globs}"


def test_horizon_groups() -> None:
    got = {t.name: t.horizon for t in load_catalog()}
    assert {n for n, h in got.items() if h == 3} == HORIZON_3
    assert {n for n, h in got.items() if h == 2} == HORIZON_2
    assert len([n for n, h in got.items() if h == 1]) == 30


def test_suite_task_infos() -> None:
    suite = robotwin2()
    infos = {t.id: t for t in suite.tasks()}
    assert set(infos) == set(ROBOTWIN_MODULES)
    hb = infos["handover_block"]
    assert (hb.max_steps, hb.horizon, hb.display_name) == (800, 2, "Handover Block")
    assert suite.splits == ("clean", "randomized")
    assert suite.name == "robotwin2"


def test_unknown_task_suggests() -> None:
    with pytest.raises(UserError, match="did you mean 'adjust_bottle'"):
        get_task("adjust_botle")


def test_list_tasks_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "tasks", "robotwin2"]) == 0
    out = capsys.readouterr().out
    assert "put_bottles_dustbin" in out and "1700" in out
