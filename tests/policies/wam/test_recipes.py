"""Distillation recipes are derived from the registered methods; new ones are data."""

from __future__ import annotations

import pytest

from harness.errors import UserError
from policies.wam import consistency as cfns
from policies.wam import recipes
from policies.wam.consistency import ConsistencyFunction
from policies.wam.method import StreamMethod, WamMethod
from policies.wam.methods import ALL_METHODS


def test_every_distilled_lcm_family_method_has_its_recipe() -> None:
    assert recipes.names() == ["flash-wam", "naive-joint-lcm", "video-only-lcm", "video-only-lcm-reg"]
    flash = recipes.get("flash-wam")
    assert (flash.video.consistency, flash.action.consistency) == ("lcm", "linear")
    assert recipes.get("naive-joint-lcm").action.consistency == "lcm"
    assert recipes.get("video-only-lcm").action.objective == "frozen"
    assert recipes.get("video-only-lcm-reg").action.objective == "fm-reg"
    for method in ALL_METHODS:  # each registered policy of a recipe trains what its stream says it is
        if method.name in recipes.names():
            recipe = recipes.get(method.name)
            for stream, made in ((method.video, recipe.video), (method.action, recipe.action)):
                assert made.consistency == stream.consistency


def test_dmd2_is_named_as_not_built_and_unknown_names_get_a_suggestion() -> None:
    with pytest.raises(UserError, match="critic"):
        recipes.get("joint-dmd2")
    with pytest.raises(UserError, match="did you mean 'naive-joint-lcm'"):
        recipes.get("naive-joint-lcn")


def test_a_new_method_is_a_new_value() -> None:
    cfns.register(ConsistencyFunction("half", lambda s: 0.0 * s + 0.5, lambda s: 0.0 * s + 0.5))
    method = WamMethod(
        "half-action",
        1,
        1,
        StreamMethod(consistency="lcm", trained_as="lcm"),
        StreamMethod(consistency="half", trained_as="half"),
    )
    recipes.register(recipes.recipe_for(method))
    try:
        assert recipes.get("half-action").label() == "video consistency(lcm) / action consistency(half)"
    finally:
        recipes._RECIPES.pop("half-action")
        cfns.FUNCTIONS.unregister("half")


def test_a_stream_recipe_refuses_what_it_cannot_train() -> None:
    with pytest.raises(UserError, match="unknown objective"):
        recipes.StreamRecipe("adversarial")
    with pytest.raises(UserError, match="needs a consistency function"):
        recipes.StreamRecipe("consistency")
    with pytest.raises(UserError, match="unknown consistency function"):
        recipes.StreamRecipe("consistency", "karras2")
