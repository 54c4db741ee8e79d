"""The tiny backend: seeded initialisation, safetensors checkpoints, and errors before any episode."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from harness import registry
from harness.errors import UserError
from harness.shapes import ShapeSuite
from harness.types import ActionSpace
from policies.backends import get_backend
from policies.backends.tiny import config_for_suite, save_checkpoint, write_untrained_checkpoint
from policies.backends.tiny.__main__ import main as tiny_main
from policies.backends.tiny.checkpoint import init_model, load_checkpoint

SMALL = {"dim": 32, "depth": 1, "heads": 2}


def _actions(
    policy: Any, suite: ShapeSuite, make_obs: Any, make_episode: Any, n: int = 2
) -> list[np.ndarray]:
    policy.reset(make_episode(suite, 9), "open the drawer")
    return [policy.act(make_obs(suite, i)).actions for i in range(n)]


def test_initialisation_is_deterministic_in_the_seed(libero: ShapeSuite) -> None:
    torch.manual_seed(123)  # the global RNG must not matter
    a = init_model(config_for_suite(libero, seed=1, **SMALL)).state_dict()
    torch.manual_seed(456)
    b = init_model(config_for_suite(libero, seed=1, **SMALL)).state_dict()
    c = init_model(config_for_suite(libero, seed=2, **SMALL)).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_checkpoint_round_trip_gives_the_same_actions(
    tmp_path: Path, libero: ShapeSuite, make_obs: Any, make_episode: Any
) -> None:
    folder = write_untrained_checkpoint(tmp_path / "ck", libero, seed=3, **SMALL)
    meta = json.loads((folder / "config.json").read_text())
    assert meta["trained"] is False and meta["config"]["action_dim"] == 7 and len(meta["action_q01"]) == 7
    factory = registry.policies.get("flash-wam-1v2a")
    from_disk = factory.build(libero, {"checkpoint": str(folder)})
    in_memory = factory.build(libero, {"seed": 3, **SMALL})
    assert from_disk.spec.checkpoint == str(folder) and from_disk.spec.details["trained"] is False
    for x, y in zip(
        _actions(from_disk, libero, make_obs, make_episode),
        _actions(in_memory, libero, make_obs, make_episode),
        strict=True,
    ):
        np.testing.assert_array_equal(x, y)


def test_a_trained_checkpoint_is_labelled_trained(tmp_path: Path, libero: ShapeSuite) -> None:
    model = init_model(config_for_suite(libero, **SMALL))
    save_checkpoint(tmp_path / "t", model, np.full(7, -0.5), np.full(7, 0.5), trained=True, notes="test")
    policy = registry.policies.get("teacher-1v1a").build(libero, {"checkpoint": str(tmp_path / "t")})
    assert policy.spec.details["trained"] is True and "warning" not in policy.spec.details
    np.testing.assert_array_equal(policy.adapter.q99, np.full(7, 0.5))


def test_quantiles_from_the_checkpoint_scale_the_actions(
    tmp_path: Path, libero: ShapeSuite, make_obs: Any, make_episode: Any
) -> None:
    model = init_model(config_for_suite(libero, **SMALL))
    save_checkpoint(tmp_path / "a", model, np.full(7, -1.0), np.full(7, 1.0), trained=True)
    save_checkpoint(tmp_path / "b", model, np.full(7, 9.0), np.full(7, 11.0), trained=True)
    build = registry.policies.get("teacher-1v1a").build
    a = _actions(build(libero, {"checkpoint": str(tmp_path / "a")}), libero, make_obs, make_episode, 1)[0]
    b = _actions(build(libero, {"checkpoint": str(tmp_path / "b")}), libero, make_obs, make_episode, 1)[0]
    np.testing.assert_allclose(b, a + 10.0, atol=1e-9)  # same normalised output, shifted range


def test_cli_writes_a_checkpoint(tmp_path: Path, capsys: Any) -> None:
    assert tiny_main(["init", str(tmp_path / "c"), "--suite", "robotwin", "--dim", "32", "--depth", "1"]) == 0
    assert "untrained" in capsys.readouterr().out
    assert load_checkpoint(tmp_path / "c").model.cfg.action_dim == 16


def _build(suite: ShapeSuite, **options: Any) -> Any:
    return registry.policies.get("flash-wam-1v1a").build(suite, options)


def test_missing_checkpoint_is_a_user_error(tmp_path: Path, libero: ShapeSuite) -> None:
    with pytest.raises(UserError, match="is not a folder"):
        _build(libero, checkpoint=str(tmp_path / "nowhere"))
    folder = write_untrained_checkpoint(tmp_path / "ck", libero, **SMALL)
    (folder / "model.safetensors").unlink()
    with pytest.raises(UserError, match=r"lacks model\.safetensors"):
        _build(libero, checkpoint=str(folder))


def test_checkpoint_for_another_action_space_is_a_user_error(
    tmp_path: Path, libero: ShapeSuite, robotwin: ShapeSuite
) -> None:
    folder = write_untrained_checkpoint(tmp_path / "rt", robotwin, **SMALL)
    with pytest.raises(UserError, match="cameras"):  # the first mismatch found: RoboTwin's cameras
        _build(libero, checkpoint=str(folder))
    same_cameras = ShapeSuite(
        "libero_like", ActionSpace("ee_delta7", 7), robotwin.camera_shapes, robotwin.state_dim
    )
    with pytest.raises(UserError, match=r"predicts 16 action channels.*'ee_delta7' is 7-d"):
        _build(same_cameras, checkpoint=str(folder))
    other_state = ShapeSuite("rt", robotwin.action_space, robotwin.camera_shapes, 3)
    with pytest.raises(UserError, match="expects a 30-d state"):
        _build(other_state, checkpoint=str(folder))


def test_privileged_checkpoint_on_a_plain_suite_names_the_option(tmp_path: Path) -> None:
    from suites.libero.suite import LiberoOptions, LiberoSuite

    def suite(**options: object) -> LiberoSuite:
        return LiberoSuite("libero_object", LiberoOptions.parse("libero_object", options))

    plain, privileged = suite(), suite(privileged_state=True)
    folder = write_untrained_checkpoint(tmp_path / "priv", privileged, **SMALL)
    with pytest.raises(UserError, match=r"expects a 16-d state.*give the suite the option privileged_state"):
        _build(plain, checkpoint=str(folder))
    assert _build(privileged, checkpoint=str(folder)).spec.checkpoint == str(folder)


def test_tampered_weights_are_a_user_error(tmp_path: Path, libero: ShapeSuite) -> None:
    folder = write_untrained_checkpoint(tmp_path / "ck", libero, **SMALL)
    tensors = load_file(str(folder / "model.safetensors"))
    tensors["action_out.weight"] = torch.zeros(9, 32)
    save_file(tensors, str(folder / "model.safetensors"))
    with pytest.raises(UserError, match=r"action_out.weight: \(9, 32\) != \(7, 32\)"):
        _build(libero, checkpoint=str(folder))
    meta = json.loads((folder / "config.json").read_text())
    meta["action_q99"] = meta["action_q99"][:3]
    (folder / "config.json").write_text(json.dumps(meta))
    with pytest.raises(UserError, match="quantiles have 7/3 channels"):
        _build(libero, checkpoint=str(folder))


def test_size_options_conflict_with_a_checkpoint(tmp_path: Path, libero: ShapeSuite) -> None:
    folder = write_untrained_checkpoint(tmp_path / "ck", libero, **SMALL)
    with pytest.raises(UserError, match="a checkpoint fixes its own size"):
        _build(libero, checkpoint=str(folder), dim=64)
    with pytest.raises(UserError, match="not a multiple of heads"):
        _build(libero, dim=30, heads=4)
    with pytest.raises(UserError, match="seed must be an integer"):
        _build(libero, seed="one")


def test_backend_registry(libero: ShapeSuite) -> None:
    assert get_backend("tiny").__name__ == "build_tiny_policy"
    assert callable(get_backend("policies.backends.tiny:build_tiny_policy"))
    with pytest.raises(UserError, match="unknown WAM backend"):
        get_backend("huge")


def test_default_size_is_fast_on_one_cpu_core(robotwin: ShapeSuite, make_obs: Any, make_episode: Any) -> None:
    """The issue's budget: a 1v/1a chunk well under a second on one core (measured: ~20 ms)."""
    policy = registry.policies.get("flash-wam-1v1a").build(robotwin, {"threads": 1})
    policy.reset(make_episode(robotwin, 0), "go")
    policy.act(make_obs(robotwin, 0))
    start = time.perf_counter()
    policy.act(make_obs(robotwin, 1))
    assert time.perf_counter() - start < 0.5


def test_blank_cameras_makes_the_network_blind_and_says_so(libero: ShapeSuite, make_episode: Any) -> None:
    from harness.types import Observation

    factory = registry.policies.get("teacher-1v1a")
    rng = np.random.default_rng(0)
    state = rng.standard_normal(libero.state_dim)

    def obs(seed: int) -> Observation:
        images = np.random.default_rng(seed)
        shapes = libero.camera_shapes.items()
        return Observation({c: images.integers(0, 256, s, dtype=np.uint8) for c, s in shapes}, state, "go")

    def first_chunk(options: dict[str, Any], seed: int) -> np.ndarray:
        policy = factory.build(libero, {"seed": 3, **SMALL, **options})
        policy.reset(make_episode(libero, 9), "go")
        return policy.act(obs(seed)).actions

    seeing = [first_chunk({}, s) for s in (1, 2)]
    blind = [first_chunk({"blank_cameras": True}, s) for s in (1, 2)]
    assert not np.allclose(seeing[0], seeing[1])  # the images matter to the seeing network
    np.testing.assert_array_equal(blind[0], blind[1])  # and not at all to the blind one
    assert factory.build(libero, {"seed": 3, **SMALL, "blank_cameras": True}).spec.details["blank_cameras"]
    with pytest.raises(UserError, match="blank_cameras must be true or false"):
        factory.build(libero, {**SMALL, "blank_cameras": "yes"})
