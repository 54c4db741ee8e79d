"""The plugin face: what `import harness` offers, and `harness.run`, which `wambench run` calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import harness
from harness.errors import UserError
from harness.store import Store
from tests.harness.clitools import TOY, write_config


def test_the_face_exports_what_a_plugin_author_needs() -> None:
    for name in ("Env", "EpisodeError", "UserError", "SetupError", "StageTimer", "ShapeSuite", "run"):
        assert name in harness.__all__ and hasattr(harness, name)
    for hook in (
        "Observes",
        "Preflights",
        "Validates",
        "Doctor",
        "DescribesSource",
        "ReadsImages",
        "DeclaresPackages",
    ):
        assert getattr(harness, hook).__module__ == "harness.types"


def test_run_takes_a_mapping_and_returns_what_it_did(tmp_path: Path) -> None:
    config = {"policies": ["tests.harness.toy:greedy"], "suites": [TOY], "episodes": 2, "workers": 1}
    seen: list[Any] = []
    result = harness.run(config, overrides={"out": str(tmp_path / "o")}, on_plan=seen.append)
    assert len(seen) == 1 and seen[0].out == result.out == tmp_path / "o"
    assert result.ran == 12 and not result.failed  # 3 toy tasks x 2 splits x 2 episodes, one policy
    with Store.open(result.out) as store:
        assert len(store.manifest()) == 12
    again = harness.run(config, overrides={"out": str(tmp_path / "o")})
    assert (again.ran, again.skipped) == (0, 12)  # a resume runs nothing new


def test_a_failing_on_plan_releases_the_output_directory(tmp_path: Path) -> None:
    config = {"policies": ["tests.harness.toy:greedy"], "suites": [TOY], "episodes": 1, "out": str(tmp_path)}

    kept: list[Any] = []

    def refuse(plan: Any) -> None:
        kept.append(plan)  # still referenced: only an explicit release frees its lock
        raise UserError("not now")

    with pytest.raises(UserError, match="not now"):
        harness.run(config, on_plan=refuse)
    assert harness.run(config, overrides={"workers": 1}).ran == 6  # the lock was released


def test_wambench_run_is_harness_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.cli import main

    calls: list[Any] = []
    real = harness.run

    def spy(config: Any, **kw: Any) -> Any:
        calls.append(config)
        return real(config, **kw)

    monkeypatch.setattr(harness, "run", spy)
    conf = write_config(tmp_path / "c.yaml", episodes=1, workers=1)
    assert main(["run", str(conf), "--out", str(tmp_path / "o")]) == 0
    assert len(calls) == 1 and calls[0].episodes == 1
