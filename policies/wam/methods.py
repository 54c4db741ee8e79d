"""The paper's methods, each a `WamMethod` value at one NFE configuration (data only).

policies/factory.py registers each as a policy: one `wambench.policies` entry point (pyproject.toml:
`wam = "policies.factory:POLICIES"`) names its table of every method's policy name. To add a method,
define a `WamMethod` and put `WamPolicyFactory(method)` in your own package's table (one entry point for
all of its names); nothing here needs to change.

Inference sampler: the LCM family's default is Euler on the student's velocity (as the released
Flash-WAM server runs it); the option `sampler: consistency` applies each stream's consistency function
instead. DMD2 students default to their own rollout (x0, re-noise). See plan.py.

Note on video-only LCM: the paper's Appendix A.3.2 says its action stream stays at the teacher's full
NFE, while Tables 1 and 4 list it at 1v/2a and 1v/1a with the same speedup as Flash-WAM. We register
the tables' NFE; `nfe_action: 50` runs the appendix's reading.
"""

from __future__ import annotations

from policies.wam.method import TEACHER_STREAM, StreamMethod, WamMethod

LCM_VIDEO = StreamMethod(consistency="lcm", trained_as="lcm")
LCM_ACTION = StreamMethod(consistency="lcm", trained_as="lcm")
LINEAR_ACTION = StreamMethod(consistency="linear", trained_as="linear")
FM_REG_ACTION = StreamMethod(trained_as="fm-reg")  # flow-matching regulariser: still a velocity field
DMD2_STREAM = StreamMethod(sampler="dmd2", trained_as="dmd2")

TEACHER_DOC = "LingBot-VA teacher: Euler on both streams"


def _teacher(nfe_v: int, nfe_a: int, note: str) -> WamMethod:
    return WamMethod("teacher", nfe_v, nfe_a, description=f"{TEACHER_DOC} ({note})", paper="Tables 1-4")


def _both(
    name: str, video: StreamMethod, action: StreamMethod, doc: str, paper: str
) -> tuple[WamMethod, WamMethod]:
    return (
        WamMethod(name, 1, 2, video, action, description=doc, paper=paper),
        WamMethod(name, 1, 1, video, action, description=doc, paper=paper),
    )


TEACHER_25V50A = _teacher(25, 50, "RoboTwin geometry")
TEACHER_20V50A = _teacher(20, 50, "LIBERO geometry")
TEACHER_1V2A = _teacher(1, 2, "reduced NFE, no distillation")
TEACHER_1V1A = _teacher(1, 1, "reduced NFE, no distillation")

NAIVE_JOINT_LCM = _both(
    "naive-joint-lcm",
    LCM_VIDEO,
    LCM_ACTION,
    "LCM consistency function on both streams",
    "Sec. 5.3, App. A.3.1",
)
VIDEO_ONLY_LCM = _both(
    "video-only-lcm",
    LCM_VIDEO,
    TEACHER_STREAM,
    "LCM on video; action stream left as the teacher's",
    "App. A.3.2",
)
VIDEO_ONLY_LCM_REG = _both(
    "video-only-lcm-reg",
    LCM_VIDEO,
    FM_REG_ACTION,
    "LCM on video; action stream anchored by a flow-matching regulariser",
    "App. A.3.3",
)
DMD2_REG = _both(
    "dmd2-reg", DMD2_STREAM, FM_REG_ACTION, "video-only DMD2 + flow-matching action regulariser", "App. A.3.4"
)
JOINT_DMD2 = _both("joint-dmd2", DMD2_STREAM, DMD2_STREAM, "DMD2 on both streams", "App. A.3.4, App. B")
FLASH_WAM = _both(
    "flash-wam",
    LCM_VIDEO,
    LINEAR_ACTION,
    "Flash-WAM: LCM on video, linear consistency on actions",
    "Sec. 4.2",
)

ALL_METHODS: tuple[WamMethod, ...] = (
    TEACHER_25V50A,
    TEACHER_20V50A,
    TEACHER_1V2A,
    TEACHER_1V1A,
    *NAIVE_JOINT_LCM,
    *VIDEO_ONLY_LCM,
    *VIDEO_ONLY_LCM_REG,
    *DMD2_REG,
    *JOINT_DMD2,
    *FLASH_WAM,
)

__all__ = [
    "ALL_METHODS",
    "DMD2_REG",
    "FLASH_WAM",
    "JOINT_DMD2",
    "NAIVE_JOINT_LCM",
    "TEACHER_1V1A",
    "TEACHER_1V2A",
    "TEACHER_20V50A",
    "TEACHER_25V50A",
    "VIDEO_ONLY_LCM",
    "VIDEO_ONLY_LCM_REG",
]
