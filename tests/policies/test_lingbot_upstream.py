"""Contract tests against the real LingBot-VA code: upstream's own per-chunk inference and this lingbot
backend, on tiny random-weight checkpoints of upstream's own classes, fed identical noise.

Needs a checkout of Robbyant/lingbot-va in $LINGBOT_VA_ROOT and its packages (diffusers, transformers,
accelerate, einops, easydict, ftfy); skipped otherwise (CI has no GitHub). What is compared, per chunk,
over five chunks (past the two-chunk cache window): the video latents, the actions the client gets back
(physical, used channels) and the rows a client executes (LingBot-VA's RoboTwin client: from index 1 of
the first chunk), all in float32 within 1e-4. Upstream's CUDA hard-codes are worked around in
lingbot_upstream_kit.py, never in its files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from harness import registry
from harness.types import EpisodeSpec, Observation, PolicySpec

ROOT = os.environ.get("LINGBOT_VA_ROOT")
if not ROOT or not (Path(ROOT) / "wan_va" / "wan_va_server.py").is_file():
    pytest.skip(
        "no LingBot-VA checkout: set LINGBOT_VA_ROOT to a clone of Robbyant/lingbot-va",
        allow_module_level=True,
    )
for _package in ("diffusers", "transformers", "einops", "easydict", "ftfy"):
    pytest.importorskip(_package, reason=f"LingBot-VA's code needs {_package}")

from policies.adapters import make_adapter  # noqa: E402
from policies.backends.lingbot_network import LingbotNetwork  # noqa: E402
from policies.wam.plan import resolve_plan  # noqa: E402
from policies.wam.policy import WamPolicy  # noqa: E402
from tests.policies import lingbot_upstream_kit as kit  # noqa: E402
from tests.shapes import SHAPES  # noqa: E402

CHUNKS = 5
TOLERANCE = 1e-4
SEED = 20260130
IMAGES = {"robotwin": (48, 64, 3), "libero": (32, 32, 3)}  # resized by their encoder, as real ones
CASES = [
    ("robotwin", 5.0, 1.0),
    ("robotwin", 5.0, 5.0),
    ("robotwin", 1.0, 1.0),
    ("robotwin", 1.0, 5.0),  # upstream itself crashes here (no negative prompt): wambench only
    ("libero", 5.0, 1.0),
    ("libero", 1.0, 1.0),
]
MEASURED: dict[str, float] = {}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Any, Path]:
    folder = tmp_path_factory.mktemp("lingbot")
    kit.stub_flash_attn(folder / "stub")
    configs, utils, server_module = kit.import_checkout(Path(str(ROOT)))
    import modules.model as upstream_model  # the checkout's wan_va/modules, on sys.path now

    return configs, utils, server_module, kit.write_checkpoint(folder / "ckpt", upstream_model)


def _images(cams: list[str], shape: tuple[int, int, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {c: rng.integers(0, 256, shape, dtype=np.uint8) for c in cams}


@pytest.mark.parametrize(("geometry", "cfg_video", "cfg_action"), CASES)
def test_lingbot_backend_matches_upstream_inference(
    checkout: tuple[Any, Any, Any, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    geometry: str,
    cfg_video: float,
    cfg_action: float,
) -> None:
    torch.set_num_threads(1)
    configs, utils, server_module, ckpt = checkout
    proxy = kit.CpuTorch()
    monkeypatch.setattr(server_module, "torch", proxy)
    scales = {"cfg_video": cfg_video, "cfg_action": cfg_action}
    cfg = kit.job_config(configs, geometry, ckpt, tmp_path / "upstream", **scales)
    upstream: Any = server_module.VA_Server(cfg)
    upstream_runs = not (cfg_video <= 1 < cfg_action)
    ours_server = server_module.VA_Server(
        kit.job_config(configs, geometry, ckpt, tmp_path / "ours", **scales)
    )
    network = LingbotNetwork(ours_server, utils.data_seq_to_patch)

    suite, image_shape = SHAPES[geometry], IMAGES[geometry]  # suites as shapes: no simulator needed
    method = registry.policies.get("teacher-25v50a").method
    options = {
        "device": "cpu",
        "nfe_video": cfg.num_inference_steps,
        "nfe_action": cfg.action_num_inference_steps,
    }
    options.update(scales, video_shift=float(cfg.snr_shift), action_shift=float(cfg.action_snr_shift))
    plan = resolve_plan(method, suite, options)
    q01, q99 = network.action_quantiles()
    adapter = make_adapter(suite.action_space, q01, q99, channels=network.used_channels)
    policy = WamPolicy(network, plan, adapter, PolicySpec("teacher", "teacher", backend="lingbot"))

    seen: list[tuple[torch.Tensor, np.ndarray]] = []  # per chunk: our video latents, the client's actions
    end_chunk = network.end_chunk

    def recording_end_chunk(ctx: Any, video: torch.Tensor, actions: torch.Tensor) -> None:
        end_chunk(ctx, video, actions)
        seen.append((video.detach().clone(), np.array(ctx.state_actions)))

    monkeypatch.setattr(network, "end_chunk", recording_end_chunk)

    prompt = "pick up the black bowl"
    episode = EpisodeSpec(suite.name, "t", "default", 0, 0, 10_000, noise_seed=SEED)
    policy.reset(episode, prompt)
    upstream.infer({"reset": True, "prompt": prompt})
    gen = torch.Generator().manual_seed(SEED)  # the noise stream WamPolicy draws: video, then actions
    geo = network.geometry()
    frames, per_frame, cams = network.frames, network.per_frame, list(network.cam_keys)
    stride = per_frame // 4  # their client's key frames: one every per_frame/4 actions
    rng = np.random.default_rng(SEED)
    obs_images = _images(cams, image_shape, rng)
    worst = {"video": 0.0, "actions": 0.0, "executed": 0.0}
    state: np.ndarray | None = None
    key_frames: list[dict[str, np.ndarray]] = []
    for chunk_index in range(CHUNKS):
        video_noise = torch.randn(geo.video_shape, generator=gen)
        action_noise = torch.randn(geo.action_shape, generator=gen)
        obs = Observation(dict(obs_images), np.zeros(suite.state_dim), prompt)
        chunk = policy.act(obs)
        first = chunk_index == 0
        start = per_frame if first else 0  # their client: range(1 if first else 0, frames)
        assert chunk.execute_from == start
        if first and not upstream_runs:  # upstream's own defect: a CFG batch without a negative prompt
            proxy.noise.extend(
                [video_noise[None], action_noise.T.reshape(30, frames, per_frame)[None, ..., None]]
            )
            with torch.no_grad(), pytest.raises(AttributeError, match="to"):
                upstream._infer({"obs": obs_images}, frame_st_id=0)
            upstream = None
        if upstream is not None:
            proxy.noise.extend(
                [video_noise[None], action_noise.T.reshape(30, frames, per_frame)[None, ..., None]]
            )
            with torch.no_grad():
                if not first:
                    upstream.infer({"obs": key_frames, "compute_kv_cache": True, "state": state})
                up_actions, up_video = upstream._infer({"obs": obs_images}, frame_st_id=upstream.frame_st_id)
            ours_video, ours_actions = seen[-1]
            worst["video"] = max(worst["video"], float((ours_video - up_video[0].float()).abs().max()))
            worst["actions"] = max(worst["actions"], float(np.abs(ours_actions - up_actions).max()))
            # the rows their client executes, through the same adapter, against the chunk's own
            normalised = upstream.preprocess_action(up_actions)[0, :, :, :, 0].reshape(30, -1).T
            executed = adapter(normalised.numpy().astype(np.float64))[start:]
            worst["executed"] = max(worst["executed"], float(np.abs(chunk.executed - executed).max()))
            state = up_actions
        # the client executes the chunk: one observation per executed action, key frames among them
        key_frames = []
        for step in range(len(chunk.executed)):
            obs_images = _images(cams, image_shape, rng)
            policy.observe(Observation(dict(obs_images), np.zeros(suite.state_dim), prompt))
            if (step + 1) % stride == 0:
                key_frames.append(dict(obs_images))
        assert np.isfinite(chunk.actions).all()
    # past the cache window: the oldest observed entries (update ids 2, 3: the first key frames) are gone
    cache = ours_server.transformer.blocks[0].attn1.attn_caches[policy._ctx.cache_name]
    assert int(cache["id"][cache["mask"]].min()) > 3
    policy.close()
    label = f"{geometry} cfg {cfg_video:g}/{cfg_action:g}"
    if upstream is None:
        MEASURED[label] = float("nan")
        return
    MEASURED[label] = max(worst.values())
    print(
        f"\n{label}: max |ours - upstream| over {CHUNKS} chunks: "
        + ", ".join(f"{k} {v:.2e}" for k, v in worst.items())
    )
    assert max(worst.values()) <= TOLERANCE, worst
