"""Consistency functions f(x, v, sigma): the map from a noisy point and a velocity to a clean estimate.

All of them share the form of the paper's Eq. (3) written on the network's clean prediction
x0_hat = x - sigma v:

    f(x, v, sigma) = c_skip(sigma) x + c_out(sigma) (x - sigma v),     c_skip(0) + c_out(0) = 1,

which makes f(x, 0) = x. The network enters only through v, with |df/dv| = |c_out(sigma)| sigma: the
factor that scales the consistency loss gradient (the paper's Proposition 1 and Figure 2, left).

- `lcm`: the Karras / LCM form with sigma_data = 0.5; c_out ~ sigma, so |df/dv| ~ sigma^2 near 0.
- `linear`: Flash-WAM's action stream, f = x - sigma v (c_skip = 0, c_out = 1); |df/dv| = sigma.

Pure arithmetic: works on floats, numpy arrays and torch tensors. New functions are one `register` call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.registry import Registry

SIGMA_DATA = 0.5


@dataclass(frozen=True)
class ConsistencyFunction:
    """A member of the family: its skip and output coefficients as functions of sigma."""

    name: str
    c_skip: Callable[[Any], Any]
    c_out: Callable[[Any], Any]
    description: str = ""

    def __call__(self, x: Any, v: Any, sigma: Any) -> Any:
        """The clean estimate f(x, v, sigma)."""
        return self.c_skip(sigma) * x + self.c_out(sigma) * (x - sigma * v)

    def grad_scale(self, sigma: Any) -> Any:
        """|df/dv| at sigma: how strongly the loss at this noise level reaches the network."""
        return abs(self.c_out(sigma) * sigma)


def _lcm_skip(sigma: Any, sd: float = SIGMA_DATA) -> Any:
    return sd**2 / (sigma**2 + sd**2)


def _lcm_out(sigma: Any, sd: float = SIGMA_DATA) -> Any:
    return sigma * sd / (sigma**2 + sd**2) ** 0.5


def _zero(sigma: Any) -> Any:
    return 0.0 * sigma


def _one(sigma: Any) -> Any:
    return 0.0 * sigma + 1.0


LCM = ConsistencyFunction(
    "lcm",
    _lcm_skip,
    _lcm_out,
    "Karras/LCM form, sigma_data 0.5: c_skip = sd^2/(s^2+sd^2), c_out = s sd/sqrt(s^2+sd^2)",
)
LINEAR = ConsistencyFunction("linear", _zero, _one, "Flash-WAM action stream: f = x - sigma v")

FUNCTIONS: Registry[ConsistencyFunction] = Registry(
    "consistency function", check=lambda fn: isinstance(fn, ConsistencyFunction), references=False
)
FUNCTIONS.register(LCM.name, LCM)
FUNCTIONS.register(LINEAR.name, LINEAR)


def register(fn: ConsistencyFunction) -> None:
    """Add a consistency function by name (a name already taken is refused)."""
    FUNCTIONS.register(fn.name, fn)


def names() -> list[str]:
    return FUNCTIONS.names()


def get(name: str) -> ConsistencyFunction:
    return FUNCTIONS.get(name)


__all__ = ["FUNCTIONS", "LCM", "LINEAR", "SIGMA_DATA", "ConsistencyFunction", "get", "names", "register"]
