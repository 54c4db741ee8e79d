"""Evaluation protocols: named, versioned profiles of a suite's evaluation conventions, as data.

The same checkpoint scores differently under different client conventions (wait steps, step limits,
image flip, seeds, episodes, splits, instruction choice), so a run says which convention it follows by
name, and the store records that name, its version and the values actually in effect.

A suite declares its profiles on its registered factory, without building a simulator:
`factory.protocols() -> Sequence[ProtocolProfile]`; the first one is the suite's default. A profile
sets suite options (passed to the factory like a config's `options:`), and may set the episodes per
(task, split) and the splits a run uses when the run does not say. A suite entry picks a profile with
`protocol:`; its `options:` then override single values, and every such override is recorded with the
profile it departs from. Each run invocation stores its suites' records with its config (the
`protocols` key of `runs.config_json`); a resume under other values is refused. The harness knows no
suite and no profile by name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.config import RunConfig, SuiteConfig
from harness.errors import UserError
from harness.registry import Registry
from harness.store import Store


@dataclass(frozen=True)
class ProtocolProfile:
    """One evaluation convention of a suite. Bump `version` whenever a value changes."""

    name: str
    version: int
    summary: str  # one line: whose convention this is
    source: str  # the upstream script or client it follows
    options: Mapping[str, Any]  # suite options it sets
    episodes: int | None = None  # per (task, split), when neither the suite entry nor the run says
    splits: tuple[str, ...] | None = None  # when the suite entry does not say
    # Where wambench departs from the upstream it is named after, or what upstream leaves unpinned.
    notes: tuple[str, ...] = ()

    def values(self) -> dict[str, Any]:
        """Every value the profile sets, options and run shape together (what a run is checked against)."""
        out = dict(self.options)
        if self.episodes is not None:
            out["episodes"] = self.episodes
        if self.splits is not None:
            out["splits"] = list(self.splits)
        return out


def declared(factory: Any) -> list[ProtocolProfile]:
    """The profiles a suite factory declares (none for a suite without protocols)."""
    method = getattr(factory, "protocols", None)
    if not callable(method):
        return []
    profiles = list(method())
    bad = [p for p in profiles if not isinstance(p, ProtocolProfile)]
    if bad:
        raise UserError(f"suite factory {factory!r} declares protocols that are not ProtocolProfile: {bad}")
    return profiles


def lookup(suite: str, factory: Any, name: str | None) -> ProtocolProfile | None:
    """The profile `name` of a suite (its default when None); UserError with "did you mean" if unknown."""
    profiles = declared(factory)
    if name is None:
        return profiles[0] if profiles else None
    if not profiles and ":" not in name:
        raise UserError(f"suite '{suite}' declares no evaluation protocols; remove `protocol: {name}`")
    known: Registry[ProtocolProfile] = Registry(
        "protocol",
        f"wambench.protocols.{suite}",
        check=lambda obj: isinstance(obj, ProtocolProfile),
        see="see `wambench list protocols`",
    )
    for profile in profiles:
        known.register(profile.name, profile)
    try:
        return known.get(name)  # also accepts a 'module:attr' profile of one's own
    except UserError as exc:
        raise UserError(f"suite '{suite}': {exc}") from None


@dataclass(frozen=True)
class EntryProtocol:
    """A suite entry of a run config with its profile applied: what the factory receives, and why."""

    profile: ProtocolProfile | None
    options: dict[str, Any]  # the profile's options, then the entry's own

    @classmethod
    def of(cls, cfg: SuiteConfig, factory: Any) -> EntryProtocol:
        profile = lookup(cfg.name, factory, cfg.protocol)
        base = dict(profile.options) if profile else {}
        return cls(profile, {**base, **cfg.options})

    def episodes(self, cfg: SuiteConfig, run: RunConfig) -> int:
        """The suite entry's count, else the run's if it said one, else the profile's, else the run's."""
        if cfg.episodes is not None:
            return cfg.episodes
        if "episodes" not in run.model_fields_set and self.profile and self.profile.episodes:
            return self.profile.episodes
        return run.episodes

    def splits(self, cfg: SuiteConfig) -> list[str] | None:
        if cfg.splits is not None:
            return list(cfg.splits)
        return list(self.profile.splits) if self.profile and self.profile.splits else None


@dataclass(frozen=True)
class ProtocolRecord:
    """What the store keeps for one suite of a run: the profile and the values in effect."""

    suite: str
    protocol: str
    version: int
    source: str
    values: dict[str, Any]  # every value the profile sets, as in effect (profile or override)
    overrides: dict[str, dict[str, Any]]  # key -> {"profile": ..., "used": ...}
    notes: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)  # all of the suite's options in effect

    def line(self) -> str:
        """One line for `wambench info` and reports."""
        text = f"{self.suite}: protocol {self.protocol} v{self.version} ({describe(self.values)})"
        if self.overrides:
            changed = ", ".join(
                f"{k}={_short(o['used'])} (profile {_short(o['profile'])})" for k, o in self.overrides.items()
            )
            text += f"; overridden: {changed}"
        return text

    def identity(self) -> Any:
        """What must match for a resume into the same output directory (as the store keeps it)."""
        ident = {"protocol": self.protocol, "version": self.version, "values": self.values}
        return json.loads(json.dumps(ident, sort_keys=True, default=str))


def describe(values: Mapping[str, Any]) -> str:
    """`key=value, ...` as listings, `wambench info` and reports print a profile's values."""
    return ", ".join(f"{k}={_short(v)}" for k, v in values.items())


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


def record(
    suite: str,
    entry: EntryProtocol,
    effective: Mapping[str, Any],
    episodes: int,
    splits: Sequence[str],
) -> ProtocolRecord | None:
    """The record of a built suite. `effective` is the suite's own view of its options (what its envs
    receive) where it offers one (`suite.effective_options()`), else the options it was built with."""
    profile = entry.profile
    if profile is None:
        return None
    used = {**entry.options, **effective, "episodes": episodes, "splits": list(splits)}
    values, overrides = {}, {}
    for key, wanted in profile.values().items():
        values[key] = used.get(key)
        if _normal(values[key]) != _normal(wanted):
            overrides[key] = {"profile": wanted, "used": values[key]}
    return ProtocolRecord(
        suite,
        profile.name,
        profile.version,
        profile.source,
        values,
        overrides,
        list(profile.notes),
        {k: v for k, v in used.items() if k not in ("episodes", "splits")},
    )


def _normal(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def effective_options(suite: Any, built_with: Mapping[str, Any]) -> dict[str, Any]:
    view = getattr(suite, "effective_options", None)
    return dict(view()) if callable(view) else dict(built_with)


def stored(store: Store) -> dict[str, ProtocolRecord]:
    """The protocols a store's latest rollout run recorded with its config ({} from before protocols)."""
    for run in reversed(store.runs("rollout")):
        return {r["suite"]: ProtocolRecord(**r) for r in run.config.get("protocols", [])}
    return {}


def resume_problems(stored: Mapping[str, ProtocolRecord], planned: Mapping[str, ProtocolRecord]) -> list[str]:
    """Why a store's protocols differ from a planned run's (empty: the run may resume there)."""
    problems = []
    for suite in sorted(set(stored) | set(planned)):
        old, new = stored.get(suite), planned.get(suite)
        if old is None or new is None or old.identity() != new.identity():
            before = old.line() if old else "no protocol recorded"
            after = new.line() if new else "no protocol"
            problems.append(f"{suite}: stored {before}; this run {after}")
    return problems


__all__ = [
    "EntryProtocol",
    "ProtocolProfile",
    "ProtocolRecord",
    "declared",
    "describe",
    "effective_options",
    "lookup",
    "record",
    "resume_problems",
    "stored",
]
