"""The entry points this checkout's pyproject.toml declares, as the registries would see them installed.

Tests run against the checkout's code (pytest's pythonpath); with `declared_entry_points()` they also
run against its declarations, whatever an editable install last recorded in the environment's metadata.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.testing import installed_entry_points

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
_SECTION = re.compile(r'^\[project\.entry-points\."(wambench\.[^"]+)"\]\s*$')
_ENTRY = re.compile(r'^([A-Za-z0-9_.-]+)\s*=\s*"([^"]+)"\s*(#.*)?$')


def declared() -> dict[str, dict[str, str]]:
    """{group: {name: value}} for every `wambench.*` entry-point group of pyproject.toml (read with a
    pattern, not a TOML parser: Python 3.10 has none, and these sections are one `name = "value"` a line)."""
    groups: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in PYPROJECT.read_text().splitlines():
        if line.startswith("["):
            section = _SECTION.match(line)
            current = groups.setdefault(section.group(1), {}) if section else None
        elif current is not None and (entry := _ENTRY.match(line.strip())):
            current[entry.group(1)] = entry.group(2)
    return groups


@contextmanager
def declared_entry_points() -> Iterator[None]:
    with installed_entry_points(declared()):
        yield
