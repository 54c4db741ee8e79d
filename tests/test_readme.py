"""The README's plugin example runs as written, and imports only the public faces."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
PUBLIC = {"harness", "harness.testing", "policies.wam"}


def _blocks() -> dict[str, str]:
    """The README's python blocks that start with a `# path` comment, by that path."""
    blocks = re.findall(r"```python\n# (\S+\.py)[^\n]*\n(.*?)```", README.read_text(), flags=re.S)
    return {path: code for path, code in blocks}


def test_the_plugin_example_imports_only_public_faces() -> None:
    blocks = _blocks()
    assert {"mypkg/methods.py", "mypkg/tests/test_methods.py"} <= set(blocks)
    for path, code in blocks.items():
        imported = set(re.findall(r"^from (\S+) import", code, flags=re.M))
        imported |= set(re.findall(r"^import (\S+)", code, flags=re.M))
        assert imported <= PUBLIC, f"{path} imports {imported - PUBLIC}"


def test_the_plugin_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = _blocks()
    for path in ("mypkg/methods.py", "mypkg/tests/test_methods.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(blocks[path])
    (tmp_path / "mypkg/__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        methods = importlib.import_module("mypkg.methods")
        assert set(methods.POLICIES) == {"my-method-1v1a"}
        test_module = importlib.import_module("mypkg.tests.test_methods")
        test_module.test_my_method_acts_on_the_suites_geometry()
    finally:
        for name in [m for m in sys.modules if m == "mypkg" or m.startswith("mypkg.")]:
            del sys.modules[name]
