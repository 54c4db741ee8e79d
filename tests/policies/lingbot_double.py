"""A double of LingBot-VA's VA_Server for the lingbot backend's tests (no 5B checkpoint, CUDA, flash-attn).

`VAServerDouble` has the attributes and methods `LingbotNetwork` uses, modelled on LingBot-VA's server
code: a KV cache keyed by cache name whose slots are kept (update_cache 1 = predicted, 2 = observed) or
dropped (0), predicted slots cleared by `_compute_kv_cache`, a CFG batch of two when either guidance
scale exceeds 1 but a negative prompt only when the video scale does, a text encoder with trainable
parameters, frame 0 of the first chunk overwritten by the observed frame and the zero action, unused
action channels masked, and a debug file saved under `exp_save_root` at every key-frame update. Its
outputs depend on the input, the prompt and the cache, so state that leaks between episodes, a wrong
call order or a wrong layout changes the actions. The real server is tested in test_lingbot_upstream.py.
"""

from __future__ import annotations

import itertools
import os
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

_stamps = itertools.count()

USED = [0, 1, 2, 3, 4, 5, 28]  # LIBERO: 6 end-effector channels and the gripper


def libero_config() -> SimpleNamespace:
    q01 = [-0.5] * 6 + [0.0] * 22 + [-1.0, 0.0]
    q99 = [0.5] * 6 + [0.0] * 22 + [1.0, 0.0]
    return SimpleNamespace(
        frame_chunk_size=4,
        action_per_frame=4,
        action_dim=30,
        used_action_channel_ids=USED,
        obs_cam_keys=["observation.images.agentview_rgb", "observation.images.eye_in_hand_rgb"],
        height=32,
        width=32,
        env_type="none",
        attn_window=30,
        patch_size=(1, 1, 1),
        norm_stat={"q01": q01, "q99": q99},
        guidance_scale=5.0,
        action_guidance_scale=1.0,
    )


# LingBot-VA's RoboTwin channel layout: left xyz+quat, left gripper (28), right xyz+quat, right gripper
ROBOTWIN_USED = [*range(0, 7), 28, *range(7, 14), 29]


def robotwin_config() -> SimpleNamespace:
    """RoboTwin geometry: 2 latent frames x 16 actions, the head camera above the two wrists."""
    cfg = libero_config()
    q01 = [-0.5] * 14 + [0.0] * 16
    q99 = [0.5] * 14 + [0.0] * 14 + [1.0, 1.0]
    cfg.frame_chunk_size, cfg.action_per_frame, cfg.env_type = 2, 16, "robotwin_tshape"
    cfg.used_action_channel_ids = ROBOTWIN_USED
    cfg.obs_cam_keys = [
        "observation.images.cam_high",
        "observation.images.cam_left_wrist",
        "observation.images.cam_right_wrist",
    ]
    cfg.attn_window, cfg.norm_stat = 72, {"q01": q01, "q99": q99}
    return cfg


class TransformerDouble:
    def __init__(self, channels: int) -> None:
        self.config = SimpleNamespace(in_channels=channels)
        self.attn_caches: dict[str, Any] = {}
        self.calls: list[tuple[str, int, bool]] = []  # (cache name, update_cache, action_mode)
        self.contexts: list[tuple[str, int]] = []

    def clear_cache(self, name: str) -> None:
        self.attn_caches[name] = None

    def clear_pred_cache(self, name: str) -> None:
        cache = self.attn_caches[name]
        cache["entries"] = [e for e in cache["entries"] if not e[1]]

    def create_empty_cache(
        self, name: str, window: int, lat: int, act: int, dtype: Any, device: Any, batch_size: int
    ) -> None:
        self.attn_caches[name] = {"batch": batch_size, "entries": []}

    def set_frame_context(self, name: str, frame: int, window: int) -> None:
        self.contexts.append((name, frame))

    def __call__(
        self, inp: dict[str, Any], update_cache: int = 0, cache_name: str = "pos", action_mode: bool = False
    ) -> torch.Tensor:
        cache = self.attn_caches[cache_name]
        x = inp["noisy_latents"]
        assert x.shape[0] == cache["batch"] == inp["text_emb"].shape[0], "CFG batch differs from the cache's"
        self.calls.append((cache_name, update_cache, action_mode))
        memory = sum(e[0] for e in cache["entries"])
        text = inp["text_emb"].float().mean(dim=(1, 2)).view(-1, 1, 1, 1, 1)
        t = inp["timesteps"].float().mean(dim=1).view(-1, 1, 1, 1, 1) / 1000.0
        out = 0.5 * x.float() + text + 0.01 * memory + 0.1 * t
        if update_cache:
            cache["entries"].append((float(x.float().mean()), update_cache == 1))
        b, c = out.shape[:2]
        return out.reshape(b, c, -1).transpose(1, 2)  # [B, tokens, C]; video patches are 1x1x1 here


class VAEDouble:
    def __init__(self) -> None:
        self.feat_cache: list[Any] = []

    def clear_cache(self) -> None:
        self.feat_cache = []


class VAServerDouble:
    def __init__(self, cfg: SimpleNamespace) -> None:
        self.job_config = cfg
        self.device = torch.device("cpu")
        self.dtype = torch.float32
        self.cache_name = "pos"
        self.save_root = getattr(cfg, "save_root", None)
        self.transformer = TransformerDouble(8)
        self.streaming_vae = VAEDouble()
        self.streaming_vae_half = VAEDouble() if cfg.env_type == "robotwin_tshape" else None
        # a text encoder with trainable parameters, as UMT5 is after from_pretrained (their server
        # never switches its autograd off): an encoding made with autograd on keeps a graph
        self.text_encoder = torch.nn.Linear(1, 4)
        with torch.no_grad():  # deterministic: two doubles encode a prompt alike
            self.text_encoder.weight.copy_(torch.linspace(0.5, 2.0, 4)[:, None])
            self.text_encoder.bias.zero_()
        self.kv_updates: list[tuple[int, tuple[int, ...], list[float]]] = []

    def _get_t5_prompt_embeds(self, prompt: str) -> torch.Tensor:
        x = torch.full((1, 3, 1), float(len(prompt)) / 10.0)
        return self.text_encoder(x)

    def encode_prompt(
        self,
        prompt: str,
        negative_prompt: str | None = None,
        do_classifier_free_guidance: bool = True,
        num_videos_per_prompt: int = 1,
        prompt_embeds: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        max_sequence_length: int = 226,
        device: Any = None,
        dtype: Any = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if prompt_embeds is None:
            prompt_embeds = self._get_t5_prompt_embeds(prompt)
        if do_classifier_free_guidance and negative_prompt_embeds is None:
            negative_prompt_embeds = self._get_t5_prompt_embeds(negative_prompt or "")
        return prompt_embeds, negative_prompt_embeds

    def _reset(self, prompt: str | None = None) -> None:
        cfg = self.job_config
        self.use_cfg = cfg.guidance_scale > 1 or cfg.action_guidance_scale > 1
        self.frame_st_id, self.init_latent = 0, None
        self.transformer.clear_cache(self.cache_name)
        self.streaming_vae.clear_cache()
        if cfg.env_type == "robotwin_tshape":
            self.latent_height, self.latent_width = (cfg.height // 16 * 3) // 2, cfg.width // 16
        else:
            self.latent_height, self.latent_width = cfg.height // 16, cfg.width // 16 * len(cfg.obs_cam_keys)
        self.transformer.create_empty_cache(
            self.cache_name, cfg.attn_window, 0, 0, self.dtype, self.device, 2 if self.use_cfg else 1
        )
        self.action_mask = torch.zeros(cfg.action_dim, dtype=torch.bool)
        self.action_mask[cfg.used_action_channel_ids] = True
        self.actions_q01 = torch.tensor(cfg.norm_stat["q01"]).reshape(-1, 1, 1)
        self.actions_q99 = torch.tensor(cfg.norm_stat["q99"]).reshape(-1, 1, 1)
        # as theirs: the negative prompt only for video CFG, whatever the CFG batch
        self.prompt_embeds, self.negative_prompt_embeds = self.encode_prompt(
            prompt or "", do_classifier_free_guidance=cfg.guidance_scale > 1
        )
        self.exp_name = f"{prompt}_{next(_stamps)}"
        self.exp_save_root = os.path.join(str(self.save_root), "real", self.exp_name)
        os.makedirs(self.exp_save_root, exist_ok=True)

    def _encode_obs(self, obs: dict[str, Any]) -> torch.Tensor:
        frames = obs["obs"] if isinstance(obs["obs"], list) else [obs["obs"]]
        # streaming VAE: the very first frame is one latent, then four frames per latent
        first = not self.streaming_vae.feat_cache
        n = 1 + (len(frames) - 1) // 4 if first else len(frames) // 4
        self.streaming_vae.feat_cache.append(len(frames))
        level = float(np.mean([f[k].mean() for f in frames for k in self.job_config.obs_cam_keys])) / 255.0
        return torch.full((1, 8, n, self.latent_height, self.latent_width), level)

    def _prepare_latent_input(
        self,
        lat: Any,
        act: Any,
        lt: float = 0,
        at: float = 0,
        lcond: Any = None,
        acond: Any = None,
        frame_st_id: int = 0,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if lat is not None:
            out["latent_res_lst"] = self._stream_input(lat, lt, lcond)
        if act is not None:
            out["action_res_lst"] = self._stream_input(act, at, acond)
            act[:, ~self.action_mask] *= 0
        return out

    def _stream_input(self, x: Any, t: float, cond: Any) -> dict[str, Any]:
        """One stream's input; with `cond`, frame 0 is the condition, at timestep 0."""
        d = {
            "noisy_latents": x,
            "timesteps": torch.ones(x.shape[2]) * t,
            "grid_id": torch.zeros(4, 1),
            "text_emb": self.prompt_embeds.clone(),
        }
        if cond is not None:
            x[:, :, 0:1] = cond[:, :, 0:1]
            d["timesteps"][0:1] *= 0
        return d

    def _repeat_input_for_cfg(self, d: dict[str, Any]) -> dict[str, Any]:
        if self.use_cfg:
            d["noisy_latents"] = d["noisy_latents"].repeat(2, 1, 1, 1, 1)
            d["text_emb"] = torch.cat([self.prompt_embeds, self.negative_prompt_embeds])
            d["timesteps"] = d["timesteps"][None].repeat(2, 1)
        else:
            d["timesteps"] = d["timesteps"][None]
        return d

    def preprocess_action(self, action: np.ndarray) -> torch.Tensor:
        padded = torch.nn.functional.pad(torch.from_numpy(action), [0, 0, 0, 0, 0, 1])
        used = self.job_config.used_action_channel_ids
        inverse = [len(used)] * 30
        for i, j in enumerate(used):
            inverse[j] = i
        full = padded[inverse]
        return ((full - self.actions_q01) / (self.actions_q99 - self.actions_q01 + 1e-6) * 2 - 1)[
            None, ..., None
        ]

    def postprocess_action(self, action: torch.Tensor) -> np.ndarray:
        a = action[0, ..., 0]
        a = (a + 1) / 2 * (self.actions_q99 - self.actions_q01 + 1e-6) + self.actions_q01
        return a.numpy()[self.job_config.used_action_channel_ids]

    def _compute_kv_cache(self, obs: dict[str, Any]) -> None:
        self.transformer.clear_pred_cache(self.cache_name)
        # theirs saves the key frames of every chunk (save_async of obs['obs'])
        np.save(os.path.join(self.exp_save_root, f"obs_data_{self.frame_st_id}.npy"), np.zeros(8))
        frames = obs["obs"]
        levels = [float(f[self.job_config.obs_cam_keys[0]].mean()) for f in frames]
        self.kv_updates.append((self.frame_st_id, tuple(obs["state"].shape), levels))
        lat = self._encode_obs(obs)
        if self.frame_st_id == 0:
            lat = torch.cat([self.init_latent, lat], dim=2)
        inputs = self._prepare_latent_input(
            lat, self.preprocess_action(obs["state"]).float(), frame_st_id=self.frame_st_id
        )
        self.transformer(
            self._repeat_input_for_cfg(inputs["latent_res_lst"]), update_cache=2, cache_name=self.cache_name
        )
        self.transformer(
            self._repeat_input_for_cfg(inputs["action_res_lst"]),
            update_cache=2,
            cache_name=self.cache_name,
            action_mode=True,
        )
        self.frame_st_id += lat.shape[2]


def to_patch(patch: Any, seq: torch.Tensor, frames: int, h: int, w: int, batch_size: int = 1) -> torch.Tensor:
    return seq.transpose(1, 2).reshape(batch_size, -1, frames, h, w)
