"""wambench: an evaluation harness for world-action models and their step-distilled variants.

The plugin face: everything a suite, policy or benchmark author imports comes from here. The contracts
(harness.types) and their optional hooks, declared as Protocols (Observes, Preflights, Validates,
ReadsImages, DefersImages, Doctor, DescribesSource, DeclaresPackages); the errors the CLI turns into
one line; the per-chunk StageTimer; ShapeSuite (a suite's geometry without its simulator); the
registries; the config loader; and `run(config)`, which `wambench run` itself calls. Test doubles are
in harness.testing.
"""

from __future__ import annotations

from harness.api import run
from harness.config import RunConfig, load_config
from harness.errors import SetupError, StorageError, UserError
from harness.registry import Registry, benchmarks, doctors, policies, suites
from harness.shapes import ShapeSuite
from harness.timing import StageTimer
from harness.types import (
    STAGES,
    ActionChunk,
    ActionSpace,
    DeclaresPackages,
    DefersImages,
    DescribesSource,
    Doctor,
    Env,
    EpisodeError,
    EpisodeKey,
    EpisodeSpec,
    ImageReads,
    Observation,
    Observes,
    Policy,
    PolicyFactory,
    PolicySpec,
    Preflights,
    ReadsImages,
    StepResult,
    Suite,
    SuiteFactory,
    TaskInfo,
    Validates,
)

__version__ = "0.1.0"

__all__ = [
    "STAGES",
    "ActionChunk",
    "ActionSpace",
    "DeclaresPackages",
    "DefersImages",
    "DescribesSource",
    "Doctor",
    "Env",
    "EpisodeError",
    "EpisodeKey",
    "EpisodeSpec",
    "ImageReads",
    "Observation",
    "Observes",
    "Policy",
    "PolicyFactory",
    "PolicySpec",
    "Preflights",
    "ReadsImages",
    "Registry",
    "RunConfig",
    "SetupError",
    "ShapeSuite",
    "StageTimer",
    "StepResult",
    "StorageError",
    "Suite",
    "SuiteFactory",
    "TaskInfo",
    "UserError",
    "Validates",
    "__version__",
    "benchmarks",
    "doctors",
    "load_config",
    "policies",
    "run",
    "suites",
]
