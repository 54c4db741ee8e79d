"""policies/wam is the layer the backends and the serving code build on: it reaches none of them.

The WAM factory (policies/factory.py) dispatches to the backends, which build on policies/wam, and
batched serving (policies/serving/) runs WamPolicies; with any of them imported from policies/wam the
packages would import each other. Checked statically (tests/imports.py), lazy imports included.
"""

from __future__ import annotations

from pathlib import Path

from tests.imports import package_references, reaches

ROOT = Path(__file__).resolve().parents[2]
ABOVE_WAM = ("policies.backends", "policies.serving", "policies.factory")


def test_policies_wam_reaches_nothing_built_on_it() -> None:
    bad = [r for r in package_references(ROOT, "policies.wam") if reaches(r, ABOVE_WAM)]
    assert not bad, "\n".join(f"{r.path}:{r.line}: {r.how} {r.module}" for r in bad)


def test_backends_reach_neither_the_factory_nor_serving_of_wam_policies() -> None:
    bad = [r for r in package_references(ROOT, "policies.backends") if reaches(r, ("policies.factory",))]
    assert not bad, "\n".join(f"{r.path}:{r.line}: {r.how} {r.module}" for r in bad)
