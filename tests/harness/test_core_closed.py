"""The core is closed: nothing under harness/ imports or names the plugins (suites/, policies/).

Every module of the harness is parsed (tests/imports.py): imports anywhere in a file, importlib calls,
f-strings building a module name and `module:attr` strings count, so a lazy import or a registry
default naming a plugin fails here as a plain import would. Plugins reach the harness through entry
points (wambench.suites, .policies, .commands, .benchmarks, .doctors, .figures).

Nor does the harness default to what a plugin registers: no parameter, field, `default=` or fallback
under harness/ is a name the entry points declare (a suite, a policy of a table, a command, ...), so a
user always says which plugin a run or a measurement uses (tests/defaults.py). Names inside a plugin's
own registries (a WAM backend) are the plugin's business and are not listed here.
"""

from __future__ import annotations

from pathlib import Path

from harness import registry
from tests.declared import declared, declared_entry_points
from tests.defaults import package_string_defaults, string_defaults
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


def _registered_names() -> set[str]:
    """Every name the checkout's entry points register, a policy table's names included."""
    groups = declared()
    names = {name for entries in groups.values() for name in entries}
    with declared_entry_points():
        names |= set(registry.policies.names())
    return names


def test_harness_defaults_to_no_registered_plugin_name() -> None:
    names = _registered_names()
    assert {"robotwin2", "libero_spatial", "teacher-25v50a", "demos"} <= names  # the list is not empty
    bad = [d for d in package_string_defaults(ROOT, "harness") if d.value in names]
    assert not bad, "harness defaults to a plugin's registered name:\n" + "\n".join(
        f"  {d.path}:{d.line}: {d.how} {d.value!r}" for d in bad
    )


def test_every_form_of_a_string_default_is_caught(tmp_path: Path) -> None:
    """Each way a default can be written is found, or the check above could not fail."""
    src = tmp_path / "mod.py"
    src.write_text(
        "import os\n"
        "def f(suite='a', *, policy='b'):\n"
        "    g = lambda name='c': name\n"
        "    return opts.get('suite', 'd'), opts.pop('x', 'e'), opts.setdefault('y', 'f'), "
        "os.getenv('S', 'g'), getattr(o, 'n', 'h'), value or 'i'\n"
        "class Request:\n"
        "    suite: str = 'j'\n"
        "    NAME = 'k'\n"
        "parser.add_argument('--suite', default='l', help='m')\n"
        "TEXT = 'n'\n"
        "call('o', key='p')\n"
    )
    found = {(d.value, d.how) for d in string_defaults(tmp_path, src)}
    assert found == {
        ("a", "parameter"),
        ("b", "parameter"),
        ("c", "parameter"),
        ("d", "get()"),
        ("e", "pop()"),
        ("f", "setdefault()"),
        ("g", "getenv()"),
        ("h", "getattr()"),
        ("i", "or"),
        ("j", "class attribute"),
        ("k", "class attribute"),
        ("l", "default="),
    }
