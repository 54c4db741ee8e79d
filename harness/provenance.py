"""Where a result came from: versions, git revision, host, device. Stored with every run, rollout and
latency alike, as one `harness.records.Provenance`.

The versions are the harness's own dependencies' and those of the packages the run's suites and
policies declare (`harness.types.DeclaresPackages`: a simulator, its assets); the harness names none
of a plugin's packages itself.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from harness.records import Provenance
from harness.types import DeclaresPackages

# What the harness itself runs on: the versions that can change its numbers, its store or its wire.
HARNESS_PACKAGES = ("wambench", "torch", "numpy", "pydantic", "websockets", "msgpack")


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


def declared_packages(plugins: Iterable[object]) -> list[str]:
    """The packages these suite and policy factories declare (`packages`), each once, in order."""
    names: dict[str, None] = {}
    for plugin in plugins:
        if isinstance(plugin, DeclaresPackages):
            names.update(dict.fromkeys(plugin.packages))
    return list(names)


def package_versions(packages: Iterable[str] = ()) -> dict[str, str]:
    """Installed versions of the harness's packages and of `packages`; one not installed is left out."""
    out = {}
    for name in dict.fromkeys([*HARNESS_PACKAGES, *packages]):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def collect(device: str | None = None, packages: Iterable[str] = ()) -> Provenance:
    """This process's provenance; `device` names what the numbers were timed on (default: this CPU),
    `packages` what the run's plugins declare (`declared_packages`)."""
    from harness import __version__
    from harness.timing import device_name

    return Provenance(
        wambench_version=__version__,
        git_revision=git_revision(),
        packages=package_versions(packages),
        host=socket.gethostname(),
        device=device or device_name("cpu"),
        python=platform.python_version(),
        command=" ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        cpu_count=os.cpu_count(),
    )


__all__ = ["HARNESS_PACKAGES", "collect", "declared_packages", "git_revision", "package_versions"]
