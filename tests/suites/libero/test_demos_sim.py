"""`wambench demos` on the real simulator: new initial conditions, the LeRobot layout read by pandas,
and frames rendered from saved states that match what a camera env hands out."""

from __future__ import annotations

import io
import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pandas as pd
import pytest

from suites.libero import catalog
from suites.libero.demos import DEMO_SEED_BASE, MIN_DISTANCE, DemoJob, collect
from suites.libero.env import CAMERAS, LiberoEnv
from suites.libero.options import LiberoOptions

pytestmark = pytest.mark.sim

SUITE = "libero_object"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demos") / "ds"
    task = catalog.tasks(SUITE)[0].name
    collect(DemoJob(SUITE, [task], episodes=1, out=out, noise=0.3, frame_stride=64), log=lambda _: None)
    return out


def test_dataset_layout_reads_without_wambench(dataset: Path) -> None:
    info = json.loads((dataset / "meta" / "info.json").read_text())
    assert info["total_episodes"] == 1 and info["codebase_version"] == "v2.1"
    episode = json.loads((dataset / "meta" / "episodes.jsonl").read_text().splitlines()[0])
    assert episode["eval_distance"] >= MIN_DISTANCE and episode["demo_seed"] >= DEMO_SEED_BASE
    frame = pd.read_parquet(dataset / "data" / "chunk-000" / "episode_000000.parquet")
    assert len(frame) == info["total_frames"] == episode["length"]
    assert len(frame["observation.privileged_state"].iloc[0]) == 8
    assert list(frame["frame_index"]) == list(range(len(frame)))
    executed, clean = np.stack(frame["action"][:-1]), np.stack(frame["action.clean"][:-1])
    assert executed.shape[1] == 7 and np.all(np.isnan(frame["action"].iloc[-1]))
    assert np.abs(executed[:, :3] - clean[:, :3]).max() > 0.05  # the noise went into what was executed
    np.testing.assert_array_equal(executed[:, 3:], clean[:, 3:])  # and only into xyz
    rendered = frame["observation.images.agentview"].notna()
    steps = len(frame)
    assert list(np.flatnonzero(rendered)) == sorted({*range(0, steps, 64), steps - 1})
    image = iio.imread(io.BytesIO(frame["observation.images.agentview"].iloc[0]["bytes"]))
    assert image.shape == (128, 128, 3) and image.dtype == np.uint8


def test_a_frame_rendered_from_a_saved_state_matches_the_live_camera(dataset: Path) -> None:
    frame = pd.read_parquet(dataset / "data" / "chunk-000" / "episode_000000.parquet")
    seed = json.loads((dataset / "meta" / "episodes.jsonl").read_text().splitlines()[0])["demo_seed"]
    task = catalog.tasks(SUITE)[0]
    live = LiberoEnv(SUITE, task, LiberoOptions.parse(SUITE, {}))
    try:
        obs = live.reset_placement(seed)  # the same placement, rendered live by robosuite's camera obs
    finally:
        live.close()
    np.testing.assert_allclose(np.asarray(frame["observation.state"].iloc[0]), obs.state, atol=1e-6)
    for name in CAMERAS:
        stored = iio.imread(io.BytesIO(frame[f"observation.images.{name}"].iloc[0]["bytes"]))
        assert np.abs(stored.astype(int) - obs.images[name].astype(int)).mean() < 1.0
