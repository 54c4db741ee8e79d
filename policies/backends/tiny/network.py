"""`TinyNetwork`: the tiny model behind the `WamNetwork` protocol (policies/wam/network.py).

This file is the template for wrapping another network: the per-episode context holds the KV cache (a
bounded window of chunk blocks), the encoded instruction, the current chunk's video condition, and the
previous chunk waiting for its real frames.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from harness.types import EpisodeError, Observation
from policies.backends.tiny.batch import attention_mask, padded_caches
from policies.backends.tiny.model import KV, TinyWam
from policies.wam.network import ChunkGeometry, Guidance, Stream


@dataclass
class TinyContext:
    text: torch.Tensor  # [dim] the instruction's embedding
    blocks: deque[KV]  # cached chunk blocks, oldest first, at most `window`
    past: KV | None = None  # the blocks concatenated per layer (what queries attend to)
    with_video: KV | None = None  # past + the current chunk's predicted video (the action condition)
    pending: tuple[torch.Tensor, torch.Tensor] | None = None  # last chunk's (video, actions)
    chunks: int = 0
    stats: dict[str, int] = field(default_factory=lambda: {"cache_passes": 0})


def _concat(blocks: Sequence[KV]) -> KV | None:
    if not blocks:
        return None
    depth = len(blocks[0])
    return [
        (torch.cat([b[i][0] for b in blocks], dim=2), torch.cat([b[i][1] for b in blocks], dim=2))
        for i in range(depth)
    ]


class TinyNetwork:
    def __init__(
        self,
        model: TinyWam,
        q01: np.ndarray,
        q99: np.ndarray,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
        window: int | None = None,
        blank_cameras: bool = False,
    ) -> None:
        self.device = torch.device(device)
        # The camera ablation: every image the network encodes is black, the state is kept. The same
        # checkpoint with and without it, on the same episodes, says whether it uses its eyes.
        self.blank_cameras = bool(blank_cameras)
        self.dtype = dtype
        self.model = model.to(device=self.device, dtype=dtype).eval()
        self.cfg = model.cfg
        self.window = int(window or self.cfg.window)  # chunks of context kept in the KV cache
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window}")
        self._q01 = np.asarray(q01, dtype=np.float64)
        self._q99 = np.asarray(q99, dtype=np.float64)
        frames, tokens = self.cfg.frames_per_chunk, self.cfg.tokens_per_frame
        # velocity_batch's last padded caches and mask (see _padded); one batch at a time (the
        # server's sessions take turns on the network)
        self._pad_memo: tuple[list[KV | None], int, int, KV | None, torch.Tensor | None] | None = None
        self._geometry = ChunkGeometry(
            (frames, tokens, self.cfg.latent_channels), (self.cfg.actions_per_chunk, self.cfg.action_dim)
        )

    def geometry(self) -> ChunkGeometry:
        return self._geometry

    def action_quantiles(self) -> tuple[np.ndarray, np.ndarray]:
        return self._q01.copy(), self._q99.copy()

    def start_episode(self, instruction: str) -> TinyContext:
        with torch.inference_mode():
            text = self.model.embed_text(instruction)
        return TinyContext(text=text, blocks=deque(maxlen=self.window))

    # --- encode: the observation into the context --------------------------------------------------
    def _latent_frame(self, obs: Observation) -> torch.Tensor:
        latents = []
        for cam in self.cfg.cameras:
            image = obs.images.get(cam)
            if image is None:
                raise EpisodeError(f"observation has no camera '{cam}' (has: {sorted(obs.images)})")
            if self.blank_cameras:
                image = np.zeros_like(image)
            tensor = torch.from_numpy(np.ascontiguousarray(image)).to(self.device).unsqueeze(0)
            latents.append(self.model.encoder(tensor)[0])
        return torch.cat(latents, dim=0).to(self.dtype)  # [tokens per frame, C]

    def _state(self, obs: Observation) -> torch.Tensor:
        state = np.asarray(obs.state, dtype=np.float32).reshape(-1)
        if state.size != self.cfg.state_dim:
            raise EpisodeError(
                f"observation state is {state.size}-d, the network expects {self.cfg.state_dim}-d"
            )
        return torch.from_numpy(state).to(self.device, self.dtype).unsqueeze(0)

    def encode(self, ctx: TinyContext, obs: Observation) -> None:
        """Write one clean block into the cache: the last chunk with its last frame now observed.

        The harness hands the policy the observation after a chunk's actions ran; it is the real version
        of the chunk's last predicted frame, so it replaces that frame before the chunk is cached (the
        earlier frames stay predicted: only the final observation reaches the policy). The first chunk of
        an episode caches the observation alone, in the last frame's slot.
        """
        m, zero = self.model, torch.zeros(1, device=self.device, dtype=self.dtype)
        frame = self._latent_frame(obs)
        parts = [m.embed_state(self._state(obs))]
        if ctx.pending is None:
            tokens = self.cfg.tokens_per_frame
            pos = m.video_pos[-tokens:]
            parts.append((m.video_in(frame) + pos + m.video_time(zero)).unsqueeze(0))
        else:
            video, actions = ctx.pending
            video = video.to(self.dtype).clone()
            video[-1] = frame
            parts.append(m.embed_video(video.unsqueeze(0), zero))
            parts.append(m.embed_actions(actions.to(self.dtype).unsqueeze(0), zero))
            ctx.pending = None
        _, own = m.run(torch.cat(parts, dim=1), ctx.past)
        ctx.blocks.append(own)
        ctx.past = _concat(ctx.blocks)
        ctx.with_video = None
        ctx.stats["cache_passes"] += 1

    # --- velocities ---------------------------------------------------------------------------------
    def velocity(
        self,
        ctx: TinyContext,
        stream: Stream,
        x: torch.Tensor,
        sigma: float,
        guidance: Sequence[Guidance] = ("cond",),
    ) -> torch.Tensor:
        m, b = self.model, len(guidance)
        text = torch.stack([ctx.text if g == "cond" else m.null_text for g in guidance]).unsqueeze(1)
        sig = torch.full((b,), float(sigma), device=self.device, dtype=self.dtype)
        xb = x.to(self.dtype).unsqueeze(0).expand(b, *x.shape)
        if stream == "video":
            tokens, past, head = m.embed_video(xb, sig), ctx.past, m.video_out
        elif stream == "action":
            if ctx.with_video is None:
                raise RuntimeError("action velocity before condition_on_video(): the loop order is broken")
            tokens, past, head = m.embed_actions(xb, sig), ctx.with_video, m.action_out
        else:
            raise ValueError(f"unknown stream {stream!r}")
        h, _ = m.run(torch.cat([text.to(self.dtype), tokens], dim=1), past)
        return head(h[:, 1:]).reshape(b, *x.shape)

    def velocity_batch(
        self,
        ctxs: Sequence[TinyContext],
        stream: Stream,
        xs: Sequence[torch.Tensor],
        sigmas: Sequence[float],
        guidance: Sequence[Guidance] = ("cond",),
    ) -> torch.Tensor:
        """`velocity` for many episodes in one forward pass: [len(ctxs), len(guidance), *x.shape].

        Row i depends on ctxs[i], xs[i] and sigmas[i] only: caches of other lengths are padded and
        masked out (batch.py), so it equals `velocity(ctxs[i], stream, xs[i], sigmas[i], guidance)`
        up to float reduction order.
        """
        m, g, n = self.model, len(guidance), len(ctxs)
        if not n or len(xs) != n or len(sigmas) != n:
            raise ValueError(f"velocity_batch: {n} contexts, {len(xs)} inputs, {len(sigmas)} sigmas")
        if n == 1:  # nothing to pad: exactly the unbatched pass
            return self.velocity(ctxs[0], stream, xs[0], sigmas[0], guidance).unsqueeze(0)
        text = torch.stack(
            [c.text if k == "cond" else m.null_text for c in ctxs for k in guidance]
        ).unsqueeze(1)
        sig = torch.tensor([float(s) for s in sigmas for _ in guidance], device=self.device, dtype=self.dtype)
        shape = xs[0].shape
        xb = torch.stack([x.to(self.dtype) for x in xs]).repeat_interleave(g, dim=0)
        if stream == "video":
            tokens, pasts, head = m.embed_video(xb, sig), [c.past for c in ctxs], m.video_out
        elif stream == "action":
            if any(c.with_video is None for c in ctxs):
                raise RuntimeError("action velocity before condition_on_video(): the loop order is broken")
            tokens, pasts, head = m.embed_actions(xb, sig), [c.with_video for c in ctxs], m.action_out
        else:
            raise ValueError(f"unknown stream {stream!r}")
        past, mask = self._padded(pasts, g, 1 + tokens.shape[1])
        h, _ = m.run(torch.cat([text.to(self.dtype), tokens], dim=1), past, mask)
        return head(h[:, 1:]).reshape(n, g, *shape)

    def _padded(
        self, pasts: list[KV | None], repeats: int, queries: int
    ) -> tuple[KV | None, torch.Tensor | None]:
        """The padded caches of a batch and their mask (None: all of one length), reused while the
        same caches come back together (a batch in lockstep asks for the same contexts at every step
        of a stream: padding once per stream and chunk, not once per step). The memo holds the cache
        objects themselves, so a context whose cache changed (a new list on encode /
        condition_on_video) never matches a stale entry."""
        memo = self._pad_memo
        same = memo is not None and memo[1] == repeats and memo[2] == queries and len(memo[0]) == len(pasts)
        if memo is not None and same and all(a is b for a, b in zip(memo[0], pasts, strict=True)):
            return memo[3], memo[4]
        past, lengths = padded_caches(pasts, repeats, self.cfg.depth)
        mask = None if len(set(lengths)) == 1 else attention_mask(lengths, repeats, queries, self.device)
        self._pad_memo = (list(pasts), repeats, queries, past, mask)
        return past, mask

    def condition_on_video(self, ctx: TinyContext, video: torch.Tensor) -> None:
        """One clean pass over the predicted video: its K/V join the context of the action stream."""
        zero = torch.zeros(1, device=self.device, dtype=self.dtype)
        _, own = self.model.run(self.model.embed_video(video.to(self.dtype).unsqueeze(0), zero), ctx.past)
        ctx.with_video = _concat([ctx.past, own] if ctx.past else [own])
        ctx.stats["cache_passes"] += 1

    def end_chunk(self, ctx: TinyContext, video: torch.Tensor, actions: torch.Tensor) -> None:
        ctx.pending = (video.detach(), actions.detach())
        ctx.with_video = None
        ctx.chunks += 1


__all__ = ["TinyContext", "TinyNetwork"]
