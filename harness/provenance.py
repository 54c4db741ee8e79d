"""Where a result came from: versions, git revision, host, device. Stored with every run, rollout and
latency alike, as one `harness.records.Provenance`."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from harness.records import Provenance

_PACKAGES = (
    "wambench",
    "torch",
    "numpy",
    "mujoco",
    "robosuite",
    "hf-libero",
    "bddl",
    "pydantic",
    "websockets",
    "msgpack",
)


def git_revision(path: Path | None = None) -> str | None:
    """The checkout's commit, with '+dirty' when it has uncommitted changes; None outside git."""
    cwd = path or Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("+dirty" if dirty else "")


def package_versions() -> dict[str, str]:
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def collect(device: str | None = None) -> Provenance:
    """This process's provenance; `device` names what the numbers were timed on (default: this CPU)."""
    from harness import __version__
    from harness.timing import device_name

    return Provenance(
        wambench_version=__version__,
        git_revision=git_revision(),
        packages=package_versions(),
        host=socket.gethostname(),
        device=device or device_name("cpu"),
        python=platform.python_version(),
        command=" ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        cpu_count=os.cpu_count(),
    )


__all__ = ["collect", "git_revision", "package_versions"]
