"""RoboTwin from the pip runtime (rlinf-robotwin-runtime) instead of a checkout, on the fake installed
package of fake_runtime.py (a test double of the wheel; its task classes are the RoboTwin double)."""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.records import EpisodeRecord
from harness.report.index import write_index
from harness.report.results import load_runs
from harness.store import Store
from suites.robotwin import readiness, robotwin2
from suites.robotwin.suite import ProtocolWarning
from tests.harness.report.synth import SynthPolicy, make_store, manifest
from tests.suites.robotwin import robotwin_double
from tests.suites.robotwin.fake_checkout import write_fake_checkout
from tests.suites.robotwin.fake_runtime import write_fake_assets, write_fake_runtime
from tests.suites.robotwin.hold_policy import HoldPolicy

PACKAGE = "rlinf-robotwin-runtime==0.1.3"


def _robotwin_modules() -> dict[str, Any]:
    return {k: v for k, v in sys.modules.items() if k == "robotwin" or k.startswith("robotwin.")}


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The fake package on sys.path, $ASSETS_PATH set; RoboTwin's packages and the GPU stubbed."""
    before = _robotwin_modules()  # pytest may have registered tests/suites/robotwin as `robotwin`
    for name in before:
        del sys.modules[name]
    write_fake_runtime(tmp_path / "site")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assets = write_fake_assets(tmp_path / "robotwin-assets")
    monkeypatch.setenv("ASSETS_PATH", str(assets))
    monkeypatch.setattr(readiness, "package_problems", lambda: [])
    monkeypatch.setattr(readiness, "gpu_problems", lambda timeout_s=120.0: [])
    yield assets
    for name in _robotwin_modules():
        del sys.modules[name]
    sys.modules.update(before)


def test_doctor_finds_the_runtime_or_a_checkout_and_says_which(
    runtime: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["doctor", "robotwin"]) == 0
    out = capsys.readouterr().out
    assert (
        f"robotwin: RoboTwin pip package rlinf-robotwin-runtime 0.1.3 ({tmp_path / 'site' / 'robotwin'}"
        in out
    )
    assert f"$ASSETS_PATH={runtime}" in out and out.endswith("robotwin: ready\n")
    checkout = write_fake_checkout(tmp_path / "RoboTwin", with_assets=True)
    monkeypatch.setenv("ROBOTWIN_ROOT", str(checkout))  # a configured checkout wins
    assert main(["doctor", "robotwin"]) == 0
    out = capsys.readouterr().out
    assert f"robotwin: RoboTwin checkout {checkout} (commit unknown)" in out and "pip package" not in out


def test_runtime_problems_name_their_fix(
    runtime: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (runtime / "assets/embodiments/aloha-agilex/curobo_left_tmp.yml").unlink()
    text = "\n".join(robotwin2().problems())
    assert "curobo_left_tmp.yml missing (robotwin-download-assets --output DIR" in text
    monkeypatch.delenv("ASSETS_PATH")
    assert robotwin2().problems() == [
        "ASSETS_PATH is not set: robotwin-download-assets --output DIR, then export ASSETS_PATH=DIR "
        "(rlinf-robotwin-runtime's tasks find their assets through it)"
    ]
    monkeypatch.setenv("ASSETS_PATH", str(runtime))
    (tmp_path / "site/rlinf_robotwin_runtime-0.1.3.dist-info/METADATA").write_text(
        "Metadata-Version: 2.4\nName: rlinf-robotwin-runtime\nVersion: 0.2.0\n"
    )
    (tmp_path / "site/robotwin/configs/task/demo_clean.yml").unlink()
    text = "\n".join(robotwin2().problems())
    assert "rlinf-robotwin-runtime 0.2.0 is installed; the adapter was checked against 0.1.3" in text
    assert "configs/task/demo_clean.yml is missing (a broken install?" in text


def _hold_episode(suite: Any, task: str, steps: int = 3) -> dict[str, Any]:
    env = suite.make_env(task, "clean")
    try:
        obs = env.reset(suite.episodes(task, "clean", 1)[0])
        action = HoldPolicy("ee16", 1).act(obs).actions[0]
        for _ in range(steps):
            env.step(action)
        return {
            "info": dict(env.episode_info()),
            "sim": getattr(env._sim, "_sim", env._sim),
            "instruction": obs.instruction,
        }
    finally:
        env.close()


def test_an_episode_on_the_runtime_records_the_package_version(runtime: Path, tmp_path: Path) -> None:
    suite = robotwin2(seed_cache=str(tmp_path / "seeds.json"))  # no checkout, no task_factory
    ran = _hold_episode(suite, "adjust_bottle")
    info, sim = ran["info"], ran["sim"]
    assert type(sim).__module__ == "robotwin.envs.adjust_bottle"  # the task class came from the package
    assert info["robotwin_package"] == PACKAGE and "robotwin_commit" not in info
    assert info["not_protocol_faithful"] is None and info["steps"] == 3
    setup = next(payload for name, payload in sim.calls if name == "setup_demo")
    # the embodiment as the runtime's own vector env passes it: absolute under $ASSETS_PATH
    assert setup["kwargs"]["left_robot_file"] == os.path.join(runtime, "./assets/embodiments/aloha-agilex/")
    assert ran["instruction"]  # from the package's description/ templates
    assert json.loads(Path(tmp_path / "seeds.json").read_text())["robotwin_commit"] == "pip-0.1.3"


def test_place_empty_cup_on_the_runtime_is_not_protocol_faithful(
    runtime: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = robotwin2(seed_cache=str(tmp_path / "seeds.json"))
    with pytest.warns(ProtocolWarning, match="robotwin2/place_empty_cup is not protocol-faithful: .*physics"):
        flag = _hold_episode(suite, "place_empty_cup")["info"]["not_protocol_faithful"]
    assert "coaster is no longer static" in flag
    # the report shows it, from the stored episode info alone
    out = make_store(tmp_path / "run", [SynthPolicy("p", "teacher", 25, 50)], [], lambda p, k: "failure")
    specs = manifest("robotwin2", ["place_empty_cup"], ["clean"], 1)
    with Store.open(out) as store:
        store.record_episode(
            EpisodeRecord("p", specs[0].key, "failure", 3, 1.0, 1, info={"not_protocol_faithful": flag})
        )
    runs = load_runs([out])
    assert runs.unfaithful == {"robotwin2/place_empty_cup": flag}
    (tmp_path / "report").mkdir()
    index = write_index(tmp_path / "report", "t", [], [], [], runs=runs).read_text()
    assert "**Not protocol-faithful**" in index and f"robotwin2/place_empty_cup: {flag}" in index
    # a checkout runs stable_2.0's task: no warning, no flag
    checkout = write_fake_checkout(tmp_path / "RoboTwin", with_assets=True)
    monkeypatch.setenv("ROBOTWIN_ROOT", str(checkout))
    suite = robotwin2(seed_cache=str(tmp_path / "seeds-checkout.json"), task_factory=robotwin_double.FACTORY)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = _hold_episode(suite, "place_empty_cup")["info"]
    assert info["not_protocol_faithful"] is None and info["robotwin_commit"] == "unknown"
