"""`run(config)`: plan a run, then execute it. `wambench run` is this function plus its printing, so a
script (or a plugin's own command) that calls it runs exactly what the command line would.

Planning does every check that can fail on bad input before anything is written (harness/runner.py);
a config may be a RunConfig, a shipped config name or YAML path (with top-level `overrides`, as the
command line's flags give them), or a mapping in the YAML's shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from harness.config import RunConfig, load_config, parse_config

if TYPE_CHECKING:  # the runner imports executors and the store: only when a run starts
    from harness.executors import Executor
    from harness.progress import RunProgress
    from harness.runner import Plan, RunResult


def as_config(
    config: RunConfig | str | Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> RunConfig:
    """A RunConfig from any of the forms `run` takes; `overrides` replace top-level keys."""
    if isinstance(config, str):
        return load_config(config, dict(overrides or {}))
    if isinstance(config, RunConfig):
        if not overrides:
            return config
        config = config.model_dump(exclude_unset=True)  # only what was given: defaults stay defaults
    return parse_config({**dict(config), **{k: v for k, v in (overrides or {}).items() if v is not None}})


def run(
    config: RunConfig | str | Mapping[str, Any],
    *,
    overrides: Mapping[str, Any] | None = None,
    shard: tuple[int, int] | None = None,
    executor: Executor | None = None,
    progress: RunProgress | None = None,
    on_plan: Callable[[Plan], None] | None = None,
) -> RunResult:
    """Evaluate (or resume, in the same output directory) and return what this invocation did.

    `shard` (i, n) runs every n-th episode from i; `on_plan` sees the validated plan before the first
    episode (what `wambench run` prints). Raises UserError on bad input, before any write.
    """
    from harness import runner

    plan = runner.plan(as_config(config, overrides), shard)
    try:
        if on_plan is not None:
            on_plan(plan)
    except BaseException:
        if plan.lock is not None:
            plan.lock.release()
        raise
    return runner.execute(plan, executor, progress)


__all__ = ["as_config", "run"]
