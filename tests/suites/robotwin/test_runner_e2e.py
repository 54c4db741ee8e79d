"""The robotwin2 suite through the real runner (spawned workers), with the RoboTwin test double."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness import runner
from harness.store import Store
from tests.suites.robotwin import robotwin_double
from tests.suites.robotwin.test_seeds import expected_seeds


def test_hang_is_stopped_by_the_episode_timeout(
    hold_run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = expected_seeds(2)
    # Episode 1's seed hangs inside take_action (a render hang); spawned workers inherit the scenario.
    monkeypatch.setenv(
        "ROBOTWIN_DOUBLE_CONFIG", robotwin_double.config_json(hang_at_step=1, hang_seeds=[seeds[1]])
    )
    config = hold_run(
        {"seed_cache": str(tmp_path / "seeds.json")}, episodes=2, workers=1, retries=0, episode_timeout_s=3
    )
    result = runner.run(config)
    with Store.open(tmp_path / "run") as store:
        rows = {e.key.index: e for e in store.episodes(with_chunks=True)}
    assert rows[0].outcome == "failure" and rows[0].steps == 400  # held still for the whole limit
    info = rows[0].info
    assert info["robotwin_seed"] == seeds[0] and info["seed_source"] == "expert" and info["steps"] == 400
    assert len(rows[0].chunks) == 50  # 8-action chunks
    assert rows[1].outcome == "error" and "timed out" in (rows[1].error or "")
    assert result.workers_replaced >= 1
