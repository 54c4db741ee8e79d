"""Few- and many-step samplers for one stream, given the backend's (guided) velocity.

A sampler is a sigma grid plus a step rule; the loop in `sample` is shared, so a sampler never calls the
network itself and its cost is a handful of tensor operations per step.

- `euler`: x <- x + v (sigma_next - sigma) on the shifted grid; the teacher's sampler, and how the
  released Flash-WAM checkpoint is served.
- `consistency`: x0 = f(x, v, sigma) with a named consistency function, then re-noise to sigma_next
  (fresh noise, the consistency-model multistep sampler; or `deterministic`, re-using the noise implied
  by x and x0, which for `linear` is exactly Euler).
- `dmd2`: x0 = x - sigma v, re-noised with fresh noise to the next sigma of a fixed list (the DMD2
  student's rollout; by default the uniform bands 1, 1 - 1/N, ...).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from harness.errors import UserError
from policies.wam import consistency as cfns
from policies.wam.schedules import sigma_grid, uniform_band_grid

if TYPE_CHECKING:  # torch is imported only where noise is drawn, so listing methods stays cheap
    import torch

RENOISE = ("fresh", "deterministic")


class Sampler(Protocol):
    @property
    def name(self) -> str: ...

    def grid(self, steps: int, shift: float) -> list[float]:
        """steps + 1 sigmas from 1 to 0."""
        ...

    def step(
        self, x: torch.Tensor, v: torch.Tensor, sigma: float, sigma_next: float, gen: torch.Generator | None
    ) -> torch.Tensor: ...

    def label(self) -> str:
        """How the sampler shows in listings, e.g. `consistency(lcm)`."""
        ...

    def draws_noise(self, sigma_next: float) -> bool:
        """Whether the step to `sigma_next` draws fresh noise from the generator. A step that draws
        none is elementwise in (x, v): many episodes' rows may take it stacked, each row's numbers
        its own (the batched server does, policies/serving/batching.py)."""
        ...


def _renoise(
    x0: torch.Tensor, eps: torch.Tensor | None, sigma_next: float, gen: torch.Generator | None
) -> torch.Tensor:
    if sigma_next <= 0.0:
        return x0
    if eps is None:
        import torch

        eps = torch.randn(x0.shape, generator=gen, device=x0.device, dtype=x0.dtype)
    return (1.0 - sigma_next) * x0 + sigma_next * eps


class _ShiftedGrid:
    """Samplers that step down the shifted flow-matching grid (`sigma_grid`), as the teacher does."""

    def grid(self, steps: int, shift: float) -> list[float]:
        return sigma_grid(steps, shift)


@dataclass(frozen=True)
class Euler(_ShiftedGrid):
    name: str = "euler"

    def step(
        self, x: torch.Tensor, v: torch.Tensor, sigma: float, sigma_next: float, gen: torch.Generator | None
    ) -> torch.Tensor:
        return x + (sigma_next - sigma) * v

    def label(self) -> str:
        return "euler"

    def draws_noise(self, sigma_next: float) -> bool:
        return False


@dataclass(frozen=True)
class Consistency(_ShiftedGrid):
    fn: cfns.ConsistencyFunction
    renoise: str = "fresh"
    name: str = "consistency"

    def step(
        self, x: torch.Tensor, v: torch.Tensor, sigma: float, sigma_next: float, gen: torch.Generator | None
    ) -> torch.Tensor:
        x0 = self.fn(x, v, sigma)
        eps = None
        if self.renoise == "deterministic" and sigma_next > 0.0:
            eps = (x - (1.0 - sigma) * x0) / sigma  # the noise that puts x0 at x on a straight path
        return _renoise(x0, eps, sigma_next, gen)

    def label(self) -> str:
        suffix = "" if self.renoise == "fresh" else ", deterministic"
        return f"consistency({self.fn.name}{suffix})"

    def draws_noise(self, sigma_next: float) -> bool:
        return self.renoise == "fresh" and sigma_next > 0.0


@dataclass(frozen=True)
class Dmd2:
    sigmas: tuple[float, ...] | None = None  # the fixed list (without the final 0); None: uniform bands
    name: str = "dmd2"

    def __post_init__(self) -> None:
        if self.sigmas is not None:
            object.__setattr__(self, "sigmas", check_dmd2_sigmas(self.sigmas))

    def grid(self, steps: int, shift: float) -> list[float]:
        if self.sigmas is None:
            return uniform_band_grid(steps)
        if len(self.sigmas) != steps:
            raise UserError(
                f"dmd2 sampler has a fixed list of {len(self.sigmas)} sigmas but was asked for {steps} "
                "steps; give NFE equal to the list length"
            )
        return [*map(float, self.sigmas), 0.0]

    def step(
        self, x: torch.Tensor, v: torch.Tensor, sigma: float, sigma_next: float, gen: torch.Generator | None
    ) -> torch.Tensor:
        return _renoise(x - sigma * v, None, sigma_next, gen)

    def label(self) -> str:
        return "dmd2"

    def draws_noise(self, sigma_next: float) -> bool:
        return sigma_next > 0.0


SAMPLERS = ("euler", "consistency", "dmd2")


def check_dmd2_sigmas(sigmas: Sequence[float], where: str = "dmd2 sampler") -> tuple[float, ...]:
    """A DMD2 list is the student's noise levels, noisiest first: it starts from pure noise (1),
    decreases strictly, and stays above 0 (the final 0 is added by `grid`). Anything else either
    starts from a partly denoised state the student never saw or repeats/reverses a step, so it is
    refused when the policy is built, not discovered as bad success rates after a run."""
    values = tuple(float(s) for s in sigmas)
    if not values:
        raise UserError(f"{where}: the sigma list is empty; give e.g. [1.0, 0.5] or leave it out")
    if values[0] != 1.0:
        raise UserError(f"{where}: the sigma list must start at 1 (pure noise), got {list(values)}")
    if any(b >= a for a, b in itertools.pairwise(values)):
        raise UserError(f"{where}: the sigma list must strictly decrease, got {list(values)}")
    if values[-1] <= 0.0:
        raise UserError(f"{where}: every sigma must be above 0 (the final 0 is implied), got {list(values)}")
    return values


def make_sampler(
    name: str,
    consistency: str | None = None,
    renoise: str = "fresh",
    sigmas: Sequence[float] | None = None,
) -> Sampler:
    """Build a sampler by name; bad names and missing consistency functions are a UserError."""
    if renoise not in RENOISE:
        raise UserError(f"unknown re-noising '{renoise}' (have: {', '.join(RENOISE)})")
    if name == "euler":
        return Euler()
    if name == "consistency":
        if consistency is None:
            raise UserError(
                f"the consistency sampler needs a consistency function (one of: {', '.join(cfns.names())})"
            )
        return Consistency(cfns.get(consistency), renoise)
    if name == "dmd2":
        return Dmd2(check_dmd2_sigmas(sigmas) if sigmas is not None else None)
    raise UserError(f"unknown sampler '{name}' (have: {', '.join(SAMPLERS)})")


def guided(cond: torch.Tensor, uncond: torch.Tensor, scale: float) -> torch.Tensor:
    """Classifier-free guidance: uncond + g (cond - uncond)."""
    return uncond + scale * (cond - uncond)


VelocityFn = Callable[["torch.Tensor", float], "torch.Tensor"]


def sample(
    sampler: Sampler,
    x: torch.Tensor,
    grid: Sequence[float],
    velocity: VelocityFn,
    gen: torch.Generator | None,
) -> torch.Tensor:
    """Integrate from grid[0] to grid[-1] = 0: one velocity evaluation per step (len(grid) - 1)."""
    for sigma, sigma_next in itertools.pairwise(grid):
        x = sampler.step(x, velocity(x, sigma), sigma, sigma_next, gen)
    return x


__all__ = [
    "RENOISE",
    "SAMPLERS",
    "Consistency",
    "Dmd2",
    "Euler",
    "Sampler",
    "check_dmd2_sigmas",
    "guided",
    "make_sampler",
    "sample",
]
