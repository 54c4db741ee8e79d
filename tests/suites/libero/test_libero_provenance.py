"""A LIBERO run records the versions of its simulator stack, as it did when the harness named them:
the suite factories declare them now (harness.types.DeclaresPackages)."""

from __future__ import annotations

from pathlib import Path

from harness import provenance, registry
from harness.latency.app import LatencyRequest, run_latency
from harness.store import Store
from tests.harness.latency.doubles import double_factory

LIBERO_STACK = ["mujoco", "robosuite", "hf-libero", "bddl"]


def test_every_libero_suite_declares_its_simulator_stack() -> None:
    for name in ("libero_spatial", "libero_object", "libero_goal", "libero_10", "libero_long"):
        assert provenance.declared_packages([registry.suites.get(name)]) == LIBERO_STACK, name


def test_a_libero_latency_run_records_the_stack_that_is_installed(tmp_path: Path) -> None:
    registry.policies.register("provenance-double", double_factory("provenance-double", (1, 1)))
    try:
        req = LatencyRequest(
            ["provenance-double"], "libero_spatial", warmup=1, iters=2, min_warm=2, out=str(tmp_path)
        )
        run_latency(req, lambda _: None)
    finally:
        registry.policies.unregister("provenance-double")
    with Store.open(tmp_path) as store:
        (run,) = store.runs("latency")
    installed = set(provenance.package_versions(LIBERO_STACK))
    assert set(run.provenance.packages) == installed >= set(provenance.package_versions())
