"""One typed, lazy `Registry` for every name -> object table: suites, policies, benchmarks, doctors,
commands (here and in harness.cli), WAM backends, consistency functions, evaluation protocols.

Names come from three places: an entry-point group (e.g. `wambench.policies`, so a researcher's
package plugs in without editing ours), `register()` calls, and `module:attr` strings given directly
in a config or on the command line. A registry that accepts tables (policies) also takes an entry
point that names a mapping: one entry point per package registers all of its names, each value
an object or a lazy `module:attr` string. Nothing else is imported until a name is looked up.

A name has one source. Two sources giving one name is refused, never resolved by order: `register()`
raises at once, and a name two installed packages both claim fails when looked up, naming both.
An unknown name is answered with the closest known ones ("did you mean").
"""

from __future__ import annotations

import difflib
import importlib
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar, cast

from harness.errors import UserError

T = TypeVar("T")


def load_object(ref: str) -> Any:
    """Import `module:attr` (attr may be dotted)."""
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise UserError(f"'{ref}' is not a 'module:attr' reference")
    return _load(ref)


def _load(ref: str) -> Any:
    """`module:attr`, or a bare `module` (entry points may name a module, as `wambench.commands` do)."""
    module_name, _, attr = ref.strip().partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"cannot import module '{module_name}' for '{ref}': {exc}") from exc
    for part in attr.split(".") if attr else ():
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UserError(f"module '{module_name}' has no attribute '{attr}' (from '{ref}')") from None
    return obj


_UNLOADED: Any = object()


@dataclass(frozen=True)
class _Entry:
    """One name's source: a lazy reference, an object, or why the name cannot be used."""

    source: str  # where it was registered, for messages
    ref: str | None = None
    obj: Any = _UNLOADED
    error: str | None = None

    def same_as(self, other: _Entry) -> bool:
        """One registration seen twice (the same reference, or the same object) is not a collision."""
        if self.error or other.error:
            return False
        if self.ref is not None or other.ref is not None:
            return self.ref == other.ref
        return self.obj is other.obj


_ALL: weakref.WeakSet[Registry[Any]] = weakref.WeakSet()  # for harness.testing.installed_entry_points


class Registry(Generic[T]):
    """Names -> objects of one kind. `kind` is how messages name one ("policy", "WAM backend").

    `group`: the entry-point group scanned on first use (None: names come from `register()` only).
    `check`: what a loaded object must satisfy. `see`: where a user finds the names (e.g. "see
    `wambench list policies`"); without it an unknown name's message lists them. `references`:
    whether a `module:attr` string may stand for an unregistered object. `tables`: whether an entry
    point may name a mapping of many names (it is then imported when the names are first listed).
    """

    def __init__(
        self,
        kind: str,
        group: str | None = None,
        check: Callable[[Any], bool] | None = None,
        plural: str | None = None,
        *,
        see: str | None = None,
        references: bool = True,
        tables: bool = False,
    ) -> None:
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self.group = group
        self.see = see
        self.references = references
        self.tables = tables
        self._check = check
        self._code: dict[str, _Entry] = {}  # register() calls; they survive a rescan
        self._entries: dict[str, _Entry] | None = None  # code + entry points, built on first use
        self._by_ref: dict[str, T] = {}  # unregistered `module:attr` lookups already loaded
        _ALL.add(self)

    # ---- building the table ------------------------------------------------------------------
    def _table(self) -> dict[str, _Entry]:
        if self._entries is None:
            entries = dict(self._code)
            for ep in entry_points(group=self.group) if self.group else ():
                self._scan_entry_point(entries, ep.name, ep.value)
            self._entries = entries
        return self._entries

    def _scan_entry_point(self, entries: dict[str, _Entry], name: str, value: str) -> None:
        source = f"entry point {self.group}:{name} = {value}"
        if not self.tables:
            self._add(entries, name, _Entry(source, ref=value))
            return
        try:
            obj = _load(value)
        except Exception as exc:  # a broken plugin must not hide the others: its name says why
            self._add(entries, name, _Entry(source, error=f"{self.kind} '{name}' could not be loaded: {exc}"))
            return
        if not isinstance(obj, Mapping):
            self._add(entries, name, _Entry(source, obj=obj))
            return
        for key, item in obj.items():
            where = f"{source} ['{key}']"
            self._add(
                entries,
                str(key),
                _Entry(where, ref=item) if isinstance(item, str) else _Entry(where, obj=item),
            )

    def _add(self, entries: dict[str, _Entry], name: str, entry: _Entry) -> None:
        old = entries.get(name)
        if old is None or old.same_as(entry):
            entries.setdefault(name, entry)
            return
        sources = f"{old.source}; {entry.source}"
        entries[name] = _Entry(
            sources,
            error=f"{self.kind} '{name}' is registered twice ({sources}); uninstall or rename one of them",
        )

    def register(self, name: str, obj: T | str, *, replace: bool = False) -> None:
        """Add `obj` (or a lazy `module:attr` string) under `name`. A name already taken is refused
        unless `replace` (a test's double standing in for a real entry). Entry points never name a
        `module:attr`-shaped name: a name with a colon is a reference unless registered here."""
        entry = _Entry("register()", ref=obj) if isinstance(obj, str) else _Entry("register()", obj=obj)
        taken = self._entries if self._entries is not None else self._code
        if name in taken and not replace and not taken[name].same_as(entry):
            raise UserError(
                f"{self.kind} '{name}' is already registered ({taken[name].source}); choose another name"
            )
        self._code[name] = entry
        if self._entries is not None:
            self._entries[name] = entry

    def unregister(self, name: str) -> None:
        self._code.pop(name, None)
        if self._entries is not None:
            self._entries.pop(name, None)

    # ---- looking names up --------------------------------------------------------------------
    def names(self) -> list[str]:
        return sorted(self._table())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._table() or (self.references and ":" in name))

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def source(self, name: str) -> str:
        """Where `name` was registered (an entry point, or register())."""
        entry = self._table().get(name)
        return entry.source if entry else ""

    def reference(self, name: str) -> str | None:
        """The `module:attr` a registered name stands for (None: registered as an object)."""
        entry = self._table().get(name)
        return entry.ref if entry else None

    def get(self, name: str) -> T:
        """Load a registered name or a `module:attr` string; unknown names suggest the closest."""
        if self.references and ":" in name and name not in self._code:
            # A reference: no entry point names one, so none is imported (a worker running a
            # `module:attr` policy does not load every installed package's table).
            if name not in self._by_ref:
                self._by_ref[name] = self._checked(name, load_object(name))
            return self._by_ref[name]
        entries = self._table()
        entry = entries.get(name)
        if entry is None:
            raise self.unknown(name)
        if entry.error:
            raise UserError(entry.error)
        if entry.obj is not _UNLOADED:
            return cast(T, entry.obj)
        assert entry.ref is not None
        obj = self._checked(name, _load(entry.ref))
        entries[name] = _Entry(entry.source, ref=entry.ref, obj=obj)
        return obj

    def _checked(self, name: str, obj: Any) -> T:
        if self._check is not None and not self._check(obj):
            raise UserError(f"{self.kind} '{name}' resolved to {obj!r}, which is not a {self.kind}")
        return cast(T, obj)

    def unknown(self, name: str) -> UserError:
        """The error for a name nobody registered, with the closest known names."""
        known = self.names()
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        where = self.see or f"have: {', '.join(known) or 'none'}"
        ref = ", or give a 'module:attr' reference" if self.references else ""
        return UserError(f"unknown {self.kind} '{name}'{hint} ({where}{ref})")


def _is_policy_factory(obj: Any) -> bool:
    return hasattr(obj, "spec") and callable(getattr(obj, "build", None))


def _is_doctor(obj: Any) -> bool:
    from harness.types import Doctor

    return isinstance(obj, Doctor)


suites: Registry[Any] = Registry("suite", "wambench.suites", check=callable, see="see `wambench list suites`")
policies: Registry[Any] = Registry(
    "policy",
    "wambench.policies",
    check=_is_policy_factory,
    plural="policies",
    see="see `wambench list policies`",
    tables=True,
)
# `wambench bench NAME`: a function taking the remaining command-line arguments, returning an exit code.
benchmarks: Registry[Callable[[list[str]], int | None]] = Registry(
    "benchmark", "wambench.benchmarks", check=callable, references=False
)
# `wambench doctor NAME`: a suite package's readiness checks (harness.types.Doctor).
doctors: Registry[Any] = Registry("doctor", "wambench.doctors", check=_is_doctor, references=False)

__all__ = ["Registry", "benchmarks", "doctors", "load_object", "policies", "suites"]
