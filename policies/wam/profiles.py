"""Per-suite defaults of the WAM policies (LingBot-VA's wan_va configs, ../shared/research/lingbot-va.md).

A suite says what it is (name, action space, cameras); the numbers a WAM needs for it (chunk geometry,
per-stream SNR shifts, teacher NFE, CFG, attention window) live here, keyed by suite family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SuiteProfile:
    family: str
    frames_per_chunk: int  # latent video frames per chunk
    actions_per_frame: int
    video_shift: float
    action_shift: float
    teacher_nfe_video: int
    teacher_nfe_action: int
    cfg_video: float = 5.0
    cfg_action: float = 1.0
    window: int = 8  # attention window in chunks (LingBot-VA: 30 LIBERO, 72 RoboTwin)

    @property
    def actions_per_chunk(self) -> int:
        return self.frames_per_chunk * self.actions_per_frame


LIBERO = SuiteProfile("libero", 4, 4, 5.0, 0.05, 20, 50, window=30)
ROBOTWIN = SuiteProfile("robotwin", 2, 16, 5.0, 1.0, 25, 50, window=72)
PROFILES: dict[str, SuiteProfile] = {"libero": LIBERO, "robotwin": ROBOTWIN}

_KIND_FAMILY = {"ee_delta7": "libero", "ee16": "robotwin", "qpos14": "robotwin"}


def profile_for(suite: Any) -> SuiteProfile:
    """The profile of a suite: by name (libero_*, robotwin*), else by action-space kind, else RoboTwin's."""
    name = str(getattr(suite, "name", "")).lower()
    for family, profile in PROFILES.items():
        if name.startswith(family):
            return profile
    kind = getattr(getattr(suite, "action_space", None), "kind", "")
    return PROFILES[_KIND_FAMILY.get(kind, "robotwin")]


__all__ = [
    "LIBERO",
    "PROFILES",
    "ROBOTWIN",
    "SuiteProfile",
    "profile_for",
]
