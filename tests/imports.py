"""Every module a source file reaches for, found statically: for tests that hold packages to layers.

Counted, wherever they appear (module level or inside a function): `import a.b`, `from a.b import c`
(relative ones resolved against the file's package), `importlib.import_module("a.b")`,
`__import__("a.b")`, `importlib.util.find_spec("a.b")`, f-strings that build a module name
(`f"a.{name}"`), and any string constant that is itself a module reference: a dotted name, or a
`module:attr` reference as the registries load them (`"a.b:main"`). A string that merely mentions a
module in prose is not a reference.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

IMPORT_CALLS = frozenset({"import_module", "__import__", "find_spec"})
_REF = re.compile(r"^(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?::[A-Za-z_][\w.]*)?$")


@dataclass(frozen=True)
class Reference:
    path: str  # the file, relative to the root it was found from
    line: int
    module: str  # the dotted module name reached for (an f-string's constant prefix, e.g. "suites.")
    how: str  # "import", "from", "call", "string", "f-string"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(package: str, level: int, module: str | None) -> str:
    base = package.split(".")[: len(package.split(".")) - level + 1] if level else []
    return ".".join([*base, module] if module else base)


def _string_ref(value: str) -> str | None:
    """The module of a string that is a module reference: dotted (`a.b`) or `module:attr`."""
    match = _REF.match(value)
    if match is None:
        return None
    if "." not in match["module"] and ":" not in value:
        return None  # a bare word ("policies", "suite") is a name, not a reference
    return match["module"]


def references(root: Path, path: Path) -> Iterator[Reference]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = str(path.relative_to(root))
    name = module_name(root, path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Reference(rel, node.lineno, alias.name, "import")
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(package, node.level, node.module)
            yield Reference(rel, node.lineno, module, "from")
            for alias in node.names:  # `from a import b` may import the module a.b
                yield Reference(rel, node.lineno, f"{module}.{alias.name}", "from")
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in IMPORT_CALLS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    yield Reference(rel, node.lineno, first.value.partition(":")[0], "call")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            module = _string_ref(node.value)
            if module is not None:
                yield Reference(rel, node.lineno, module, "string")
        elif isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                prefix = head.value
                if re.match(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\.$", prefix):
                    yield Reference(rel, node.lineno, prefix, "f-string")


def package_references(root: Path, package: str) -> list[Reference]:
    """Every reference of every .py file under root/package (the package's own path, e.g. harness)."""
    base = root / package.replace(".", "/")
    return [ref for path in sorted(base.rglob("*.py")) for ref in references(root, path)]


def reaches(ref: Reference, packages: tuple[str, ...]) -> bool:
    """Whether `ref` names one of `packages` or anything inside them ("suites." prefixes count)."""
    return any(ref.module == p or ref.module.startswith(f"{p}.") for p in packages)


__all__ = ["Reference", "module_name", "package_references", "reaches", "references"]
