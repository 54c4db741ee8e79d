"""A run's provenance records the harness's own packages and those its suites and policies declare
(harness.types.DeclaresPackages), never a plugin's packages the harness would name itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import provenance, runner
from harness.config import parse_config
from harness.store import Store
from harness.testing import ConstantFactory, FakeSuite


class DeclaringSuiteFactory:
    """FakeSuite's factory, declaring an installed package (pytest) and one that is not installed."""

    packages = ("pytest", "no-such-distribution-wambench")

    def __call__(self, **options: Any) -> FakeSuite:
        return FakeSuite(**options)


declaring_suite = DeclaringSuiteFactory()


class DeclaringPolicyFactory(ConstantFactory):
    packages = ("pluggy", "pytest")


declaring_policy = DeclaringPolicyFactory()


def test_declared_packages_are_collected_once_each_in_order() -> None:
    plugins = [declaring_suite, object(), declaring_policy]
    assert provenance.declared_packages(plugins) == ["pytest", "no-such-distribution-wambench", "pluggy"]


def test_versions_of_the_harness_and_of_what_is_declared_and_installed() -> None:
    versions = provenance.package_versions(["pytest", "no-such-distribution-wambench"])
    assert {"numpy", "pytest"} <= set(versions) and "no-such-distribution-wambench" not in versions
    assert set(provenance.package_versions()) <= set(provenance.HARNESS_PACKAGES)


def test_a_run_records_what_its_suite_and_policy_declare(tmp_path: Path) -> None:
    config = parse_config(
        {
            "policies": ["tests.harness.test_provenance:declaring_policy"],
            "suites": [{"name": "tests.harness.test_provenance:declaring_suite", "options": {"steps": 4}}],
            "episodes": 1,
            "out": str(tmp_path / "run"),
            "workers": 1,
        }
    )
    runner.run(config)
    with Store.open(tmp_path / "run") as store:
        (run,) = store.runs("rollout")
    recorded = set(run.provenance.packages)
    assert {"numpy", "pytest", "pluggy"} <= recorded
    assert recorded <= {*provenance.HARNESS_PACKAGES, "pytest", "pluggy"}  # nothing else, LIBERO's included
