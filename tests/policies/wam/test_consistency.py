"""Consistency functions: the boundary condition and the gradient scale near sigma = 0 (Proposition 1)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.errors import UserError
from policies.wam import consistency as cf

SMALL_SIGMAS = np.logspace(-4, -2, 9)


def _autograd_scale(fn: cf.ConsistencyFunction, sigma: float) -> float:
    """|df/dv| measured by autograd, independent of the function's own grad_scale formula."""
    x = torch.randn(64, dtype=torch.float64)
    v = torch.randn(64, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(fn(x, v, sigma).sum(), v)
    assert torch.allclose(grad, grad[0].expand_as(grad))  # elementwise, the same for every entry
    return float(grad.abs().mean())


def _slope(fn: cf.ConsistencyFunction) -> float:
    scales = [_autograd_scale(fn, float(s)) for s in SMALL_SIGMAS]
    return float(np.polyfit(np.log(SMALL_SIGMAS), np.log(scales), 1)[0])


@pytest.mark.parametrize("name", cf.names())
def test_boundary_condition_f_x_0_is_x(name: str) -> None:
    fn = cf.get(name)
    x, v = torch.randn(5, 3, dtype=torch.float64), 1e3 * torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(fn(x, v, 0.0), x, rtol=0, atol=0)


def test_linear_gradient_vanishes_like_sigma() -> None:
    assert _slope(cf.LINEAR) == pytest.approx(1.0, abs=0.01)


def test_lcm_gradient_vanishes_like_sigma_squared() -> None:
    assert _slope(cf.LCM) == pytest.approx(2.0, abs=0.01)


@pytest.mark.parametrize("name", cf.names())
def test_proposition_1_no_function_beats_linear(name: str) -> None:
    """|df/dv| = |c_out| sigma with bounded c_out vanishes at least linearly: linear is the best slope."""
    assert _slope(cf.get(name)) >= 1.0 - 0.01


@pytest.mark.parametrize("name", cf.names())
def test_analytic_scale_matches_autograd(name: str) -> None:
    fn = cf.get(name)
    for sigma in (1e-3, 0.1, 0.5, 1.0):
        assert float(fn.grad_scale(sigma)) == pytest.approx(_autograd_scale(fn, sigma), rel=1e-12)


def test_lcm_is_much_weaker_than_linear_at_low_sigma_only() -> None:
    ratio_low = cf.LCM.grad_scale(0.01) / cf.LINEAR.grad_scale(0.01)
    ratio_high = cf.LCM.grad_scale(1.0) / cf.LINEAR.grad_scale(1.0)
    assert ratio_low < 0.03 < 0.4 < ratio_high


def test_functions_work_on_numpy_and_floats() -> None:
    sig = np.linspace(0, 1, 5)
    assert cf.LCM.grad_scale(sig).shape == (5,)
    assert cf.LINEAR(2.0, 1.0, 0.5) == pytest.approx(1.5)


def test_unknown_function_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"unknown consistency function 'lcn'.*lcm, linear"):
        cf.get("lcn")


def test_registering_a_new_function() -> None:
    half = cf.ConsistencyFunction("test-half", lambda s: 1.0 - s / (1.0 + s), lambda s: s / (1.0 + s))
    cf.register(half)
    try:
        assert cf.get("test-half") is half
        assert _slope(half) == pytest.approx(2.0, abs=0.01)  # c_out ~ sigma: LCM-like, quadratic
        with pytest.raises(UserError, match="consistency function 'lcm' is already registered"):
            cf.register(cf.ConsistencyFunction("lcm", half.c_skip, half.c_out))
        assert cf.get("lcm") is cf.LCM
    finally:
        cf.FUNCTIONS.unregister("test-half")
