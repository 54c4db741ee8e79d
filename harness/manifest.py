"""The frozen episode list of a run, built before anything starts.

Every policy of a run is evaluated on exactly these episodes (pairing), and the same config always
yields the same list: suites give their first-n episodes deterministically, and each episode's policy
noise seed is a hash of (run seed, episode key), independent of worker scheduling.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from harness import registry
from harness.config import RunConfig, SuiteConfig
from harness.errors import UserError
from harness.protocols import EntryProtocol
from harness.types import EpisodeKey, EpisodeSpec, Suite, TaskInfo


def noise_seed(run_seed: int, key: EpisodeKey) -> int:
    digest = hashlib.sha256(f"{run_seed}|{key}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def entry_protocol(cfg: SuiteConfig) -> EntryProtocol:
    """The suite entry with its evaluation protocol applied; unknown protocols fail here, before work."""
    return EntryProtocol.of(cfg, registry.suites.get(cfg.name))


def construct_suite(ref: str, options: Mapping[str, Any], given: Iterable[str] | None = None) -> Suite:
    """The one place a suite is built: by registry name (or `module:attr`) with its options, the
    protocol's merged in. Options the factory does not take are a UserError naming them (`given`:
    the options the user wrote, where they differ from what the factory gets), in the runner's
    planning and in a worker alike."""
    factory = registry.suites.get(ref)
    try:
        suite: Suite = factory(**options)
    except TypeError as exc:
        named = sorted(given if given is not None else options)
        raise UserError(f"suite '{ref}': bad options {named}: {exc}") from None
    return suite


def build_suite(cfg: SuiteConfig) -> Suite:
    """The config entry's suite, with its evaluation protocol's options (harness/protocols.py)."""
    return construct_suite(cfg.name, entry_protocol(cfg).options, cfg.options)


def _select_tasks(suite: Suite, cfg: SuiteConfig) -> list[TaskInfo]:
    tasks = {t.id: t for t in suite.tasks()}
    if cfg.tasks is None:
        return list(tasks.values())
    chosen = []
    for name in cfg.tasks:
        if name not in tasks:
            close = difflib.get_close_matches(name, list(tasks), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise UserError(
                f"unknown task '{name}' in suite '{cfg.name}'{hint} (see `wambench list tasks {cfg.name}`)"
            )
        chosen.append(tasks[name])
    return chosen


def select_splits(suite: Suite, cfg: SuiteConfig, entry: EntryProtocol) -> list[str]:
    """The entry's splits, else its protocol's, else all of the suite's."""
    chosen = entry.splits(cfg)
    if chosen is None:
        return list(suite.splits)
    for split in chosen:
        if split not in suite.splits:
            raise UserError(
                f"unknown split '{split}' for suite '{cfg.name}' (have: {', '.join(suite.splits)})"
            )
    return chosen


@dataclass(frozen=True)
class Manifest:
    episodes: tuple[EpisodeSpec, ...]
    instructions: Mapping[tuple[str, str], str]  # (suite, task) -> instruction, for progress/summary

    def __len__(self) -> int:
        return len(self.episodes)


def build_manifest(config: RunConfig, suites: Mapping[str, Suite] | None = None) -> Manifest:
    """Resolve suites/tasks/splits and list every episode; raises UserError on any bad name."""
    built = dict(suites or {})
    specs: list[EpisodeSpec] = []
    instructions: dict[tuple[str, str], str] = {}
    seen: set[EpisodeKey] = set()
    for scfg in config.suites:
        suite = built.get(scfg.name) or build_suite(scfg)
        built[scfg.name] = suite
        entry = entry_protocol(scfg)
        n = entry.episodes(scfg, config)
        for task in _select_tasks(suite, scfg):
            if task.n_episodes is not None and n > task.n_episodes:
                raise UserError(
                    f"suite '{scfg.name}' task '{task.id}' has {task.n_episodes} episodes, "
                    f"{n} were asked for (use --episodes {task.n_episodes} or fewer)"
                )
            instructions[(suite.name, task.id)] = task.instruction
            for split in select_splits(suite, scfg, entry):
                for spec in suite.episodes(task.id, split, n):
                    if spec.key in seen:
                        raise UserError(f"episode {spec.key} is listed twice (suite '{scfg.name}' twice?)")
                    seen.add(spec.key)
                    specs.append(replace(spec, noise_seed=noise_seed(config.seed, spec.key)))
    return Manifest(tuple(specs), instructions)


def group_key(spec: EpisodeSpec) -> tuple[str, str, str]:
    """Episodes sharing one live env (a worker reuses its env across them)."""
    return (spec.suite, spec.task, spec.split)


def suites_in(specs: Sequence[EpisodeSpec]) -> list[str]:
    return sorted({s.suite for s in specs})


__all__ = [
    "Manifest",
    "build_manifest",
    "build_suite",
    "construct_suite",
    "entry_protocol",
    "group_key",
    "noise_seed",
    "select_splits",
]
