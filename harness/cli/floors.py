"""`wambench info OUT --floor POLICY=PCT`: the CI bar. A trained policy's pooled success rate on the
stored episodes must stay at or above its floor, so that a broken observation, action or cache path
(which an untrained network could never reveal) fails the build. Errors are not failures, but a
policy with errored episodes is held to the floor over all its finished ones, errors counted as
misses: a path that crashes must not pass by having no verdicts."""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import UserError
from harness.records import OutcomeCounts
from harness.store import Store


@dataclass(frozen=True)
class Floor:
    policy: str
    percent: float


def parse_floor(text: str) -> Floor:
    policy, sep, value = text.rpartition("=")
    try:
        percent = float(value)
    except ValueError:
        percent = -1.0
    if not sep or not policy or not 0 <= percent <= 100:
        raise UserError(
            f"--floor {text!r}: expected POLICY=PERCENT with PERCENT in 0..100 (e.g. teacher-20v50a=40)"
        )
    return Floor(policy, percent)


def check_floors(store: Store, floors: list[Floor]) -> list[str]:
    """One line per floor, 'ok' or 'BELOW'; raises UserError for a policy the store does not hold."""
    pooled: dict[str, OutcomeCounts] = {}
    for (pid, _suite), counts in store.outcome_counts().items():
        total = pooled.setdefault(pid, OutcomeCounts())
        for outcome in ("success", "failure", "error"):
            total.add(outcome, getattr(counts, outcome))
    lines = []
    for floor in floors:
        if floor.policy not in store.policies():
            held = ", ".join(sorted(store.policies()))
            raise UserError(f"--floor {floor.policy}: no such policy in {store.path} (has: {held})")
        c = pooled.get(floor.policy, OutcomeCounts())
        if c.done == 0:
            lines.append(f"BELOW floor {floor.policy}: no finished episode (floor {floor.percent:.0f}%)")
            continue
        rate = 100 * c.success / c.done
        verdict = "ok" if rate >= floor.percent else "BELOW"
        lines.append(
            f"{verdict} floor {floor.policy}: {c.success}/{c.done} = {rate:.1f}% "
            f"(floor {floor.percent:.0f}%{', errors counted as misses' if c.error else ''})"
        )
    return lines


__all__ = ["Floor", "check_floors", "parse_floor"]
