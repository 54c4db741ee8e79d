"""The code's layout rules, checked over the source tree.

- Only the store speaks SQL: harness/store.py and its parts (harness/store_*.py, harness/storeio.py).
  Everything else reads and writes the records of harness/records.py through it.
- No module over 400 lines: a module that grows past it holds more than one job.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("harness", "suites", "policies")
MAX_LINES = 400
SQL_CALLS = {"execute", "executemany", "executescript"}
SQL_READERS = {"read_sql", "read_sql_query", "read_sql_table"}  # pandas on a connection


def _is_store_module(path: Path) -> bool:
    rel = path.relative_to(ROOT)
    return rel.parts[0] == "harness" and len(rel.parts) == 2 and rel.name.startswith(("store", "storeio"))


def _sources(packages: tuple[str, ...] = PACKAGES) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def _is_text(node: ast.AST) -> bool:
    """A string literal, f-string, or concatenation of them: what SQL is written as."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    return isinstance(node, ast.BinOp) and (_is_text(node.left) or _is_text(node.right))


def _receiver(node: ast.expr) -> str:
    return ast.unparse(node).lower()


def sql_calls(source: str) -> list[str]:
    """Where `source` talks to SQLite: `x.execute("...")` (a statement as text, or a receiver named
    like a connection or cursor), `sqlite3.connect(...)`, pandas' `read_sql*`. `runner.execute(plan)`
    is no SQL."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name, receiver = node.func.attr, _receiver(node.func.value)
        if name in SQL_CALLS:
            by_text = bool(node.args) and _is_text(node.args[0])
            by_name = any(w in receiver for w in ("conn", "cursor", "cur", "db", "sqlite"))
            if by_text or by_name:
                found.append(f"{node.lineno}: {ast.unparse(node)[:80]}")
        elif (name == "connect" and receiver == "sqlite3") or name in SQL_READERS:
            found.append(f"{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def test_the_checker_finds_sql_and_only_sql() -> None:
    source = """
c.execute("DELETE FROM chunks WHERE policy=?", (p,))
store.conn.executemany(sql, rows)
conn.executescript(SCHEMA)
x = sqlite3.connect(path)
df = pd.read_sql_query(f"SELECT * FROM {t}", store.conn)
result = runner.execute(plan)
executor.execute(item)
"""
    assert [line.split(":")[0] for line in sql_calls(source)] == ["2", "3", "4", "5", "6"]


def test_no_sql_outside_the_store() -> None:
    offenders = {
        str(p.relative_to(ROOT)): calls
        for p in _sources()
        if not _is_store_module(p) and (calls := sql_calls(p.read_text()))
    }
    assert offenders == {}, "SQL belongs in harness/store*.py; use the Store's typed reads and writes"


def test_the_store_modules_are_the_ones_that_speak_sql() -> None:
    store = [p.relative_to(ROOT).as_posix() for p in _sources(("harness",)) if _is_store_module(p)]
    assert {
        "harness/store.py",
        "harness/store_reads.py",
        "harness/store_migrations.py",
        "harness/storeio.py",
    } <= set(store)
    assert all(
        sql_calls(p.read_text())
        for p in _sources(("harness",))
        if _is_store_module(p) and "schema" not in p.name
    )


@pytest.mark.parametrize("package", ["harness", "suites", "policies", "tests"])
def test_no_module_over_400_lines(package: str) -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _sources((package,))
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by job (at most {MAX_LINES} lines a module)"
