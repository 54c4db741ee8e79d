"""The paper's methods as data: registration, listing, suite defaults, and early errors on bad input."""

from __future__ import annotations

from typing import Any

import pytest

from harness import registry
from harness.errors import UserError
from harness.shapes import ShapeSuite
from harness.types import PolicyFactory
from policies import factory as registered
from policies.factory import WamPolicyFactory
from policies.wam import methods
from policies.wam.method import StreamMethod, WamMethod
from policies.wam.plan import resolve_plan
from tests.declared import declared
from tests.shapes import SHAPES

EXPECTED = {
    "teacher-25v50a": (25, 50),
    "teacher-20v50a": (20, 50),
    "teacher-1v2a": (1, 2),
    "teacher-1v1a": (1, 1),
    **{
        f"{m}-1v{a}a": (1, a)
        for m in (
            "naive-joint-lcm",
            "video-only-lcm",
            "video-only-lcm-reg",
            "dmd2-reg",
            "joint-dmd2",
            "flash-wam",
        )
        for a in (1, 2)
    },
}


def test_every_paper_method_is_registered_with_its_nfe() -> None:
    names = set(registry.policies.names())
    assert set(EXPECTED) <= names
    for name, (nfe_v, nfe_a) in EXPECTED.items():
        factory = registry.policies.get(name)
        assert isinstance(factory, PolicyFactory)
        spec = factory.spec
        assert (spec.name, spec.nfe_video, spec.nfe_action) == (name, nfe_v, nfe_a)
        assert spec.details["samplers"].startswith("video ")
        assert spec.details["trained"] is False  # the default tiny backend has no trained weights


def test_one_entry_point_registers_the_method_table() -> None:
    """pyproject.toml names the table once; each key is the policy name its factory's spec carries."""
    assert declared()["wambench.policies"]["wam"] == "policies.factory:POLICIES"
    assert set(registered.POLICIES) == set(EXPECTED)
    for name, factory in registered.POLICIES.items():
        assert factory.spec.name == name


def test_flash_wam_is_lcm_video_and_linear_action() -> None:
    m = methods.FLASH_WAM[0]
    assert (m.video.consistency, m.action.consistency) == ("lcm", "linear")
    naive = methods.NAIVE_JOINT_LCM[0]
    assert (naive.video.consistency, naive.action.consistency) == ("lcm", "lcm")
    assert methods.VIDEO_ONLY_LCM[0].action.consistency is None
    assert methods.JOINT_DMD2[1].action.sampler == "dmd2" and methods.DMD2_REG[1].action.sampler == "euler"


@pytest.mark.parametrize(
    ("family", "shifts", "teacher"), [("libero", (5.0, 0.05), (20, 50)), ("robotwin", (5.0, 1.0), (25, 50))]
)
def test_suite_defaults(family: str, shifts: tuple[float, float], teacher: tuple[int, int]) -> None:
    suite = SHAPES[family]
    plan = resolve_plan(methods.FLASH_WAM[1], suite, {})
    assert (plan.video.shift, plan.action.shift) == shifts
    assert (plan.video.cfg, plan.action.cfg) == (5.0, 1.0)
    suite_teacher = WamMethod("teacher", None, None)
    tplan = resolve_plan(suite_teacher, suite, {})
    assert (tplan.video.nfe, tplan.action.nfe) == teacher
    assert len(tplan.video.grid) == teacher[0] + 1


def test_unknown_suite_gets_defaults_from_its_action_space(libero: ShapeSuite) -> None:
    other = ShapeSuite("my_suite", libero.action_space, libero.camera_shapes, 8)
    assert resolve_plan(methods.FLASH_WAM[1], other, {}).profile.family == "libero"


def _plan(method: WamMethod, **options: Any) -> Any:
    return resolve_plan(method, SHAPES["robotwin"], options)


def test_sampler_choice_where_the_paper_leaves_inference_open() -> None:
    flash, naive, dmd2, video_only = (
        methods.FLASH_WAM[0],
        methods.NAIVE_JOINT_LCM[0],
        methods.DMD2_REG[0],
        methods.VIDEO_ONLY_LCM[0],
    )
    labels = lambda p: (p.video.sampler.label(), p.action.sampler.label())  # noqa: E731
    assert labels(_plan(flash)) == ("euler", "euler")  # as the released Flash-WAM server samples
    assert labels(_plan(flash, sampler="consistency")) == ("consistency(lcm)", "consistency(linear)")
    assert labels(_plan(naive, sampler="consistency")) == ("consistency(lcm)", "consistency(lcm)")
    assert labels(_plan(video_only, sampler="consistency")) == ("consistency(lcm)", "euler")  # teacher action
    assert labels(_plan(dmd2)) == ("dmd2", "euler")
    assert labels(_plan(dmd2, sampler="euler")) == ("euler", "euler")
    assert labels(_plan(flash, action_sampler="consistency:lcm")) == ("euler", "consistency(lcm)")
    assert (
        labels(_plan(flash, sampler="consistency", renoise="deterministic"))[1]
        == "consistency(linear, deterministic)"
    )


def test_nfe_and_other_overrides() -> None:
    plan = _plan(methods.FLASH_WAM[1], nfe_video=3, nfe_action=4, cfg_video=1, action_shift=0.5)
    assert (plan.video.nfe, plan.action.nfe, plan.video.cfg, plan.action.shift) == (3, 4, 1.0, 0.5)
    assert plan.video.evals_per_step == 1 and plan.action.evals == 4


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"nfe_video": 0}, "nfe_video must be >= 1"),
        ({"nfe_action": -2}, "nfe_action must be >= 1"),
        ({"nfe_action": 1.5}, "must be an integer"),
        ({"sampler": "heun"}, "unknown sampler 'heun'"),
        ({"action_sampler": "consistency:karras"}, "unknown consistency function 'karras'"),
        ({"renoise": "twice"}, "renoise must be one of"),
        ({"dtype": "float8"}, "dtype must be one of"),
        ({"cfg_video": 0}, "cfg_video must be positive"),
        ({"device": "tpu"}, "device must be"),
    ],
)
def test_bad_options_are_user_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=message):
        _plan(methods.FLASH_WAM[0], **options)


def test_build_checks_options_before_any_episode(robotwin: ShapeSuite) -> None:
    factory = registry.policies.get("flash-wam-1v1a")
    with pytest.raises(UserError, match="unknown WAM policy option"):
        factory.build(robotwin, {"nfe_vidoe": 2})
    with pytest.raises(UserError, match="unknown WAM backend 'tinny'; did you mean 'tiny'"):
        factory.build(robotwin, {"backend": "tinny"})
    with pytest.raises(UserError, match="nfe_video must be >= 1"):
        factory.build(robotwin, {"nfe_video": 0})


def test_bad_method_data_is_rejected_when_defined() -> None:
    with pytest.raises(UserError, match="NFE must be >= 1"):
        WamMethod("broken", 0, 1)
    with pytest.raises(UserError, match="unknown sampler"):
        WamMethod("broken", 1, 1, action=StreamMethod(sampler="rk4"))
    with pytest.raises(UserError, match="unknown consistency function"):
        WamMethod("broken", 1, 1, video=StreamMethod(consistency="karras"))
    with pytest.raises(UserError, match="needs a consistency function"):
        WamMethod("broken", 1, 1, video=StreamMethod(sampler="consistency"))


def test_a_new_method_is_one_value(robotwin: ShapeSuite, make_episode: Any, make_obs: Any) -> None:
    """A researcher's method: data only, through the same factory and loop as the paper's methods."""
    mine = WamMethod(
        "my-method",
        2,
        3,
        video=StreamMethod(sampler="consistency", consistency="linear", trained_as="linear", shift=3.0),
        action=StreamMethod(sampler="dmd2", trained_as="dmd2", sigmas=(1.0, 0.5, 0.25), cfg=2.0),
    )
    factory = WamPolicyFactory(mine)
    assert factory.spec.name == "my-method-2v3a"
    policy = factory.build(robotwin, {"dim": 32, "depth": 1, "heads": 2})
    assert policy.spec.details["sigmas"]["action"] == [1.0, 0.5, 0.25, 0.0]
    assert policy.spec.details["shifts"]["video"] == 3.0
    policy.reset(make_episode(robotwin, 1), "go")
    chunk = policy.act(make_obs(robotwin, 0))
    assert chunk.nfe == {"video": 4, "action": 6}


def test_validate_is_the_runners_preflight(robotwin: ShapeSuite) -> None:
    """The runner calls factory.validate(suite, options) in the main process before any worker starts."""
    factory = registry.policies.get("flash-wam-1v2a")
    spec = factory.validate(robotwin, {"dim": 32, "depth": 1, "heads": 2, "nfe_action": 3})
    assert (spec.name, spec.nfe_video, spec.nfe_action) == ("flash-wam-1v2a", 1, 3)
    assert spec.details["trained"] is False and spec.details["nfe_override"] is True
    with pytest.raises(UserError, match="nfe_video must be >= 1"):
        factory.validate(robotwin, {"nfe_video": 0})
    with pytest.raises(UserError, match="unknown WAM policy option"):
        factory.validate(robotwin, {"checkpont": "x"})
