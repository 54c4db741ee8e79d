"""The core is closed: nothing under harness/ imports or names the plugins (suites/, policies/).

Every module of the harness is parsed (tests/imports.py): imports anywhere in a file, importlib calls,
f-strings building a module name and `module:attr` strings count, so a lazy import or a registry
default naming a plugin fails here as a plain import would. Plugins reach the harness through entry
points (wambench.suites, .policies, .commands, .benchmarks, .doctors, .figures).
"""

from __future__ import annotations

from pathlib import Path

from tests.imports import Reference, package_references, reaches, references

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ("suites", "policies")


def _offenders() -> list[Reference]:
    return [ref for ref in package_references(ROOT, "harness") if reaches(ref, PLUGINS)]


def test_harness_imports_and_names_no_plugin() -> None:
    found = _offenders()
    bad = found
    assert not bad, "harness reaches into plugins:\n" + "\n".join(
        f"  {r.path}:{r.line}: {r.how} {r.module}" for r in bad
    )


def test_every_form_of_reaching_a_module_is_caught(tmp_path: Path) -> None:
    """The walker finds each way a module can be reached, or the check above could not fail."""
    pkg = tmp_path / "harness" / "sub"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text(
        "import policies.wam\n"
        "from suites.libero import env\n"
        "from .. import sibling\n"
        "def lazy():\n"
        "    from policies.wam.profiles import profile_for\n"
        "    import importlib\n"
        "    importlib.import_module('suites.robotwin')\n"
        "    __import__('policies')\n"
        "    name = 'x'\n"
        "    return f'suites.{name}', 'policies.serving.bench:main', 'policies.backends'\n"
        "TEXT = 'the policies and suites of a run; see policies/wam/README.md'\n"
        "KEY = 'policies'\n"
    )
    refs = list(references(tmp_path, pkg / "mod.py"))
    caught = {(r.how, r.module) for r in refs if reaches(r, PLUGINS)}
    assert caught == {
        ("import", "policies.wam"),
        ("from", "suites.libero"),
        ("from", "suites.libero.env"),
        ("from", "policies.wam.profiles"),
        ("from", "policies.wam.profiles.profile_for"),
        ("call", "suites.robotwin"),
        ("string", "suites.robotwin"),
        ("call", "policies"),
        ("f-string", "suites."),
        ("string", "policies.serving.bench"),
        ("string", "policies.backends"),
    }
    assert ("from", "harness.sibling") in {(r.how, r.module) for r in refs}  # relative, resolved
