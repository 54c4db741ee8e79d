from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.config import RunConfig, parse_config
from suites.robotwin import RobotwinSuite, robotwin2
from tests.suites.robotwin import robotwin_double
from tests.suites.robotwin.fake_checkout import write_fake_checkout


@pytest.fixture(autouse=True)
def _fresh_double(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with the default scenario and no recorded calls; no ROBOTWIN_ROOT leaks in."""
    monkeypatch.setattr(robotwin_double, "CONFIG", robotwin_double.DoubleConfig())
    robotwin_double.EVENTS.clear()
    robotwin_double.INSTANCES.clear()
    monkeypatch.delenv("ROBOTWIN_ROOT", raising=False)
    monkeypatch.delenv("ROBOTWIN_DOUBLE_CONFIG", raising=False)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    return write_fake_checkout(tmp_path / "RoboTwin")


@pytest.fixture
def make_suite(checkout: Path, tmp_path: Path) -> Any:
    def make(**options: Any) -> RobotwinSuite:
        base = {
            "robotwin_root": str(checkout),
            "task_factory": robotwin_double.FACTORY,
            "seed_cache": str(tmp_path / "cache" / "seeds.json"),
        }
        return robotwin2(**{**base, **options})

    return make


@pytest.fixture
def hold_run(checkout: Path, tmp_path: Path) -> Any:
    """`hold_run(options, **fields)`: a run config of the hold policy on adjust_bottle (clean) of the
    double, writing to tmp_path/run; `options` are added to the suite's, `fields` to the config's."""

    def make(options: dict[str, Any] | None = None, **fields: Any) -> RunConfig:
        suite_options = {
            "robotwin_root": str(checkout),
            "task_factory": robotwin_double.FACTORY,
            **(options or {}),
        }
        suite = {
            "name": "robotwin2",
            "tasks": ["adjust_bottle"],
            "splits": ["clean"],
            "options": suite_options,
        }
        return parse_config(
            {
                "policies": ["tests.suites.robotwin.hold_policy:hold"],
                "suites": [suite],
                "out": str(tmp_path / "run"),
                **fields,
            }
        )

    return make
