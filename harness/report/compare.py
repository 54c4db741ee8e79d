"""Paired comparison of two policies on the same episodes: per task and overall.

Pairs are episodes (same key: suite, task, split, index) that both policies finished. An episode that
only one policy has, or that errored for either, is not a pair: it is named in the output, never
silently dropped. Differences are A − B in percentage points with a score interval (Tango's, the
one that agrees with the exact test at small n) and the exact McNemar p-value on the discordant pairs.

Many tasks are many tests: per-task p-values are Holm-adjusted across the tasks of the comparison,
and each task gets a verdict (improved / regressed / no detectable difference / underpowered) that
says whether a non-significant task could have shown a difference that matters (its minimum
detectable effect at power 0.8). Everything is computed here and returned as data (`Comparison`,
`as_dict`), so any renderer (Markdown, CSV, JSON) shows the same numbers.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UserError
from harness.power import minimum_detectable_effect
from harness.records import PRIVILEGED_NOTE
from harness.report.results import UNTRAINED_NOTE, Episode, RunSet, load_runs
from harness.report.table import Cell, Table
from harness.stats import PairedResult, holm, paired_bootstrap, paired_compare
from harness.types import EpisodeKey

ALPHA = 0.05
POWER = 0.8
MIN_EFFECT = 0.10  # a difference of 10 points is one that matters, unless the caller says otherwise
Stratum = tuple[str, str, str]  # suite, task, split
VERDICTS = ("improved", "regressed", "no detectable difference", "underpowered")


@dataclass(frozen=True)
class Assessment:
    """What one task's (or the pooled) comparison says, after multiplicity correction.

    p_adjusted: Holm-adjusted across the tasks (the pooled row is one test: unadjusted). mde: the
    smallest true difference (fraction) the exact test finds with probability POWER at this n, level
    `level` and the observed discordance; None when none up to 100 points is. A non-significant task
    is "underpowered" when its mde exceeds the effect that matters (min_effect), else "no detectable
    difference".
    """

    p_adjusted: float
    level: float
    mde: float | None
    verdict: str


def assess(r: PairedResult, p_adjusted: float, level: float, min_effect: float) -> Assessment:
    discordance = (r.a_only + r.b_only) / r.n if r.n else 0.0
    mde = minimum_detectable_effect(r.n, discordance, level, POWER) if r.n else None
    if r.n and p_adjusted < ALPHA:
        verdict = "improved" if r.diff > 0 else "regressed"
    elif mde is None or mde > min_effect:
        verdict = "underpowered"
    else:
        verdict = "no detectable difference"
    return Assessment(p_adjusted, level, mde, verdict)


@dataclass
class Comparison:
    a: str
    b: str
    source_a: str
    source_b: str
    overall: PairedResult
    by_task: dict[Stratum, PairedResult]
    unpaired: list[tuple[EpisodeKey, str]] = field(default_factory=list)  # key, why
    untrained: list[str] = field(default_factory=list)  # policies flagged untrained in their store
    privileged: list[str] = field(default_factory=list)  # policies that read privileged inputs
    assessments: dict[Stratum, Assessment] = field(default_factory=dict)
    overall_assessment: Assessment | None = None
    overall_bootstrap: tuple[float, float] | None = None  # stratified by task, a second opinion
    min_effect: float = MIN_EFFECT

    def verdict_counts(self) -> dict[str, int]:
        return {v: sum(a.verdict == v for a in self.assessments.values()) for v in VERDICTS}

    def as_dict(self) -> dict[str, object]:
        """Everything a renderer needs, as JSON-ready values (fractions, not points)."""

        def result(r: PairedResult, a: Assessment | None) -> dict[str, object]:
            out: dict[str, object] = {
                "pairs": r.n,
                "success_a": r.success_a,
                "success_b": r.success_b,
                "a_only": r.a_only,
                "b_only": r.b_only,
                "diff": r.diff if r.n else None,
                "ci": [r.ci_low, r.ci_high] if r.n else None,
                "p_value": r.p_value,
            }
            if a is not None:
                out.update(p_adjusted=a.p_adjusted, level=a.level, mde=a.mde, verdict=a.verdict)
            return out

        return {
            "a": self.a,
            "b": self.b,
            "source_a": self.source_a,
            "source_b": self.source_b,
            "alpha": ALPHA,
            "power": POWER,
            "min_effect": self.min_effect,
            "tasks": [
                {"suite": k[0], "task": k[1], "split": k[2], **result(r, self.assessments.get(k))}
                for k, r in self.by_task.items()
            ],
            "overall": {
                **result(self.overall, self.overall_assessment),
                "bootstrap_ci": list(self.overall_bootstrap) if self.overall_bootstrap else None,
            },
            "verdict_counts": self.verdict_counts(),
            "unpaired": [{"episode": str(k), "why": why} for k, why in self.unpaired],
            "untrained": sorted(set(self.untrained)),
            "privileged": sorted(set(self.privileged)),
            "summary": self.verdict(),
        }

    def verdict(self) -> str:
        r = self.overall
        if r.n == 0:
            return f"No paired episodes: {self.a} and {self.b} share no finished episode, nothing to compare."
        rates = f"{100 * r.rate_a:.1f}% vs {100 * r.rate_b:.1f}% on {r.n} paired episodes"
        stats = (
            f"Δ = {100 * r.diff:+.1f} pts, 95% CI [{100 * r.ci_low:+.1f}, {100 * r.ci_high:+.1f}], "
            f"exact McNemar p = {r.p_value:.3g}"
        )
        a = self.overall_assessment
        if a is not None and a.mde is not None:
            stats += f", detectable at power {POWER:g}: {100 * a.mde:.1f} pts"
        if r.a_only == 0 and r.b_only == 0:
            head = (
                f"No difference: {self.a} and {self.b} succeed on exactly the same episodes ({rates}; p = 1)."
            )
        elif r.p_value < ALPHA:
            better, worse = (self.a, self.b) if r.diff > 0 else (self.b, self.a)
            head = f"{better} is better than {worse}: {rates} ({stats}); significant at {ALPHA:g}."
        else:
            head = f"No significant difference between {self.a} and {self.b}: {rates} ({stats})."
        if len(self.assessments) > 1:
            counts = ", ".join(f"{n} {v}" for v, n in self.verdict_counts().items())
            head += f" Per task (Holm-adjusted over {len(self.assessments)} tasks): {counts}."
        return head


def _policy(runs: RunSet, name: str, where: str) -> str:
    known = sorted(set(runs.policies) | {e.policy for e in runs.episodes})
    if name in known:
        return name
    hint = difflib.get_close_matches(name, known, n=1)
    suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
    raise UserError(
        f"policy '{name}' is not in {where} (it has: {', '.join(known) or 'no policies'}){suggestion}"
    )


def _outcomes(runs: RunSet, policy: str) -> dict[EpisodeKey, Episode]:
    return {e.key: e for e in runs.episodes if e.policy == policy}


def compare_runs(
    outs: Sequence[str | Path],
    a: str,
    b: str,
    *,
    n_boot: int = 10_000,
    seed: int = 0,
    min_effect: float = MIN_EFFECT,
) -> Comparison:
    """`outs` is one directory (both policies in it) or two (A from the first, B from the second).

    n_boot, seed: the stratified paired bootstrap of the pooled difference (a second opinion beside
    the score interval). min_effect: the difference (fraction) that matters, for the verdicts.
    """
    if not 0.0 < min_effect <= 1.0:
        raise UserError(f"the effect that matters must be in (0, 1] (a fraction), got {min_effect}")
    if len(outs) not in (1, 2):
        raise UserError("compare takes one run directory, or two run directories on the same manifest")
    runs_a = load_runs([outs[0]])
    runs_b = runs_a if len(outs) == 1 else load_runs([outs[1]])
    if len(outs) == 2 and runs_a.manifest_hash != runs_b.manifest_hash:
        raise UserError(
            f"'{outs[0]}' and '{outs[1]}' evaluated different manifests ({runs_a.manifest_hash} vs "
            f"{runs_b.manifest_hash}); a paired comparison needs the same episodes"
        )
    pa = _policy(runs_a, a, str(outs[0]))
    pb = _policy(runs_b, b, str(outs[-1]))
    if len(outs) == 1 and pa == pb:
        raise UserError(f"--a and --b are both '{a}'; name two policies (or give two run directories)")
    ea, eb = _outcomes(runs_a, pa), _outcomes(runs_b, pb)
    strata: dict[Stratum, tuple[list[bool], list[bool]]] = {}
    unpaired: list[tuple[EpisodeKey, str]] = []
    for key in sorted(set(ea) | set(eb)):
        x, y = ea.get(key), eb.get(key)
        why = []
        if x is None:
            why.append(f"missing for {a}")
        elif x.outcome == "error":
            why.append(f"error for {a}")
        if y is None:
            why.append(f"missing for {b}")
        elif y.outcome == "error":
            why.append(f"error for {b}")
        if why:
            unpaired.append((key, ", ".join(why)))
            continue
        assert x is not None and y is not None
        sa, sb = strata.setdefault((key.suite, key.task, key.split), ([], []))
        sa.append(x.success)
        sb.append(y.success)
    flat = {"/".join(k): v for k, v in strata.items()}
    by_task = {k: paired_compare({"/".join(k): v}) for k, v in sorted(strata.items())}
    adjusted = holm([r.p_value for r in by_task.values()])
    level = ALPHA / max(len(by_task), 1)  # Holm's strictest step: an MDE no test of the family beats
    overall = paired_compare(flat)
    return Comparison(
        a=a,
        b=b,
        source_a=str(outs[0]),
        source_b=str(outs[-1]),
        overall=overall,
        by_task=by_task,
        assessments={
            k: assess(r, p, level, min_effect) for (k, r), p in zip(by_task.items(), adjusted, strict=True)
        },
        overall_assessment=assess(overall, overall.p_value, ALPHA, min_effect) if overall.n else None,
        overall_bootstrap=paired_bootstrap(flat, n_boot=n_boot, seed=seed) if overall.n else None,
        min_effect=min_effect,
        unpaired=unpaired,
        untrained=[
            name
            for name, runs in ((pa, runs_a), (pb, runs_b))
            if name in runs.policies and runs.policies[name].untrained
        ],
        privileged=[
            name
            for name, runs in ((pa, runs_a), (pb, runs_b))
            if name in runs.policies and runs.policies[name].privileged
        ],
    )


def _pts(x: float | None) -> Cell:
    return Cell.number(None if x is None else 100 * x, 1)


def _row(label: str, r: PairedResult, a: Assessment | None) -> list[Cell]:
    return [
        Cell.label(label),
        Cell(str(r.n), data={"": r.n}),
        Cell.number(100 * r.rate_a if r.n else None, 1),
        Cell.number(100 * r.rate_b if r.n else None, 1),
        Cell.number(100 * r.diff if r.n else None, 1),
        Cell(
            f"[{100 * r.ci_low:+.1f}, {100 * r.ci_high:+.1f}]" if r.n else "–",
            data={"lo": round(100 * r.ci_low, 4), "hi": round(100 * r.ci_high, 4)} if r.n else {"": None},
        ),
        Cell(f"{r.a_only}/{r.b_only}", data={"A only": r.a_only, "B only": r.b_only}),
        Cell(f"{r.p_value:.3g}", data={"": r.p_value}),
        Cell(f"{a.p_adjusted:.3g}", data={"": a.p_adjusted}) if a else Cell.empty(),
        _pts(a.mde) if a and a.mde is not None else Cell("> 100" if a else "–", data={"": None}),
        Cell.label(a.verdict) if a else Cell.empty(),
    ]


def comparison_table(c: Comparison) -> Table:
    header = [
        "Task",
        "Pairs",
        f"{c.a} %",
        f"{c.b} %",
        "Δ (pts)",
        "95% CI (score)",
        "Discordant A/B",
        "McNemar p",
        "Holm p",
        "MDE (pts)",
        "Verdict",
    ]
    k = len(c.by_task)
    table = Table(
        "compare",
        f"Paired comparison: {c.a} ({c.source_a}) vs {c.b} ({c.source_b})",
        header,
        notes=[
            "Pairs: episodes both policies finished (success or failure). Δ = A − B. Discordant A/B: pairs "
            "only A / only B solved; the exact McNemar test uses these.",
            "95% CI: Tango's score interval for a paired difference, continuity-corrected, so it excludes "
            "0 when the exact test rejects (to within p in [0.049, 0.05)).",
            f"Holm p: the McNemar p adjusted (Holm) over the {k} task rows; the All-tasks row is one test. "
            f"MDE: the smallest true difference the exact test detects with power {POWER:g} at that row's "
            f"n and observed discordance, at level {ALPHA:g}/{k} per task (Holm's strictest step) and "
            f"{ALPHA:g} pooled. Verdict: improved / regressed if Holm p < {ALPHA:g}; otherwise "
            f"underpowered if MDE > {100 * c.min_effect:g} pts (a difference that matters could be "
            "missed), else no detectable difference.",
            c.verdict(),
        ],
    )
    for key, r in c.by_task.items():
        suite, task, split = key
        label = f"{suite}/{task}" + ("" if split == "default" else f"/{split}")
        table.add(_row(label, r, c.assessments.get(key)))
    if c.by_task:
        table.add(_row("All tasks", c.overall, c.overall_assessment))
        if c.overall_bootstrap:
            lo, hi = c.overall_bootstrap
            table.notes.append(
                "All tasks, paired bootstrap within task (second opinion): "
                f"[{100 * lo:+.1f}, {100 * hi:+.1f}]."
            )
    else:
        table.empty_reason = "no episode was finished by both policies"
    if c.untrained:
        table.notes.append(f"† {', '.join(sorted(set(c.untrained)))}: {UNTRAINED_NOTE}.")
    if c.privileged:
        table.notes.append(f"‡ {', '.join(sorted(set(c.privileged)))}: {PRIVILEGED_NOTE}.")
    if c.unpaired:
        shown = "; ".join(f"{k} ({why})" for k, why in c.unpaired[:20])
        more = f"; and {len(c.unpaired) - 20} more (see the CSV)" if len(c.unpaired) > 20 else ""
        table.notes.append(f"Not in both ({len(c.unpaired)} episodes, left out): {shown}{more}.")
    return table


def unpaired_table(c: Comparison) -> Table:
    t = Table("compare_unpaired", "Episodes not finished by both policies", ["Episode", "Why"])
    for key, why in c.unpaired:
        t.add([Cell.label(str(key)), Cell.label(why)])
    t.empty_reason = "every episode was finished by both policies"
    return t


__all__ = [
    "ALPHA",
    "MIN_EFFECT",
    "POWER",
    "VERDICTS",
    "Assessment",
    "Comparison",
    "assess",
    "compare_runs",
    "comparison_table",
    "unpaired_table",
]
