"""RoboTwin 2.0 suite (50 bimanual tasks, clean and randomized splits), RoboTwin's evaluation protocol.

Entry points: `robotwin2(**options)` builds the Suite (registered as `wambench.suites: robotwin2`);
`doctor(**options)` lists what this machine lacks to run it (`wambench doctor robotwin`, registered as
`wambench.doctors: robotwin`). RoboTwin itself (a checkout of RoboTwin-Platform/RoboTwin at
stable_2.0, its assets, a GPU) is imported only by an env, inside a worker. See suites/robotwin/README.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.protocols import ProtocolProfile
from harness.shapes import ShapeSuite
from suites.robotwin import protocols as _protocols
from suites.robotwin.options import RobotwinOptions, geometry, parse_options
from suites.robotwin.suite import RobotwinSuite


class RobotwinFactory:
    """The registered `robotwin2` factory: builds the suite from options, and declares its evaluation
    protocols (`wambench list protocols robotwin2`) and its geometry without importing RoboTwin."""

    def __call__(self, **options: Any) -> RobotwinSuite:
        return RobotwinSuite(parse_options(options))

    def protocols(self) -> Sequence[ProtocolProfile]:
        return _protocols.profiles()

    def geometry(self, **options: Any) -> ShapeSuite:
        """The suite's observation and action geometry with these options, without RoboTwin (what
        `wambench latency` times a policy against on a machine without it)."""
        return geometry(parse_options(options))

    def doctor(self, **options: Any) -> list[str]:
        """`wambench doctor robotwin2`: the package's checks (harness.types.Doctor)."""
        return doctor(**options)

    def doctor_source(self, **options: Any) -> str:
        return doctor_source(**options)

    def __repr__(self) -> str:
        return "suites.robotwin:robotwin2"


robotwin2 = RobotwinFactory()


def doctor(**options: Any) -> list[str]:
    """Every problem that would stop a RoboTwin run here, each with its fix; [] when ready."""
    return RobotwinSuite(parse_options(options)).problems()


def doctor_source(**options: Any) -> str:
    """Which RoboTwin this machine would run: the checkout (and its commit) or the pip runtime."""
    return RobotwinSuite(parse_options(options)).describe_source()


__all__ = ["RobotwinFactory", "RobotwinOptions", "RobotwinSuite", "doctor", "doctor_source", "robotwin2"]
