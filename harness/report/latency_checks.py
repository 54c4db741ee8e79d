"""Latency numbers the paper prints against each other: a latency figure's total is the sum of its
parts, and a printed speedup is the reference method's total over that NFE's total (the rule is the
paper definition's, consistency.yaml `latency`)."""

from __future__ import annotations

from collections.abc import Sequence

from harness.report.checks import Check, half_unit, tname, where
from harness.report.paperdef import Paper, default_paper
from harness.report.printed import SPEEDUP, RefValue, nfe_label


def latency_checks(values: Sequence[RefValue], paper: Paper | None = None) -> list[Check]:
    rule = (paper or default_paper()).consistency.latency
    if rule is None:
        return []
    out = []
    fig = [v for v in values if v.table == rule.figure]
    by = {(v.method, v.nfe, v.column): v for v in fig}
    for (method, nfe, column), total in by.items():
        if column != rule.total:
            continue
        parts = [v for v in (by.get((method, nfe, part)) for part in rule.parts) if v is not None]
        if parts and len(parts) == len(rule.parts):
            tol, summed = half_unit(total.decimals), parts[0].value
            for part in parts:
                tol += half_unit(part.decimals)
            for part in parts[1:]:
                summed += part.value
            out.append(
                Check("latency", where(total), total.value, summed, tol, rule.parts_detail, total.text)
            )
    references = [v for v in fig if v.method == rule.reference and v.column == rule.total]
    for t in references:
        for s in fig:
            if s.column != rule.total or s is t:
                continue
            ratio = t.value / s.value
            # relative rounding of both latencies carries into the ratio
            prop = ratio * (half_unit(t.decimals) / t.value + half_unit(s.decimals) / s.value)
            for v in values:
                if v.unit == SPEEDUP and v.benchmark == t.benchmark and v.nfe == s.nfe:
                    detail = f"{tname(rule.figure)}: {t.value:g} ms / {s.value:g} ms"
                    out.append(
                        Check(
                            "latency",
                            where(v),
                            v.value,
                            ratio,
                            half_unit(v.decimals) + prop,
                            f"{detail} ({s.method} {nfe_label(*s.nfe)})",
                            v.text,
                        )
                    )
    return out


__all__ = ["latency_checks"]
