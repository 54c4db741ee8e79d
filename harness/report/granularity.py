"""Can a printed mean exist at all? With n trials per task, a mean over k tasks is a multiple of
100 / (n k) percent; a printed value that no such multiple rounds to is a typo somewhere.

The trial counts are the benchmarks' protocols, as the paper definition's rules give them
(consistency.yaml, `granularity`; Flash-WAM: RoboTwin 2.0, 100 episodes per task and split; LIBERO, 50
initial states per task). Where the paper does not state n itself, a value that fails is
reported as a *possible* typo: it is impossible only if the paper ran that protocol. Arithmetic is
exact (fractions of the printed strings), so 22.07 vs 22.06 / 22.08 is not a rounding question.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from harness.report.checks import Check, where
from harness.report.paperdef import Paper, default_paper
from harness.report.paperspec import GranularityRule
from harness.report.printed import AVERAGE, SUCCESS_PCT, RefValue


@dataclass(frozen=True)
class Trials:
    per_task: int
    stated: bool  # does the paper itself say so
    source: str  # where the number comes from, for the reader


def trials_of(paper: Paper) -> dict[str, Trials]:
    """Benchmark -> trials per task, from the paper's rules."""
    return {b: Trials(r.trials, r.stated, r.source) for b, r in paper.consistency.granularity.items()}


def tasks_in(v: RefValue, horizons: Mapping[str, int], rule: GranularityRule) -> int | None:
    """How many task cells the printed mean averages, or None if it is not such a mean."""
    if v.unit != SUCCESS_PCT or v.table not in rule.tables:
        return None
    if rule.tasks == "horizon-groups":
        per_column = len(horizons) if v.horizon == "all" else Counter(horizons.values())[int(v.horizon)]
    else:
        per_column = rule.tasks
    return rule.average_of * per_column if v.column == AVERAGE else per_column


def _fmt(x: Fraction) -> str:
    return f"{float(x):.4f}".rstrip("0").rstrip(".")


def granularity_check(v: RefValue, k: int, trials: Trials) -> Check:
    step = Fraction(100, trials.per_task * k)
    printed = Fraction(v.text)
    below = (printed // step) * step
    above = below + step
    nearest = min((below, above), key=lambda x: abs(x - printed))
    half = Fraction(1, 2 * 10**v.decimals)
    ok = abs(nearest - printed) <= half
    detail = (
        f"a mean of {k} task cells x {trials.per_task} trials is a multiple of 100/{trials.per_task * k} "
        f"= {_fmt(step)}; nearest possible: {_fmt(below)} or {_fmt(above)}"
    )
    if not ok:
        if trials.stated:
            detail += "; impossible at the paper's stated n"
        else:
            detail += (
                f"; possible typo: n = {trials.per_task} is assumed ({trials.source}), "
                "the paper does not state it"
            )
    return Check(
        "granularity",
        where(v),
        float(printed),
        float(nearest),
        float(half),
        detail,
        v.text,
        (float(below), float(above)),
    )


def granularity_checks(
    values: Sequence[RefValue],
    horizons: Mapping[str, int],
    trials: Mapping[str, Trials] | None = None,
    paper: Paper | None = None,
) -> list[Check]:
    """One check per printed mean whose trial count is known (the paper's, or `trials` per
    benchmark); `horizons` is the task grouping of the horizon tables (the one they were computed with)."""
    paper = paper or default_paper()
    rules = paper.consistency.granularity
    trials = trials_of(paper) if trials is None else trials
    out = []
    for v in values:
        t, rule = trials.get(v.benchmark), rules.get(v.benchmark)
        k = tasks_in(v, horizons, rule) if rule else None
        if t is not None and k:
            out.append(granularity_check(v, k, t))
    return out


__all__ = ["Trials", "granularity_check", "granularity_checks", "tasks_in", "trials_of"]
