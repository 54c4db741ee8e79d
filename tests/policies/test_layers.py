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


# The one reference allowed: the package face re-exports WamPolicyFactory lazily (PEP 562), on first
# attribute access, so that a method author imports one module and importing policies.wam loads no backend.
FACE = (Path("policies/wam/__init__.py"), "policies.factory")


def test_policies_wam_reaches_nothing_built_on_it() -> None:
    refs = [r for r in package_references(ROOT, "policies.wam") if reaches(r, ABOVE_WAM)]
    bad = [r for r in refs if not (Path(r.path) == FACE[0] and reaches(r, (FACE[1],)))]
    assert not bad, "\n".join(f"{r.path}:{r.line}: {r.how} {r.module}" for r in bad)


def test_importing_the_wam_face_loads_no_backend() -> None:
    import subprocess
    import sys

    code = (
        "import sys, policies.wam as w; assert 'policies.factory' not in sys.modules; "
        "assert not [m for m in sys.modules if m.startswith('policies.backends')]; "
        "from policies.wam import WamPolicyFactory; import policies.factory as f; "
        "assert WamPolicyFactory is f.WamPolicyFactory"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_backends_reach_neither_the_factory_nor_serving_of_wam_policies() -> None:
    bad = [r for r in package_references(ROOT, "policies.backends") if reaches(r, ("policies.factory",))]
    assert not bad, "\n".join(f"{r.path}:{r.line}: {r.how} {r.module}" for r in bad)
