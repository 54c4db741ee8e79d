"""The paper's Figure 2: why one consistency function cannot serve both streams (a report figure).

Left: the gradient-scale factor |df/dv| against sigma for the `lcm` and `linear` consistency functions
(quadratic vs linear vanishing near sigma = 0). Right: the marginal distribution of the training noise
level for the video stream (shift 5) and the action stream (shift 1 on RoboTwin, 0.05 on LIBERO):
the analytic density with a histogram of sampled sigmas over it. The curves come from the policy
package's own functions (policies.wam.consistency, policies.wam.schedules), so the figure shows
exactly what the samplers use. It reads no store: every report gets it through the `wambench.figures`
entry point `figure2` (harness/report/providers.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from harness.report.figures import COLUMN_WIDTH_IN, STYLE
from harness.report.plots import FigureSpec
from policies.wam import consistency, schedules

STREAMS: tuple[tuple[str, float], ...] = (
    ("video, shift 5", 5.0),
    ("action, shift 1", 1.0),
    ("action, shift 0.05", 0.05),
)


def analysis_figure(
    functions: Sequence[str] = ("lcm", "linear"),
    streams: Sequence[tuple[str, float]] = STREAMS,
    samples: int = 200_000,
    seed: int = 0,
) -> Figure:
    sigma = np.linspace(0.0, 1.0, 401)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(COLUMN_WIDTH_IN, 1.75))
        left, right = fig.subplots(1, 2)
        for name, style in zip(functions, ("-", "--", ":", "-."), strict=False):
            fn = consistency.get(name)
            left.plot(sigma, np.asarray(fn.grad_scale(sigma), dtype=float), style, linewidth=1.1, label=name)
        left.set_xlabel("σ")
        left.set_ylabel("|∂f/∂v|")
        left.set_title("gradient scale")
        left.set_xlim(0, 1)
        left.set_ylim(0, None)
        left.legend(frameon=False, loc="upper left")

        rng = np.random.default_rng(seed)
        bins = np.linspace(0.0, 1.0, 41)
        colors = ("#4C72B0", "#DD8452", "#55A868", "#C44E52")
        for (label, shift), color in zip(streams, colors, strict=False):
            drawn = schedules.sample_training_sigmas(samples, shift, rng)
            right.hist(drawn, bins=bins, density=True, color=color, alpha=0.25, linewidth=0)
            inner = np.linspace(0.0025, 0.9975, 400)
            right.plot(
                inner, schedules.training_sigma_density(inner, shift), color=color, linewidth=1.0, label=label
            )
        right.set_yscale("log")
        right.set_xlabel("σ")
        right.set_ylabel("density")
        right.set_title("training σ marginal")
        right.set_xlim(0, 1)
        right.legend(frameon=False, loc="upper center", fontsize=5)
        fig.tight_layout(w_pad=0.8)
        return fig


ANALYSIS_CAPTION = (
    "Figure 2 analysis: left, the gradient-scale factor |df/dv| of the lcm and linear consistency "
    "functions against sigma; right, the training-sigma marginals of the video (shift 5) and action "
    "(shift 1, 0.05) schedules, analytic density over a histogram of 200k draws. Computed with "
    "policies.wam.consistency and policies.wam.schedules (the functions the samplers use)."
)


def figure2() -> FigureSpec:
    """The `wambench.figures` provider: Figure 2 for every report."""
    return FigureSpec("fig2_analysis", ANALYSIS_CAPTION, analysis_figure())


__all__ = ["ANALYSIS_CAPTION", "STREAMS", "analysis_figure", "figure2"]
