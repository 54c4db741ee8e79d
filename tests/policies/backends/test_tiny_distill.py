"""`wambench distill`: each paper recipe on a tiny teacher and a synthetic demos dataset."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from harness import cli, registry
from policies.backends.tiny.checkpoint import init_model, load_checkpoint
from policies.backends.tiny.distill import DistillConfig, distill, make_config
from policies.backends.tiny.distill_loss import _draw_pair, consistency_targets, pseudo_huber, setups
from policies.backends.tiny.train import train
from policies.wam import consistency as cfns
from policies.wam import recipes
from policies.wam.samplers import Euler, guided
from policies.wam.schedules import sigma_grid
from tests.declared import declared_entry_points
from tests.policies.backends.test_tiny_sequence import CFG, episode
from tests.policies.backends.test_tiny_train import config, write_dataset

RECIPES = ("flash-wam", "naive-joint-lcm", "video-only-lcm", "video-only-lcm-reg")
QUIET = {"log": lambda _: None}


@pytest.fixture(scope="module")
def teacher(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("teacher")
    data = write_dataset(tmp / "ds")
    return train(config(tmp, data, "teacher", 2), **QUIET), data


def cfg(teacher: tuple[Path, Path], out: Path, method: str = "flash-wam", **extra: Any) -> DistillConfig:
    base = {"method": method, "teacher": str(teacher[0]), "data": [str(teacher[1])], "out": str(out)}
    return make_config(
        {**base, "steps": 2, "checkpoint_every": 2, "param_grads_every": 1, "chunk_grads_every": 1, **extra}
    )


def weights(model: Any) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("method", RECIPES)
def test_each_recipe_writes_a_student_the_registered_policy_evaluates(
    method: str, teacher: tuple[Path, Path], tmp_path: Path, libero: Any, make_obs: Any, make_episode: Any
) -> None:
    latest = distill(cfg(teacher, tmp_path / method, method), **QUIET)
    meta = json.loads((latest / "config.json").read_text())
    prov = meta["provenance"]
    assert meta["trained"] is True and prov["step"] == 2
    assert prov["teacher"]["path"] == str(teacher[0]) and prov["recipe"]["name"] == method
    assert len(prov["dataset"]) == 16 and prov["distill_config"]["method"] == method
    before, after = weights(load_checkpoint(teacher[0]).model), weights(load_checkpoint(latest).model)
    assert any(not torch.equal(before[k], after[k]) for k in before)  # the student was trained
    assert (tmp_path / method / "gradients.png").stat().st_size > 0
    policy = registry.policies.get(f"{method}-1v1a").build(libero, {"checkpoint": str(latest)})
    assert policy.spec.details["trained"] is True
    policy.reset(make_episode(libero, 0), "pick up the soup")
    assert policy.act(make_obs(libero, 0)).actions.shape[1] == 7


def test_a_frozen_stream_keeps_the_teachers_own_layers(teacher: tuple[Path, Path], tmp_path: Path) -> None:
    latest = distill(cfg(teacher, tmp_path / "v", "video-only-lcm"), **QUIET)
    before, after = weights(load_checkpoint(teacher[0]).model), weights(load_checkpoint(latest).model)
    own = [k for k in before if k.startswith(("action_in.", "action_time.", "action_pos", "action_out."))]
    assert own and all(torch.equal(before[k], after[k]) for k in own)
    assert not torch.equal(before["video_out.weight"], after["video_out.weight"])
    assert not torch.equal(before["blocks.0.qkv.weight"], after["blocks.0.qkv.weight"])  # shared: moves
    assert "action" not in json.loads((tmp_path / "v" / "losses.jsonl").read_text().splitlines()[0])


@pytest.mark.parametrize("decay", [0.9, 1.0])  # 0.9, not 0.5: a swapped d, 1 - d shows
def test_the_ema_target_moves_as_configured(decay: float, teacher: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "ema"
    distill(cfg(teacher, out, steps=1, checkpoint_every=1, ema_decay=decay), **QUIET)
    state = torch.load(out / "state.pt", weights_only=False)
    start = weights(load_checkpoint(teacher[0]).model)
    for k, target in state["ema"].items():
        expected = decay * start[k] + (1 - decay) * state["student"][k]
        torch.testing.assert_close(target, expected, rtol=0, atol=1e-6)
    assert not torch.equal(state["student"]["video_out.weight"], start["video_out.weight"])


def test_the_target_is_the_teachers_cfg_euler_step_seen_by_the_ema() -> None:
    ep, _ = episode(3)
    teacher, ema = init_model(CFG).eval(), init_model(CFG).eval()
    with torch.no_grad():
        for p in ema.parameters():  # a target network unlike the teacher: mixing them up shows
            p.add_(0.05 * torch.randn_like(p))
    recipe = recipes.get("flash-wam")
    streams = setups(recipe, (20, 50), (5.0, 0.05), 2, ((2.0, 10.0), (1.0, 1.0)), (1.0, 1.0))
    gen = torch.Generator().manual_seed(0)
    x = {
        "video": torch.randn(ep.video.shape, generator=gen),
        "action": torch.randn(ep.actions.shape, generator=gen),
    }
    pairs = {s: _draw_pair(streams[s], 3, gen) for s in ("video", "action")}
    s_in = {s: pairs[s][0] for s in pairs}
    s_lo = {s: pairs[s][1] for s in pairs}
    scale = {"video": torch.tensor([2.0, 5.5, 10.0]), "action": torch.ones(3)}
    got = consistency_targets(ema, teacher, ep, streams, x, s_in, s_lo, scale)

    from policies.backends.tiny.sequence import episode_forward

    with torch.no_grad():
        args = (x["video"], s_in["video"], x["action"], s_in["action"])
        cond = episode_forward(teacher, ep, *args)
        uncond = episode_forward(teacher, ep, *args, drop_text=True)
        x_lo = [x["video"].clone(), x["action"].clone()]
        for i, stream in enumerate(("video", "action")):
            for c in range(3):
                v = guided(cond[i][c], uncond[i][c], float(scale[stream][c]))
                if stream == "action":
                    v = cond[i][c]  # unguided actions
                x_lo[i][c] = Euler().step(
                    x[stream][c], v, float(s_in[stream][c]), float(s_lo[stream][c]), None
                )
        v_ema = episode_forward(ema, ep, x_lo[0], s_lo["video"], x_lo[1], s_lo["action"])
    for i, (stream, fn) in enumerate((("video", "lcm"), ("action", "linear"))):
        for c in range(3):
            want = cfns.get(fn)(x_lo[i][c], v_ema[i][c], float(s_lo[stream][c]))
            torch.testing.assert_close(got[stream][c], want, atol=1e-5, rtol=1e-5)


def test_sigma_pairs_are_k_steps_apart_on_the_teachers_grid() -> None:
    streams = setups(
        recipes.get("flash-wam"), (20, 50), (5.0, 0.05), 3, ((2.0, 10.0), (1.0, 1.0)), (1.0, 1.0)
    )
    hi, lo = _draw_pair(streams["action"], 500, torch.Generator().manual_seed(1))
    grid = torch.tensor(sigma_grid(50, 0.05))
    index = [int(torch.nonzero(grid == h)[0]) for h in hi]
    assert all(float(grid[n + 3]) == float(low) for n, low in zip(index, lo, strict=True))
    assert min(index) == 0 and max(index) == 47  # every pair of the grid can be drawn, none past its end


def test_pseudo_huber_is_quadratic_below_c_and_linear_above() -> None:
    c = 0.001
    d = torch.tensor([0.0, 1e-6, 1e-5, c, 1.0])  # float32, as in training
    got = pseudo_huber(d, c)
    assert float(got[0]) == 0.0
    for i in (1, 2):  # d^2 / 2c, to float32 precision (not lost to cancellation)
        assert math.isclose(float(got[i]), float(d[i]) ** 2 / (2 * c), rel_tol=1e-4)
    assert math.isclose(float(got[3]), (math.sqrt(2) - 1) * c, rel_tol=1e-5)
    assert math.isclose(float(got[4]), 1.0 - c, rel_tol=1e-6)


@pytest.mark.parametrize(("method", "fn"), [("flash-wam", "linear"), ("naive-joint-lcm", "lcm")])
def test_logged_action_gradients_scale_as_proposition_1_predicts(
    method: str, fn: str, teacher: tuple[Path, Path], tmp_path: Path
) -> None:
    """With a sign-like Huber (c -> 0) every element's dL/df is the same constant, so a chunk's logged
    |dL/dv| / sqrt(elements) is proportional to |c_out(sigma)| sigma: sigma for linear, ~sigma^2 for lcm."""
    out = tmp_path / method
    distill(cfg(teacher, out, method, steps=3, checkpoint_every=3, huber_c=1e-9), **QUIET)
    rows = [json.loads(line) for line in (out / "gradients.jsonl").read_text().splitlines()]
    small = [r for r in rows if r.get("stream") == "action" and "sigma" in r and r["sigma"] < 0.05]
    lo = min(small, key=lambda r: r["sigma"])
    hi = max(small, key=lambda r: r["sigma"])
    assert hi["sigma"] / lo["sigma"] > 3, "the draw left too narrow a sigma range to tell the scalings apart"
    measured = (hi["grad_v"] / math.sqrt(hi["elements"])) / (lo["grad_v"] / math.sqrt(lo["elements"]))
    predicted = {
        name: cfns.get(name).grad_scale(hi["sigma"]) / cfns.get(name).grad_scale(lo["sigma"])
        for name in ("linear", "lcm")
    }
    assert math.isclose(measured, predicted[fn], rel_tol=0.05), (measured, predicted)
    other = "lcm" if fn == "linear" else "linear"
    assert not math.isclose(measured, predicted[other], rel_tol=0.3)
    ratio = hi["sigma"] / lo["sigma"]
    assert math.isclose(math.log(measured) / math.log(ratio), 1.0 if fn == "linear" else 2.0, abs_tol=0.1)


def test_a_resumed_distillation_ends_where_an_uninterrupted_one_does(
    teacher: tuple[Path, Path], tmp_path: Path
) -> None:
    extra = {"checkpoint_every": 2, "param_grads_every": 3}
    distill(cfg(teacher, tmp_path / "straight", steps=4, **extra), **QUIET)
    distill(cfg(teacher, tmp_path / "resumed", steps=2, **extra), **QUIET)
    distill(cfg(teacher, tmp_path / "resumed", steps=4, **extra), **QUIET)
    a = torch.load(tmp_path / "straight" / "state.pt", weights_only=False)
    b = torch.load(tmp_path / "resumed" / "state.pt", weights_only=False)
    for net in ("student", "ema"):
        assert all(torch.equal(a[net][k], b[net][k]) for k in a[net])
    lines = lambda p: (p / "gradients.jsonl").read_text().splitlines()  # noqa: E731
    assert lines(tmp_path / "straight") == lines(tmp_path / "resumed")


def _cli(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> int:
    """Through `wambench`'s own dispatch, with the entry points as pyproject.toml declares them
    (the shared venv's installed metadata may predate them until `make setup` reinstalls)."""
    with declared_entry_points():
        return cli.main(argv)


def test_an_unknown_method_says_did_you_mean_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["distill", "--method", "flash-wm", "--teacher", str(tmp_path / "none"), "--data", str(tmp_path)]
    assert _cli(monkeypatch, argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did you mean 'flash-wam'" in err[0]
    assert _cli(monkeypatch, [*argv[:2], "dmd2-reg", *argv[3:]]) == 2
    assert "critic" in capsys.readouterr().err


def test_the_cli_distils_with_a_config_file(
    monkeypatch: pytest.MonkeyPatch, teacher: tuple[Path, Path], tmp_path: Path
) -> None:
    conf = tmp_path / "d.yaml"
    conf.write_text("lr: 0.001\nema_decay: 0.9\ncfg_video: [3.0, 4.0]\ncheckpoint_every: 1\n")
    out = tmp_path / "cli"
    argv = ["distill", "--method", "naive-joint-lcm", "--teacher", str(teacher[0]), "--data", str(teacher[1])]
    assert _cli(monkeypatch, [*argv, "--out", str(out), "--steps", "1", "--config", str(conf)]) == 0
    prov = json.loads((out / "latest" / "config.json").read_text())["provenance"]
    assert prov["distill_config"]["ema_decay"] == 0.9 and prov["distill_config"]["cfg_video"] == [3.0, 4.0]
    conf.write_text("lr: 0.001\nemadecay: 0.9\n")
    assert _cli(monkeypatch, [*argv, "--out", str(out), "--config", str(conf)]) == 2


def test_bad_teacher_or_data_is_one_line_and_exit_2_before_any_work(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    teacher: tuple[Path, Path],
    tmp_path: Path,
    libero: Any,
) -> None:
    base = ["distill", "--method", "flash-wam", "--out", str(tmp_path / "o")]
    assert _cli(monkeypatch, [*base, "--teacher", str(tmp_path / "nope"), "--data", str(teacher[1])]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert _cli(monkeypatch, [*base, "--teacher", str(teacher[0]), "--data", str(tmp_path)]) == 2
    assert "not demos datasets" in capsys.readouterr().err
    untrained = tmp_path / "untrained"
    from policies.backends.tiny import write_untrained_checkpoint

    write_untrained_checkpoint(untrained, libero, dim=32, depth=1, heads=2)
    assert _cli(monkeypatch, [*base, "--teacher", str(untrained), "--data", str(teacher[1])]) == 2
    assert "untrained" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("method", "key"), [("flash-wam", "action_weight"), ("video-only-lcm-reg", "reg_weight")]
)
def test_the_action_loss_weight_reaches_its_objective(
    method: str, key: str, teacher: tuple[Path, Path], tmp_path: Path
) -> None:
    start = weights(load_checkpoint(teacher[0]).model)["action_out.weight"]
    for value, moved in ((0.0, False), (1.0, True)):
        latest = distill(cfg(teacher, tmp_path / f"{key}{value}", method, **{key: value}), **QUIET)
        after = weights(load_checkpoint(latest).model)["action_out.weight"]
        assert (not torch.equal(start, after)) is moved
