"""`wambench latency`: validate everything, measure, summarise, print, store.

Everything that can be wrong with the request (unknown policy or suite, a device this machine lacks,
too few warm iterations to report, a grid the cost model cannot fit) is refused before the first
policy is built; the warm-iteration minimum is checked again on what was actually measured.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import registry
from harness.errors import UserError
from harness.latency.measure import DTYPES, Setting, check_device, default_dtype, measure_all
from harness.latency.observations import recorded_observations, synthetic_observations
from harness.latency.record import record
from harness.latency.reference import DEFAULT_BUDGET_MS, teacher_steps
from harness.latency.runner import RunResult
from harness.latency.stats import CV_WARN, MIN_WARM_ITERS, ConfigStats, config_stats
from harness.latency.suite import ResolvedSuite, resolve_suite
from harness.latency.summary import Summary, header, print_summary, store_config, write_csv
from harness.latency.sweep import SweepAnalysis, analyze, default_grid, parse_grid
from harness.provenance import declared_packages
from harness.timing import device_name
from harness.types import Observation, PolicySpec


@dataclass
class LatencyRequest:
    policies: Sequence[str]
    suite: str  # whose observation shapes and suite-dependent defaults the policies are timed with
    device: str = "cpu"
    dtype: str | None = None
    warmup: int = 3
    iters: int = 20
    interleave: bool = False
    out: str | None = None
    sweep: bool = False
    grid: str | None = None
    teacher: str | None = None
    budget_ms: float = DEFAULT_BUDGET_MS
    budget_stat: str = "p90"
    weighting: str = "relative"
    stat: str = "mean"
    min_warm: int = MIN_WARM_ITERS
    cv_warn: float = CV_WARN
    chunks_per_episode: int = 0
    obs: str | None = None
    seed: int = 0
    threads: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    csv: str | None = None


@dataclass
class LatencyOutcome:
    results: list[RunResult]
    stats: list[ConfigStats]
    analysis: SweepAnalysis | None
    device_name: str
    warnings: list[str]
    store: Path | None = None


def _validate(req: LatencyRequest) -> tuple[list[Any], str, tuple[int, int] | None, list[tuple[int, int]]]:
    if not req.policies:
        raise UserError("give a policy: --policy NAME (see `wambench list policies`)")
    if not req.suite:
        raise UserError(
            "give a suite to time the policies on (its observation shapes; its simulator is not needed): "
            f"--suite NAME, one of {', '.join(registry.suites.names())}"
        )
    if req.min_warm < 2:
        raise UserError("the minimum number of warm iterations cannot be below 2")
    if req.iters < req.min_warm:
        raise UserError(
            f"--iters {req.iters} is below the minimum of {req.min_warm} warm chunks needed to report "
            f"latency; use --iters {req.min_warm} or more"
        )
    if req.warmup < 1:
        raise UserError("--warmup must be at least 1: the first (cold) chunk is never a warm sample")
    if req.budget_ms <= 0:
        raise UserError(f"--budget-ms must be positive, got {req.budget_ms}")
    if req.stat not in ("mean", "p50"):
        raise UserError(f"--stat '{req.stat}' must be mean or p50")
    if req.budget_stat not in ("mean", "p50", "p90", "p99"):
        raise UserError(f"--budget-stat '{req.budget_stat}' must be one of mean, p50, p90, p99")
    dtype = req.dtype or default_dtype(req.device)
    if dtype not in DTYPES:
        raise UserError(f"--dtype '{dtype}' must be one of {', '.join(DTYPES)}")
    check_device(req.device)
    factories = [registry.policies.get(p) for p in req.policies]
    teacher = parse_grid(req.teacher)[0] if req.teacher else teacher_steps(req.suite)
    grid: list[tuple[int, int]] = []
    if req.sweep:
        if len(req.policies) != 1:
            raise UserError("--sweep times one policy at many NFE; give exactly one --policy")
        if teacher is None:
            raise UserError(f"no teacher configuration known for suite '{req.suite}'; give --teacher VxA")
        grid = parse_grid(req.grid) if req.grid else default_grid(teacher)
        if len(grid) < 3:
            raise UserError("--grid needs at least 3 configurations for the cost model")
    elif req.grid:
        raise UserError("--grid only applies with --sweep")
    return factories, dtype, teacher, grid


def run_latency(req: LatencyRequest, echo: Callable[[str], None] = print) -> LatencyOutcome:
    """Validate, measure, summarise, print (through `echo`), store."""
    factories, dtype, teacher, grid = _validate(req)
    resolved = resolve_suite(req.suite)
    observations = _observations(req, resolved)
    if req.threads:
        import torch

        torch.set_num_threads(req.threads)
    dev_name = device_name(req.device)
    settings = (
        [Setting(req.policies[0], v, a, req.options) for v, a in grid]
        if req.sweep
        else [Setting(p, None, None, req.options) for p in req.policies]
    )
    results = measure_all(
        settings,
        resolved.suite,
        observations,
        device=req.device,
        dtype=dtype,
        warmup=req.warmup,
        iters=req.iters,
        chunks_per_episode=req.chunks_per_episode,
        seed=req.seed,
        interleave=req.interleave,
        progress=_progress(len(settings)),
    )
    stats = [config_stats(r, min_warm=req.min_warm, cv_warn=req.cv_warn) for r in results]
    warnings = [resolved.note] if resolved.note else []
    warnings += [w for st in stats for w in st.warnings] + _noise_hints(req, stats, len(settings))
    echo(header(req, resolved, dtype, dev_name))
    analysis = _analyze(req, teacher, results, stats) if req.sweep else None
    summary = Summary(resolved, dtype, dev_name, teacher, grid, results, stats, analysis, warnings)
    print_summary(req, summary, echo)
    store_path = _store(req, summary, factories, echo) if req.out else None
    if req.csv:
        write_csv(req.csv, results, stats, analysis, dev_name)
        echo(f"wrote {req.csv}")
    return LatencyOutcome(results, stats, analysis, dev_name, warnings, store_path)


def _analyze(
    req: LatencyRequest,
    teacher: tuple[int, int] | None,
    results: list[RunResult],
    stats: list[ConfigStats],
) -> SweepAnalysis:
    assert teacher is not None  # _validate refused a sweep without one
    return analyze(
        list(zip(results, stats, strict=True)),
        suite=req.suite,
        teacher=teacher,
        budget_ms=req.budget_ms,
        budget_stat=req.budget_stat,
        weighting=req.weighting,
        stat=req.stat,
    )


def _store(req: LatencyRequest, s: Summary, factories: list[Any], echo: Callable[[str], None]) -> Path:
    assert req.out is not None
    specs: dict[str, PolicySpec] = {f.spec.name: f.spec for f in factories}
    store_path, run_id = record(
        req.out,
        s.results,
        suite=req.suite,
        device_name=s.device_name,
        config=store_config(req, s),
        specs=specs,
        packages=declared_packages([registry.suites.get(req.suite), *factories]),
    )
    echo(f"\nstored {sum(len(r.samples) for r in s.results)} chunks (run {run_id}) in {store_path}")
    return store_path


def _observations(req: LatencyRequest, resolved: ResolvedSuite) -> list[Observation]:
    n_obs = req.warmup + req.iters
    if req.obs:
        return recorded_observations(req.obs, resolved.geometry, n_obs)
    return synthetic_observations(resolved.geometry, n_obs, req.seed)


def _progress(n_settings: int) -> Callable[[RunResult], None]:
    """One stderr line per configuration as it finishes."""
    done = [0]

    def progress(res: RunResult) -> None:
        done[0] += 1
        warm = [x.total for x in res.warm]
        mean = sum(warm) / len(warm) if warm else float("nan")
        print(
            f"[{done[0]}/{n_settings}] {res.policy} {res.label}: warm mean {mean:.1f} ms, "
            f"cold {res.cold.total:.1f} ms",
            file=sys.stderr,
        )

    return progress


def _noise_hints(req: LatencyRequest, stats: Sequence[ConfigStats], n_settings: int) -> list[str]:
    """When a configuration's chunk times vary too much: the flags that make a comparison robust."""
    if not any(st.total.cv > req.cv_warn for st in stats):
        return []
    hints = [] if req.interleave or n_settings < 2 else ["--interleave (round-robin over configurations)"]
    if req.sweep and req.stat != "p50":
        hints.append("--stat p50 (fit medians)")
    if not hints:
        return []
    return [f"on a shared machine, {' and '.join(hints)} make the comparison robust to slow spells"]


__all__ = ["LatencyOutcome", "LatencyRequest", "run_latency", "write_csv"]
