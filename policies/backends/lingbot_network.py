"""LingBot-VA's model as a `WamNetwork` (policies/wam/network.py): wambench's samplers, NFE, CFG and
stage timing drive LingBot-VA's own transformer, VAE and text encoder.

The network wraps one `VA_Server` object from a LingBot-VA checkout (`wan_va/wan_va_server.py`) and
uses its own preprocessing methods (`_reset`, `_encode_obs`, `_prepare_latent_input`,
`_repeat_input_for_cfg`, `_compute_kv_cache`, `postprocess_action`), so the inputs the transformer
sees are exactly what LingBot-VA's server builds; only the denoising loop is wambench's. Differences
between LingBot-VA releases are absorbed where they show: `set_frame_context` (newer transformers)
is called when it exists, and the first chunk's action condition comes from
`_make_zero_action_condition` when the checkout has it (zeros in normalised space otherwise).

One VA_Server keeps its episode state on itself (KV cache, frame index, prompt embeddings, the
streaming VAE's cache). To honour the WamNetwork contract (state in the context, one network for many
episodes) each context gets its own KV-cache name, and the server's per-episode attributes are
swapped in and out around every call, under a lock. A context's KV cache is freed, and its debug
directory removed, when the episode ends (`end_episode`, or the context being garbage-collected).

Where wambench departs from the server code on purpose:
- every call runs in `torch.inference_mode` (their `_reset` encodes the prompt with autograd on, which
  keeps the text encoder's activations alive for the whole episode);
- the negative prompt is encoded whenever the CFG batch of two is used (theirs only when the video
  scale exceeds 1, so video CFG 1 with action CFG > 1 crashes there);
- their server saves the key frames and latents of every chunk under `save_root` (~8 MB per RoboTwin
  chunk); each episode here gets its own directory there, removed when the episode ends, unless the
  user named `save_root` (then the files are theirs to keep);
- the rows a client executes: frame 0 of an episode's first chunk is the observed frame, its actions
  a condition that their clients skip; `execute_from` says so and the policy's chunk carries it.

LingBot-VA's per-chunk loop, mapped onto the WamNetwork calls:
    encode               first chunk: VAE-encode the observation (latent frame 0 is the observed
                         frame); later chunks: `_compute_kv_cache` with the frames observed during
                         the previous chunk and its actions (their client's `compute_kv_cache`)
    velocity(video)      `_prepare_latent_input` + transformer (update_cache=0), CFG batch of 2
    condition_on_video   the pass at t = 0 that writes the predicted video into the cache
    velocity(action)     the same on [1, 30, frames, per_frame, 1] actions (action_mode=True)
    end_chunk            the action pass at t = 0 that writes the predicted actions into the cache
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from harness.serving.adapters import match_cameras
from harness.types import ImageReads, Observation
from policies.wam.network import ChunkGeometry, Guidance, Stream

# VA_Server attributes that belong to one episode (swapped per context).
EPISODE_ATTRS = (
    "cache_name",
    "frame_st_id",
    "init_latent",
    "prompt_embeds",
    "negative_prompt_embeds",
    "use_cfg",
    "exp_name",
    "exp_save_root",
)
VIDEO_FRAMES_PER_LATENT = 4  # Wan2.2 VAE temporal stride: key frames sent per latent frame
_names = itertools.count()


@dataclass
class LingbotContext:
    cache_name: str
    state: dict[str, Any] = field(default_factory=dict)  # EPISODE_ATTRS + VAE caches, while inactive
    chunk: int = 0
    frames: list[Observation] = field(default_factory=list)  # observed since the last chunk
    last_obs: Observation | None = None
    state_actions: np.ndarray | None = None  # the last chunk's physical actions [used, F, A]
    latent_cond: torch.Tensor | None = None  # first chunk: the observed latent frame
    action_cond: torch.Tensor | None = None  # first chunk: the action condition of frame 0
    save_root: str | None = None  # the episode's own directory for the server's debug saves
    finalizer: Any = None  # frees the KV cache and removes save_root (once)


def _end_episode(transformer: Any, name: str, save_root: str | None, flush: Callable[[], None]) -> None:
    # At interpreter shutdown the transformer may be half torn down: then there is nothing to free.
    with contextlib.suppress(Exception):
        transformer.clear_cache(name)
    if save_root is not None:
        with contextlib.suppress(Exception):
            flush()  # their saves run on a background thread: let the pending ones land first
        shutil.rmtree(save_root, ignore_errors=True)


def _no_flush() -> None:
    return None


class LingbotNetwork:
    def __init__(
        self,
        server: Any,
        data_seq_to_patch: Callable[..., torch.Tensor],
        *,
        save_root: str | None = None,
        flush_saves: Callable[[], None] = _no_flush,
    ) -> None:
        """`save_root`: the user's directory for the server's debug saves (kept); None: each episode
        gets a temporary directory that is removed when it ends. `flush_saves` waits for the server's
        pending background saves (LingBot-VA's `save_async` executor)."""
        self.server = server
        self._user_save_root = save_root
        self._flush = flush_saves
        self.cfg = server.job_config
        self.device = server.device
        self.dtype = server.dtype
        self._to_patch = data_seq_to_patch
        self._lock = threading.RLock()
        self.frames = int(self.cfg.frame_chunk_size)
        self.per_frame = int(self.cfg.action_per_frame)
        self.action_dim = int(self.cfg.action_dim)
        self.used_channels = tuple(int(c) for c in self.cfg.used_action_channel_ids)
        self.cam_keys = tuple(str(k) for k in self.cfg.obs_cam_keys)
        height, width = int(self.cfg.height), int(self.cfg.width)
        if getattr(self.cfg, "env_type", "") == "robotwin_tshape":  # head above the two wrists
            self.latent_hw = ((height // 16) * 3) // 2, width // 16
        else:  # cameras side by side
            self.latent_hw = height // 16, width // 16 * len(self.cam_keys)
        config = getattr(server.transformer, "config", None)
        self.latent_channels = int(getattr(config, "in_channels", 48))

    # -- shapes and normalisation ----------------------------------------------------------------
    def geometry(self) -> ChunkGeometry:
        return ChunkGeometry(
            video_shape=(self.latent_channels, self.frames, *self.latent_hw),
            action_shape=(self.frames * self.per_frame, self.action_dim),
        )

    def action_quantiles(self) -> tuple[np.ndarray, np.ndarray]:
        stats = self.cfg.norm_stat
        return np.asarray(stats["q01"], np.float64), np.asarray(stats["q99"], np.float64)

    # -- per-episode state -----------------------------------------------------------------------
    def _capture(self, ctx: LingbotContext) -> None:
        srv = self.server
        ctx.state = {a: getattr(srv, a, None) for a in EPISODE_ATTRS}
        ctx.state["_vae"] = srv.streaming_vae.feat_cache
        half = getattr(srv, "streaming_vae_half", None)
        ctx.state["_vae_half"] = half.feat_cache if half is not None else None

    def _restore(self, ctx: LingbotContext) -> None:
        srv = self.server
        for attr in EPISODE_ATTRS:
            setattr(srv, attr, ctx.state.get(attr))
        srv.streaming_vae.feat_cache = ctx.state["_vae"]
        half = getattr(srv, "streaming_vae_half", None)
        if half is not None:
            half.feat_cache = ctx.state["_vae_half"]

    @contextmanager
    def _using(self, ctx: LingbotContext) -> Iterator[Any]:
        with self._lock, torch.inference_mode():
            self._restore(ctx)
            try:
                yield self.server
            finally:
                self._capture(ctx)

    def _frame_context(self, stream: Stream) -> None:
        """Newer LingBot-VA transformers mask future predicted frames; the action stream sits one on."""
        srv = self.server
        setter = getattr(srv.transformer, "set_frame_context", None)
        if callable(setter):
            frame = srv.frame_st_id + (1 if stream == "action" else 0)
            setter(srv.cache_name, frame, self.cfg.attn_window)

    def start_episode(self, instruction: str) -> LingbotContext:
        ctx = LingbotContext(cache_name=f"wambench-{next(_names)}")
        owned = self._user_save_root is None
        ctx.save_root = tempfile.mkdtemp(prefix="wambench-lingbot-") if owned else None
        ctx.finalizer = weakref.finalize(
            ctx, _end_episode, self.server.transformer, ctx.cache_name, ctx.save_root, self._flush
        )
        with self._lock, torch.inference_mode():
            srv = self.server
            srv.cache_name = ctx.cache_name
            srv.save_root = ctx.save_root if owned else self._user_save_root
            srv._reset(prompt=instruction)
            if srv.use_cfg and srv.negative_prompt_embeds is None:
                # Their _reset encodes the negative prompt only for video CFG; the CFG batch needs it
                # whenever either stream guides. The same call their _reset makes, prompt kept.
                _, srv.negative_prompt_embeds = srv.encode_prompt(
                    prompt=instruction,
                    negative_prompt=None,
                    do_classifier_free_guidance=True,
                    prompt_embeds=srv.prompt_embeds,
                    max_sequence_length=512,
                    device=self.device,
                    dtype=self.dtype,
                )
            self._capture(ctx)
        return ctx

    def end_episode(self, ctx: LingbotContext) -> None:
        """Free the episode's KV cache and remove its debug directory now (the policy's close/reset)."""
        with self._lock:
            if ctx.finalizer is not None:
                ctx.finalizer()

    def execute_from(self, ctx: LingbotContext) -> int:
        """Frame 0 of an episode's first chunk is the observed frame; its actions are the zero
        condition (quantile midpoints once decoded), and LingBot-VA's clients skip them."""
        return self.per_frame if ctx.chunk == 0 else 0

    def evaluations(self, ctx: LingbotContext, stream: Stream, guidance: Sequence[Guidance]) -> int:
        """Rows one velocity call evaluates: the whole CFG batch of two once either stream guides,
        whatever the guidance asked for (the KV cache is built at that batch)."""
        return 2 if ctx.state.get("use_cfg") else 1

    def image_reads(self) -> ImageReads:
        """act()'s observation and every `stride`-th one before it: the key frames `_keyframes` picks
        (counted back from the chunk's last observation, so the pattern holds for any chunk length)."""
        return ImageReads(at_act=True, every=max(1, self.per_frame // VIDEO_FRAMES_PER_LATENT))

    def observe(self, ctx: LingbotContext, obs: Observation) -> None:
        """Per-step frames (if the policy forwards them): the key frames of the next KV-cache update."""
        ctx.frames.append(obs)

    # -- observations ----------------------------------------------------------------------------
    def _obs_dict(self, obs: Observation) -> dict[str, np.ndarray]:
        return match_cameras(obs.images, list(self.cam_keys))

    def _keyframes(self, ctx: LingbotContext, obs: Observation) -> list[dict[str, np.ndarray]]:
        """The video frames LingBot-VA's client would send after the previous chunk: one per
        per_frame / 4 actions of every executed latent frame (frame 0 of the first chunk is the
        observation itself). Frames that arrive already picked (a LingBot-VA client's key frames,
        through `wambench serve`) are taken as they are. Without per-step frames, the newest
        observation stands in for all."""
        executed = self.frames - 1 if ctx.chunk == 1 else self.frames
        stride = max(1, self.per_frame // VIDEO_FRAMES_PER_LATENT)
        count = executed * (self.per_frame // stride)
        span = count * stride
        if len(ctx.frames) >= span:
            picked = ctx.frames[len(ctx.frames) - span :][stride - 1 :: stride]
        elif len(ctx.frames) == count:
            picked = list(ctx.frames)
        else:
            picked = [obs] * count
        return [self._obs_dict(o) for o in picked]

    def encode(self, ctx: LingbotContext, obs: Observation) -> None:
        with self._using(ctx) as srv:
            if ctx.chunk == 0:
                init = srv._encode_obs({"obs": self._obs_dict(obs)})
                srv.init_latent = init
                ctx.latent_cond = init[:, :, 0:1].to(self.dtype)
                make = getattr(srv, "_make_zero_action_condition", None)
                if callable(make):
                    ctx.action_cond = make()
                else:
                    shape = (1, self.action_dim, 1, self.per_frame, 1)
                    ctx.action_cond = torch.zeros(shape, device=self.device, dtype=self.dtype)
            else:
                assert ctx.state_actions is not None, "end_chunk was not called after the previous chunk"
                srv._compute_kv_cache({"obs": self._keyframes(ctx, obs), "state": ctx.state_actions})
            ctx.frames = []
            ctx.last_obs = obs

    # -- network evaluations ---------------------------------------------------------------------
    @staticmethod
    def _pick(out: torch.Tensor, guidance: Sequence[Guidance], cfg_batch: bool) -> torch.Tensor:
        rows = []
        for g in guidance:
            if g == "uncond" and not cfg_batch:
                raise RuntimeError("unconditional velocity requested but the episode was started without CFG")
            rows.append(out[0] if g == "cond" else out[1])
        return torch.stack(rows)

    def _video_input(self, ctx: LingbotContext, x: torch.Tensor, t: float) -> dict[str, Any]:
        srv = self.server
        latents = x[None].to(self.device, self.dtype).clone()  # their helper writes frame 0 in place
        cond = ctx.latent_cond if ctx.chunk == 0 else None
        inputs = srv._prepare_latent_input(latents, None, t, t, cond, None, frame_st_id=srv.frame_st_id)
        return dict(srv._repeat_input_for_cfg(inputs["latent_res_lst"]))

    def _action_input(self, ctx: LingbotContext, a: torch.Tensor, t: float) -> dict[str, Any]:
        srv = self.server
        # [T, C] with T = frame * per_frame + n  ->  LingBot-VA's [1, C, frames, per_frame, 1]
        actions = a.T.reshape(self.action_dim, self.frames, self.per_frame)[None, ..., None]
        actions = actions.to(self.device, self.dtype).clone()  # their helper masks channels in place
        cond = ctx.action_cond if ctx.chunk == 0 else None
        inputs = srv._prepare_latent_input(None, actions, t, t, None, cond, frame_st_id=srv.frame_st_id)
        return dict(srv._repeat_input_for_cfg(inputs["action_res_lst"]))

    def velocity(
        self,
        ctx: LingbotContext,
        stream: Stream,
        x: torch.Tensor,
        sigma: float,
        guidance: Sequence[Guidance] = ("cond",),
    ) -> torch.Tensor:
        t = float(sigma) * 1000.0  # LingBot-VA's timestep: num_train_timesteps * shifted sigma
        with self._using(ctx) as srv:
            self._frame_context(stream)
            batch = 2 if srv.use_cfg else 1
            if stream == "video":
                raw = srv.transformer(
                    self._video_input(ctx, x, t), update_cache=0, cache_name=srv.cache_name, action_mode=False
                )
                out = self._to_patch(
                    self.cfg.patch_size, raw, self.frames, *self.latent_hw, batch_size=batch
                ).float()  # [B, C, F, H, W]
                v = self._pick(out, guidance, batch == 2).to(x.device)
                if ctx.chunk == 0 and ctx.latent_cond is not None:
                    v[:, :, 0:1] = self._to_condition(x[:, 0:1], ctx.latent_cond[0].float(), sigma)
                return v
            raw = srv.transformer(
                self._action_input(ctx, x, t), update_cache=0, cache_name=srv.cache_name, action_mode=True
            )
            out = raw.float()  # [B, frames * per_frame, C]: the (f n) order of wambench's T axis
            v = self._pick(out, guidance, batch == 2).to(x.device)
            if ctx.chunk == 0 and ctx.action_cond is not None:
                cond = ctx.action_cond[0, :, 0, :, 0].T.float()  # [per_frame, C]
                v[:, : self.per_frame] = self._to_condition(x[: self.per_frame], cond, sigma)
            return v

    @staticmethod
    def _to_condition(x: torch.Tensor, cond: torch.Tensor, sigma: float) -> torch.Tensor:
        """The velocity that carries x exactly onto the condition under Euler (LingBot-VA overwrites
        frame 0 of the first chunk with it after every step; wambench's sampler owns x, so the
        network steers it there instead)."""
        return (x - cond.to(x.device)) / max(float(sigma), 1e-6)

    def condition_on_video(self, ctx: LingbotContext, video: torch.Tensor) -> None:
        with self._using(ctx) as srv:
            self._frame_context("video")
            srv.transformer(self._video_input(ctx, video, 0.0), update_cache=1, cache_name=srv.cache_name)

    def end_chunk(self, ctx: LingbotContext, video: torch.Tensor, actions: torch.Tensor) -> None:
        with self._using(ctx) as srv:
            self._frame_context("action")
            inputs = self._action_input(ctx, actions, 0.0)
            srv.transformer(inputs, update_cache=1, cache_name=srv.cache_name, action_mode=True)
            # What their client sends back as `state`: the chunk's physical actions, used channels.
            final = actions.T.reshape(self.action_dim, self.frames, self.per_frame)[None, ..., None].clone()
            if ctx.chunk == 0 and ctx.action_cond is not None:
                final[:, :, 0:1] = ctx.action_cond.to(final)
            final[:, ~srv.action_mask.to(final.device)] = 0
            ctx.state_actions = np.asarray(srv.postprocess_action(final.float()), dtype=np.float32)
        ctx.chunk += 1

    def describe(self) -> Mapping[str, Any]:
        return {
            "lingbot_frames_per_chunk": self.frames,
            "lingbot_actions_per_frame": self.per_frame,
            "lingbot_cameras": list(self.cam_keys),
            "lingbot_used_channels": list(self.used_channels),
            "latent_shape": list(self.geometry().video_shape),
        }


__all__ = ["EPISODE_ATTRS", "LingbotContext", "LingbotNetwork"]
