"""The one Registry: entry points (tables included), collisions refused, "did you mean"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness import registry
from harness.errors import UserError
from harness.registry import Registry, load_object
from harness.testing import installed_entry_points
from harness.types import Doctor, PolicyFactory
from tests.declared import declared_entry_points

# Every name a config, a store or a user's script may use; the table entry points must keep them all.
OLD_POLICY_NAMES = (
    "teacher-25v50a",
    "teacher-20v50a",
    "teacher-1v2a",
    "teacher-1v1a",
    *(f"{m}-1v{a}a" for m in ("naive-joint-lcm", "video-only-lcm", "video-only-lcm-reg") for a in (2, 1)),
    *(f"{m}-1v{a}a" for m in ("dmd2-reg", "joint-dmd2", "flash-wam") for a in (2, 1)),
    "libero-expert",
    "libero-replay",
)


@pytest.fixture(autouse=True)
def _declared() -> Iterator[None]:
    """The registries read this checkout's pyproject.toml entry points, whatever is installed."""
    with declared_entry_points():
        yield


def test_every_registered_policy_name_still_resolves() -> None:
    assert set(registry.policies.names()) == set(OLD_POLICY_NAMES)
    for name in OLD_POLICY_NAMES:
        factory = registry.policies.get(name)
        assert isinstance(factory, PolicyFactory) and factory.spec.name == name


def test_entry_points_list_the_paper_methods_and_suites() -> None:
    names = registry.policies.names()
    for name in ("teacher-25v50a", "teacher-20v50a", "flash-wam-1v1a", "naive-joint-lcm-1v2a"):
        assert name in names
    assert {"libero_spatial", "libero_object", "libero_goal", "libero_10", "robotwin2"} <= set(
        registry.suites.names()
    )


def test_benchmarks_and_doctors_come_from_entry_points() -> None:
    assert registry.benchmarks.names() == ["libero", "overhead", "sampler", "serving"]
    assert registry.doctors.names() == ["libero", "robotwin"]
    assert isinstance(registry.doctors.get("robotwin"), Doctor)
    with installed_entry_points({"wambench.benchmarks": {"mine": "tests.harness.test_registry:_bench"}}):
        assert registry.benchmarks.names() == ["mine"]
        assert registry.benchmarks.get("mine") is _bench
    assert "mine" not in registry.benchmarks.names()  # the installed ones are back


def _bench(argv: list[str]) -> int:
    return 0


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UserError, match="did you mean 'flash-wam-1v1a'"):
        registry.policies.get("flash-wam-1v1")


def test_unknown_name_without_close_match_says_how_to_list() -> None:
    with pytest.raises(UserError, match="wambench list suites"):
        registry.suites.get("zzzzzz")


def test_module_attr_reference_loads_without_registration() -> None:
    factory = registry.policies.get("tests.harness.toy:greedy")
    assert factory.spec.name == "toy-greedy"


def test_loading_is_lazy_and_register_refuses_a_taken_name() -> None:
    reg: Registry[object] = Registry("thing", "wambench.no-such-group")
    reg.register("lazy", "tests.harness.toy:no_such_attribute")  # not imported yet: no error
    assert "lazy" in reg.names()
    with pytest.raises(UserError, match="has no attribute 'no_such_attribute'"):
        reg.get("lazy")
    with pytest.raises(UserError, match=r"thing 'lazy' is already registered \(register\(\)\)"):
        reg.register("lazy", 42)
    reg.register("lazy", "tests.harness.toy:no_such_attribute")  # the same registration again is no clash
    reg.register("lazy", 42, replace=True)  # a test's double, said so
    assert reg.get("lazy") == 42
    reg.unregister("lazy")
    assert reg.names() == []


def test_two_packages_claiming_one_name_are_refused_naming_both() -> None:
    reg: Registry[object] = Registry("policy", "wambench.test-clash", tables=True)
    eps = {"a": "tests.harness.test_registry:TABLE_A", "b": "tests.harness.test_registry:TABLE_B"}
    with installed_entry_points({"wambench.test-clash": eps}):
        assert reg.names() == ["only-a", "only-b", "shared"]
        assert reg.get("only-a") == 1 and reg.get("only-b") == 2  # the rest still resolve
        with pytest.raises(UserError, match="policy 'shared' is registered twice") as exc:
            reg.get("shared")
        assert "wambench.test-clash:a" in str(exc.value) and "wambench.test-clash:b" in str(exc.value)
        with pytest.raises(UserError, match="did you mean 'only-a'"):
            reg.get("only-aa")


def test_an_entry_point_claiming_a_registered_name_is_refused() -> None:
    reg: Registry[object] = Registry("command", "wambench.test-clash")
    reg.register("run", "tests.harness.toy:greedy")
    with installed_entry_points({"wambench.test-clash": {"run": "tests.harness.toy:noisy"}}):
        with pytest.raises(UserError, match=r"command 'run' is registered twice \(register\(\); entry"):
            reg.get("run")
        with pytest.raises(UserError, match="already registered"):
            reg.register("run", "tests.harness.toy:catch")  # after the scan: at once


def test_a_table_entry_point_that_cannot_load_hides_nothing_else() -> None:
    reg: Registry[object] = Registry("policy", "wambench.test-clash", tables=True)
    eps = {"a": "tests.harness.test_registry:TABLE_A", "gone": "no_such_module:TABLE"}
    with installed_entry_points({"wambench.test-clash": eps}):
        assert reg.names() == ["gone", "only-a", "shared"]
        with pytest.raises(UserError, match="policy 'gone' could not be loaded: cannot import module"):
            reg.get("gone")
        assert reg.get("shared") == 1


def test_a_table_may_hold_lazy_references() -> None:
    reg: Registry[object] = Registry("policy", "wambench.test-clash", tables=True)
    with installed_entry_points({"wambench.test-clash": {"t": "tests.harness.test_registry:TABLE_LAZY"}}):
        assert reg.names() == ["greedy"]
        assert reg.get("greedy") is load_object("tests.harness.toy:greedy")


def test_a_registry_without_a_listing_command_names_what_it_has() -> None:
    reg: Registry[object] = Registry("WAM backend", check=callable, references=False)
    reg.register("tiny", len)
    with pytest.raises(
        UserError, match=r"unknown WAM backend 'tinny'; did you mean 'tiny'\? \(have: tiny\)$"
    ):
        reg.get("tinny")
    with pytest.raises(UserError, match="unknown WAM backend 'a:b'"):
        reg.get("a:b")  # references=False: a module:attr string is just an unknown name


TABLE_A = {"only-a": 1, "shared": 1}
TABLE_B = {"only-b": 2, "shared": 2}
TABLE_LAZY = {"greedy": "tests.harness.toy:greedy"}


def test_check_rejects_objects_of_the_wrong_kind() -> None:
    with pytest.raises(UserError, match="not a policy"):
        registry.policies.get("tests.harness.toy:GOALS")


def test_bad_reference_strings() -> None:
    with pytest.raises(UserError, match="cannot import module"):
        load_object("no.such.module:thing")
    with pytest.raises(UserError, match="not a 'module:attr'"):
        load_object("nocolon")
