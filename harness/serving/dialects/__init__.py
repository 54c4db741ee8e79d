"""The client side of each protocol a `remote` policy speaks, one module per dialect.

`protocol` (a remote option) picks one: `wambench` (`wambench serve`), `lingbot` (LingBot-VA's and
Flash-WAM's servers), `openpi` (openpi's `serve_policy.py`). The server side of all three is
harness/serving/session.py.
"""

from __future__ import annotations

from harness.serving.dialects.base import Dialect, Link
from harness.serving.dialects.lingbot import LingbotDialect
from harness.serving.dialects.openpi import OpenpiDialect
from harness.serving.dialects.wambench import WambenchDialect

DIALECTS: dict[str, type[Dialect]] = {
    "wambench": WambenchDialect,
    "lingbot": LingbotDialect,
    "openpi": OpenpiDialect,
}

__all__ = ["DIALECTS", "Dialect", "LingbotDialect", "Link", "OpenpiDialect", "WambenchDialect"]
