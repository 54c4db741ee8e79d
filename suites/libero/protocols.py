"""LIBERO's evaluation protocols: the conventions of the clients that published LIBERO numbers, as data.

Each LIBERO suite declares the same two profiles; only the per-suite step limit of `openpi` differs.
`openpi` is the default (see suites/libero/README.md for why). Values are suite options
(suites/libero/options.py); a run config's `options:` override single ones.
"""

from __future__ import annotations

from harness.protocols import ProtocolProfile
from suites.libero.catalog import DEFAULT_MAX_STEPS, INIT_STATES_PER_TASK, canonical_suite

DEFAULT = "openpi"


def openpi(suite: str) -> ProtocolProfile:
    return ProtocolProfile(
        name="openpi",
        version=1,
        summary="the openpi / OpenVLA / vla-eval LIBERO clients",
        source="openpi examples/libero/main.py (OpenVLA run_libero_eval.py agrees)",
        options={
            "num_steps_wait": 10,
            "wait_gripper": -1.0,
            "max_steps": DEFAULT_MAX_STEPS[canonical_suite(suite)],
            "image_flip": "both",
            "env_seed": 7,
        },
        episodes=INIT_STATES_PER_TASK,
        notes=(
            "env.seed(7) once per task upstream, so a scene depends on the episodes before it; here "
            "episode i seeds env_seed + i, the same on any worker and in any order.",
            "the clients render 256 px and resize to 224; image_size stays the suite's (128) unless set.",
        ),
    )


def lingbot_va(suite: str) -> ProtocolProfile:
    return ProtocolProfile(
        name="lingbot-va",
        version=1,
        summary="LingBot-VA's own LIBERO client",
        source="LingBot-VA's LIBERO client (later upstream trees; not in the 6f092cb snapshot)",
        options={
            "num_steps_wait": 5,
            "wait_gripper": 0.0,
            "max_steps": 800,
            "image_flip": "vertical",
            "env_seed": None,
        },
        episodes=INIT_STATES_PER_TASK,
        notes=(
            "no env.seed: LIBERO's reset places fixtures with the worker's unseeded np.random, so an "
            "episode's scene (~1 cm of fixture position) is not reproducible and not paired across "
            "policies; set env_seed for paired comparisons.",
            "the 800-step cap applies to every suite (the client runs until success or the cap).",
        ),
    )


def profiles(suite: str) -> list[ProtocolProfile]:
    """The default first."""
    return [openpi(suite), lingbot_va(suite)]


__all__ = ["DEFAULT", "lingbot_va", "openpi", "profiles"]
