"""LIBERO (MuJoCo + robosuite) as four wambench suites, faithful to the clients' evaluation protocol.

Each factory takes the suite options of a run config (max_steps, num_steps_wait, wait_gripper,
image_flip, image_size, env_seed; unset ones from the chosen evaluation protocol, see protocols.py)
and checks the installation before returning, so a missing asset link or config surfaces as a
SetupError before any episode. Importing this package imports no simulator.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from harness.protocols import ProtocolProfile
from harness.shapes import ShapeSuite
from suites.libero import options as _options
from suites.libero import protocols as _protocols
from suites.libero.options import LiberoOptions
from suites.libero.paths import check_installed
from suites.libero.suite import LiberoSuite, make_suite


class LiberoFactory:
    """The registered factory of one LIBERO suite: builds it from options, and declares its
    evaluation protocols (`wambench list protocols`) and its geometry without building anything."""

    # The simulator stack whose versions a LIBERO run records (harness.types.DeclaresPackages).
    packages: tuple[str, ...] = ("mujoco", "robosuite", "hf-libero", "bddl")

    def __init__(self, name: str, doc: str = "") -> None:
        self.name = name
        self.__doc__ = doc or f"The {name} suite (options: see suites/libero/README.md)."

    def __call__(self, **options: Any) -> LiberoSuite:
        return make_suite(self.name, options)

    def protocols(self) -> Sequence[ProtocolProfile]:
        return _protocols.profiles(self.name)

    def geometry(self, **options: Any) -> ShapeSuite:
        """The suite's observation and action geometry with these options, without building it (no
        installation check, no simulator): what `wambench latency` times a policy against here."""
        return _options.geometry(self.name, options)

    def doctor(self, **options: Any) -> list[str]:
        """`wambench doctor libero_spatial`: the package's checks (harness.types.Doctor)."""
        return doctor(**options)

    def __repr__(self) -> str:
        return f"suites.libero:{self.name}"


libero_spatial = LiberoFactory("libero_spatial")
libero_object = LiberoFactory("libero_object")
libero_goal = LiberoFactory("libero_goal")
libero_10 = LiberoFactory("libero_10")
libero_long = LiberoFactory(
    "libero_long", "Alias of libero_10 (LIBERO-Long); the suite it builds is named libero_10 in results."
)


# The `wambench.policies` entry point `libero` names this table: the LIBERO-only baselines, imported
# when first looked up.
POLICIES: dict[str, str] = {
    "libero-expert": "suites.libero.expert:libero_expert",
    "libero-replay": "suites.libero.replay:libero_replay",
}


def doctor(**options: Any) -> list[str]:
    """`wambench doctor libero`: what stops LIBERO from running here, each with its fix.

    Beyond the installation check it renders one frame offscreen, the step that fails on a machine
    without a working EGL/OSMesa, in this process (the doctor's own, short-lived one).
    """
    from harness.errors import UserError
    from suites.libero import paths

    found = [f"missing {p}; {paths.SETUP_HINT}" for p in paths.problems()]
    try:
        LiberoOptions.parse("libero_spatial", options)
    except UserError as exc:
        found.append(str(exc))
    if found:
        return found
    try:
        paths.prepare_process_env()
        import mujoco

        renderer = mujoco.Renderer(mujoco.MjModel.from_xml_string("<mujoco/>"), 16, 16)
        renderer.render()
        renderer.close()
    except Exception as exc:
        found.append(
            f"offscreen rendering fails with MUJOCO_GL={os.environ.get('MUJOCO_GL')}: {exc}; "
            "install Mesa's libEGL (libegl1) or OSMesa (libosmesa6) and set MUJOCO_GL=egl or osmesa"
        )
    return found


__all__ = [
    "POLICIES",
    "LiberoFactory",
    "LiberoSuite",
    "check_installed",
    "doctor",
    "libero_10",
    "libero_goal",
    "libero_long",
    "libero_object",
    "libero_spatial",
]
