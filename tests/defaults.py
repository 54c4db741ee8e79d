"""The string constants a source file gives as defaults, found statically: for tests that keep a
package from defaulting to names it should not know.

Counted: a parameter's default (functions and lambdas), a class attribute's value (a dataclass or
pydantic field, a plain class constant), a `default=` keyword (argparse, pydantic's Field,
dataclasses' field), the fallback of `.get(key, x)`, `.pop(key, x)`, `.setdefault(key, x)`,
`os.getenv(name, x)` and `getattr(obj, name, x)`, and the last operand of `a or x`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_FALLBACK_CALLS = frozenset({"get", "pop", "setdefault", "getenv"})


@dataclass(frozen=True)
class StringDefault:
    path: str  # the file, relative to the root it was found from
    line: int
    value: str
    how: str  # "parameter", "class attribute", "default=", "get()" (etc.), "getattr()", "or"


def _candidates(tree: ast.AST) -> Iterator[tuple[ast.expr, str]]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for d in [*node.args.defaults, *node.args.kw_defaults]:
                if d is not None:
                    yield d, "parameter"
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                    yield stmt.value, "class attribute"
        elif isinstance(node, ast.Call):
            yield from ((kw.value, "default=") for kw in node.keywords if kw.arg == "default")
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in _FALLBACK_CALLS and len(node.args) >= 2:
                yield node.args[1], f"{name}()"
            elif name == "getattr" and len(node.args) == 3:
                yield node.args[2], "getattr()"
        elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            yield node.values[-1], "or"


def string_defaults(root: Path, path: Path) -> Iterator[StringDefault]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = str(path.relative_to(root))
    for expr, how in _candidates(tree):
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            yield StringDefault(rel, expr.lineno, expr.value, how)


def package_string_defaults(root: Path, package: str) -> Iterator[StringDefault]:
    for path in sorted((root / package).rglob("*.py")):
        yield from string_defaults(root, path)
