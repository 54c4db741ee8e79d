"""Run configuration: YAML validated by pydantic (extra keys rejected with their path).

A config has two halves. The *identity* (policies, suites, tasks, splits, episodes, seed, options)
decides what is evaluated and is hashed: an output directory only ever holds one identity, so a resume
runs exactly the unfinished episodes. The *execution* half (workers, retries, timeout, video, out)
may change between invocations on the same directory.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from harness.errors import UserError
from harness.realtime.config import ExecutionConfig

_STRICT = ConfigDict(extra="forbid", frozen=True)


class PolicyConfig(BaseModel):
    """A registered policy name (or `module:attr`) plus options passed to its factory."""

    model_config = _STRICT
    name: str
    options: dict[str, Any] = Field(default_factory=dict)  # backend, checkpoint, device, ...
    label: str | None = None  # name stored in results; defaults to `name`

    @property
    def id(self) -> str:
        return self.label or self.name


class SuiteConfig(BaseModel):
    model_config = _STRICT
    name: str
    tasks: list[str] | None = None  # None: every task of the suite
    splits: list[str] | None = None  # None: every split of the suite
    episodes: StrictInt | None = Field(default=None, ge=1)  # per (task, split); None: the run's default
    # A named evaluation protocol of the suite (`wambench list protocols`); None: the suite's default.
    protocol: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)  # passed to the suite factory, over the protocol's

    def identity(self) -> dict[str, Any]:
        """As dumped, without an unset `protocol` (configs written before protocols keep their hash)."""
        return self.model_dump(exclude={"protocol"} if self.protocol is None else None)


class RunConfig(BaseModel):
    model_config = _STRICT
    name: str = "run"
    description: str = ""
    policies: list[PolicyConfig]
    suites: list[SuiteConfig]
    # Strict scalars: `episodes: true` or `seed: 1.0` is a mistake to name, not a value to coerce.
    episodes: StrictInt = Field(default=10, ge=1)
    seed: StrictInt = 0
    # how the world and the policy share time (harness/realtime): part of the identity, as it changes
    # outcomes; left at its default it is left out of the hash, so older directories still resume
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    # execution: may differ between invocations on one output directory
    workers: StrictInt | None = Field(default=None, ge=1)  # None: chosen from cores and free memory
    out: StrictStr | None = None  # None: results/<name>
    video: StrictBool = False
    retries: StrictInt = Field(default=1, ge=0)
    episode_timeout_s: float = Field(default=900.0, gt=0, strict=False)  # 900 and 900.0 alike
    warmup_chunks: StrictInt = Field(default=1, ge=0)
    # where workers run: `local` processes, or `ray` actors (pip install '.[ray]'); a directory started
    # with one executor resumes with the other, so neither is part of the identity
    executor: Literal["local", "ray"] = "local"
    ray_address: StrictStr | None = None  # None: this node's cluster if one runs, else a local instance
    # `shared`: the runner starts one policy server per device for the run (batching the workers'
    # sessions) and the workers connect to it; None: each worker holds its own policies. Same outcomes
    # either way (harness/policy_server.py), so not part of the identity.
    policy_server: Literal["shared"] | None = None

    @field_validator("policies", "suites", mode="before")
    @classmethod
    def _name_strings(cls, value: Any) -> Any:
        """A bare string in either list is the entry's name: `- NAME` is `- {name: NAME}`."""
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("policies", "suites")
    @classmethod
    def _not_empty(cls, value: list[Any]) -> list[Any]:
        if not value:
            raise ValueError("must list at least one entry")
        return value

    def identity(self) -> dict[str, Any]:
        """The part of the config that decides what is evaluated (hashed, compared on resume)."""
        identity: dict[str, Any] = {
            "policies": [p.model_dump() for p in self.policies],
            "suites": [s.identity() for s in self.suites],
            "episodes": self.episodes,
            "seed": self.seed,
        }
        if not self.execution.is_default:
            identity["execution"] = self.execution.model_dump()
        return identity

    def config_hash(self) -> str:
        blob = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def out_dir(self) -> Path:
        return Path(self.out) if self.out else Path("results") / self.name


def _format_validation_error(exc: ValidationError, source: str) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling)"
        elif isinstance(err.get("input"), (bool, int, float, str)):
            msg = f"{msg}, got {err['input']!r}"
        parts.append(f"{loc}: {msg}")
    return f"invalid config {source}: " + "; ".join(parts)


def shipped_configs() -> list[str]:
    """Names of the configurations shipped in harness/configs (e.g. 'ci', 'paper/libero')."""
    root = resources.files("harness") / "configs"
    names: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".yaml"):
                names.append(prefix + child.name[: -len(".yaml")])

    walk(root, "")
    return sorted(names)


def read_config_text(ref: str) -> tuple[str, str]:
    """Resolve a config by shipped name ('ci', 'paper/libero') or path; return (text, default name)."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if path.is_dir():
            raise UserError(f"config '{ref}' is a directory; give a .yaml file (or a shipped config name)")
        if not path.is_file():
            raise UserError(f"config file '{ref}' does not exist")
        try:
            return path.read_text(), path.stem
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"config file '{ref}' cannot be read: {exc}") from None
    node = resources.files("harness") / "configs" / f"{ref}.yaml"
    if not node.is_file():
        import difflib

        close = difflib.get_close_matches(ref, shipped_configs(), n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UserError(
            f"unknown config '{ref}'{hint} (shipped: {', '.join(shipped_configs())}; "
            "or give a path to a .yaml file)"
        )
    return node.read_text(), ref.replace("/", "-")


def parse_config(data: Any, source: str = "<dict>", default_name: str = "run") -> RunConfig:
    if not isinstance(data, dict):
        raise UserError(f"invalid config {source}: expected a mapping at the top level")
    data = {"name": default_name, **data}
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise UserError(_format_validation_error(exc, source)) from None


def parse_yaml(text: str, ref: str) -> Any:
    """YAML text of a config; a syntax error is one line, `FILE:LINE:COLUMN: problem`, as editors jump."""
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark, start = exc.problem_mark or exc.context_mark, exc.context_mark
        where = f"{ref}:{mark.line + 1}:{mark.column + 1}" if mark is not None else ref
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            at = f" at {start.line + 1}:{start.column + 1}" if start is not None and start != mark else ""
            what += f" ({exc.context}{at})"
        raise UserError(f"{where}: invalid YAML: {what}") from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[:1] or ["invalid YAML"]
        raise UserError(f"{ref}: invalid YAML: {first[0]}") from None


def read_config(ref: str) -> tuple[Any, str]:
    """A config by shipped name or path, read and parsed once: (its YAML data, its default name)."""
    text, default_name = read_config_text(ref)
    return parse_yaml(text, ref), default_name


def config_from(data: Any, ref: str, default_name: str, overrides: dict[str, Any] | None = None) -> RunConfig:
    """The validated config of `read_config`'s data, with command-line overrides (top-level keys)."""
    if isinstance(data, dict) and overrides:
        data = {**data, **{k: v for k, v in overrides.items() if v is not None}}
    return parse_config(data, f"'{ref}'", default_name)


def load_config(ref: str, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Load a config by name or path and apply command-line overrides (top-level keys)."""
    data, default_name = read_config(ref)
    return config_from(data, ref, default_name, overrides)


def identity_diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    """The fields that differ between two config identities, each as `path: old -> new`.

    Lists of named entries (policies, suites) are matched by label or name, so one changed option
    reads `policies[noisy].options.gain: 0.15 -> 0.2`, not both whole lists; lists of plain values
    (tasks) say what was added and removed.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        diffs: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                was = json.dumps(old[key]) if key in old else "unset"
                now = json.dumps(new[key]) if key in new else "unset"
                diffs.append(f"{path}: {was} -> {now}")
            else:
                diffs += identity_diff(old[key], new[key], path)
        return diffs
    if isinstance(old, list) and isinstance(new, list) and old != new:
        a, b = _entries_by_id(old), _entries_by_id(new)
        if a is not None and b is not None:
            diffs = [f"{prefix}: removed {k!r}" for k in a if k not in b]
            diffs += [f"{prefix}: added {k!r}" for k in b if k not in a]
            for k in a:
                if k in b:
                    diffs += identity_diff(a[k], b[k], f"{prefix}[{k}]")
            if not diffs:
                diffs.append(f"{prefix}: order {list(a)} -> {list(b)}")
            return diffs
        if all(not isinstance(v, (dict, list)) for v in old + new):
            gone = [v for v in old if v not in new]
            added = [v for v in new if v not in old]
            if gone or added:
                return [f"{prefix}: removed {json.dumps(gone)}, added {json.dumps(added)}"]
        if len(old) == len(new):
            return [
                d
                for i, (x, y) in enumerate(zip(old, new, strict=True))
                for d in identity_diff(x, y, f"{prefix}[{i}]")
            ]
    if old != new:
        return [f"{prefix}: {json.dumps(old)} -> {json.dumps(new)}"]
    return []


def _entries_by_id(entries: list[Any]) -> dict[str, Any] | None:
    """{label or name: entry} for a list of named config entries; None when it is not one."""
    out: dict[str, Any] = {}
    for e in entries:
        if not isinstance(e, dict) or not isinstance(e.get("name"), str):
            return None
        out[str(e.get("label") or e["name"])] = e
    return out if len(out) == len(entries) else None


__all__ = [
    "PolicyConfig",
    "RunConfig",
    "SuiteConfig",
    "config_from",
    "identity_diff",
    "load_config",
    "parse_config",
    "parse_yaml",
    "read_config",
    "shipped_configs",
]
