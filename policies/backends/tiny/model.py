"""The tiny joint video-action transformer: one shared backbone, per-modality input/output layers and
timestep embeddings, block-causal attention over chunks through a per-layer KV cache.

Token layout of a cached chunk block: [state token, video tokens (frames x cameras x patches), action
tokens]. A query sequence is [text token, noisy tokens of one modality]; it attends to the cached blocks
and to itself, never to the future, which is what makes the attention block-causal. The text token
carries the instruction (or the null prompt for CFG) and is never cached, so the cache is shared by the
conditional and unconditional passes.
"""

from __future__ import annotations

import math
import zlib

import torch
import torch.nn.functional as F
from torch import nn

from policies.backends.tiny.config import TinyConfig

KV = list[tuple[torch.Tensor, torch.Tensor]]  # per layer: keys, values [B, heads, L, head_dim]


def sinusoid(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of the timestep 1000 sigma (the network's noise-level input)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float().reshape(-1, 1) * freqs
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class ImageEncoder(nn.Module):
    """A fixed (never trained) encoder: area-resize, cut into patches, project with a seeded matrix.

    It stands in for the frozen video VAE: a deterministic map from camera images to latent tokens.
    """

    def __init__(self, cfg: TinyConfig) -> None:
        super().__init__()
        self.size, self.patch = cfg.image_size, cfg.patch
        fan_in = 3 * cfg.patch * cfg.patch
        self.proj: torch.Tensor
        self.register_buffer("proj", torch.randn(fan_in, cfg.latent_channels) / math.sqrt(fan_in / 12.0))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """[N, H, W, 3] uint8 -> [N, patches, latent channels]. In place after the one copy: the same
        numbers as `x / 255 - 0.5`, without two more image-sized tensors per camera per chunk (a third
        of an encode at RoboTwin's 240 x 320)."""
        x = images.permute(0, 3, 1, 2).to(torch.float32, copy=True)  # never the caller's tensor
        x.div_(255.0).sub_(0.5)
        x = F.adaptive_avg_pool2d(x, (self.size, self.size))
        x = F.unfold(x, self.patch, stride=self.patch).transpose(1, 2)  # [N, patches, 3 p p]
        return x.to(self.proj.dtype) @ self.proj


class TimeEmbed(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.freq_dim = 64
        self.mlp = nn.Sequential(nn.Linear(self.freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, sigma: torch.Tensor) -> torch.Tensor:
        features = sinusoid(1000.0 * sigma, self.freq_dim)
        return self.mlp(features.to(next(self.mlp.parameters()).dtype))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim))

    def forward(
        self,
        h: torch.Tensor,
        past: tuple[torch.Tensor, torch.Tensor] | None,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        b, n, d = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        own = (k, v)
        if past is not None:
            k = torch.cat([past[0].expand(b, -1, -1, -1), k], dim=2)
            v = torch.cat([past[1].expand(b, -1, -1, -1), v], dim=2)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).transpose(1, 2).reshape(b, n, d)
        h = h + self.out(a)
        return h + self.mlp(self.norm2(h)), own


class TinyWam(nn.Module):
    def __init__(self, cfg: TinyConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.dim
        self.encoder = ImageEncoder(cfg)
        self.video_in = nn.Linear(cfg.latent_channels, d)
        self.action_in = nn.Linear(cfg.action_dim, d)
        self.state_in = nn.Linear(max(cfg.state_dim, 1), d)
        # The state is standardised inside the model, with the training data's statistics (set by
        # `wambench train`, saved with the weights), so training and inference cannot disagree. Raw
        # metres put a grasp's centimetres at 0.01 of the input scale, which the network ignored.
        self.state_shift: torch.Tensor
        self.state_scale: torch.Tensor
        self.register_buffer("state_shift", torch.zeros(max(cfg.state_dim, 1)))
        self.register_buffer("state_scale", torch.ones(max(cfg.state_dim, 1)))
        self.video_time = TimeEmbed(d)
        self.action_time = TimeEmbed(d)
        self.video_pos = nn.Parameter(torch.randn(cfg.frames_per_chunk * cfg.tokens_per_frame, d) * 0.02)
        self.action_pos = nn.Parameter(torch.randn(cfg.actions_per_chunk, d) * 0.02)
        self.text = nn.Embedding(cfg.text_buckets, d)
        self.null_text = nn.Parameter(torch.zeros(d))
        self.blocks = nn.ModuleList(Block(d, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(d)
        self.video_out = nn.Linear(d, cfg.latent_channels)
        self.action_out = nn.Linear(d, cfg.action_dim)
        for head in (self.video_out, self.action_out):
            nn.init.normal_(head.weight, std=0.02)
            nn.init.zeros_(head.bias)

    # --- token embeddings -------------------------------------------------------------------------
    def embed_text(self, instruction: str) -> torch.Tensor:
        """Bag of hashed words (stable across processes: crc32, not Python's salted hash) -> [dim]."""
        words = instruction.lower().split() or [""]
        ids = torch.tensor([zlib.crc32(w.encode()) % self.cfg.text_buckets for w in words])
        return self.text(ids.to(self.null_text.device)).mean(0)

    def embed_video(self, latents: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """[B, frames, tokens, C] -> [B, frames * tokens, dim]; sigma: [B]."""
        b = latents.shape[0]
        h = self.video_in(latents.reshape(b, -1, latents.shape[-1])) + self.video_pos
        return h + self.video_time(sigma).unsqueeze(1)

    def embed_actions(self, actions: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """[B, T, action_dim] -> [B, T, dim]."""
        return self.action_in(actions) + self.action_pos + self.action_time(sigma).unsqueeze(1)

    def embed_state(self, state: torch.Tensor) -> torch.Tensor:
        """[B, state_dim] -> [B, 1, dim] (a zero vector stands in when the suite has no state)."""
        if self.cfg.state_dim == 0:
            state = torch.zeros(state.shape[0], 1, device=state.device, dtype=state.dtype)
        return self.state_in((state - self.state_shift) / self.state_scale).unsqueeze(1)

    def set_state_statistics(self, shift: torch.Tensor, scale: torch.Tensor) -> None:
        """Standardise the state with these (the training data's mean and spread, per channel)."""
        with torch.no_grad():
            self.state_shift.copy_(shift)
            self.state_scale.copy_(scale)

    # --- the backbone -------------------------------------------------------------------------------
    def run(
        self, h: torch.Tensor, past: KV | None, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, KV]:
        """Shared blocks over h [B, n, dim], attending to the cached blocks; returns h and h's own K/V.

        `mask` (bool [n, n_past + n], True = may attend) lets one call run a whole episode at once, as
        training does: the same blocks, with the block-causal structure written as a mask (sequence.py).
        """
        own: KV = []
        for i, block in enumerate(self.blocks):
            h, kv = block(h, past[i] if past else None, mask)
            own.append(kv)
        return self.norm(h), own


__all__ = ["KV", "ImageEncoder", "TinyWam", "sinusoid"]
