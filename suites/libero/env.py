"""One live LIBERO simulator for one task, reused across that task's episodes by its worker.

The protocol follows the OpenVLA/openpi/LingBot-VA clients: reset, set fixed init state i, take
`num_steps_wait` no-op steps (gripper open by default), then policy steps with 7-d OSC delta-pose
actions that go to robosuite unclipped (its controller clips to [-1, 1]); success is LIBERO's own goal
check, which `env.step` returns as `done`. Two choices are ours and make an episode reproducible on any
worker in any order: np.random (which LIBERO's reset draws fixture placements from, and which the init
states do not cover) is seeded per episode with `env_seed + i` and restored afterwards, and the
robosuite horizon is disabled so that the harness alone decides when an episode ends. With
`env_seed: None` (the `lingbot-va` protocol) np.random is left alone, as that client does.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from harness.errors import SetupError
from harness.types import EpisodeError, EpisodeSpec, Observation, StepResult
from suites.libero import paths, privileged
from suites.libero.camera_gate import CameraGate
from suites.libero.catalog import INIT_STATES_PER_TASK, LiberoTask
from suites.libero.options import ACTION_SPACE, LiberoOptions

paths.prepare_process_env()  # before libero/robosuite/mujoco are imported anywhere below


class _NoMacroNotice(logging.Filter):
    """robosuite warns on every import that it has no private macro file; that is expected here."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "macro file" not in message and "setup_macros.py" not in message


logging.getLogger("robosuite_logs").addFilter(_NoMacroNotice())  # robosuite's logger, set up on import

CAMERAS = {"agentview": "agentview", "wrist": "robot0_eye_in_hand"}  # harness name -> robosuite name


def quat_to_axis_angle(quat: np.ndarray) -> np.ndarray:
    """robosuite's (x, y, z, w) quaternion as an axis-angle 3-vector, as the LIBERO clients send it."""
    w = float(np.clip(quat[3], -1.0, 1.0))
    den = math.sqrt(max(1.0 - w * w, 0.0))
    if math.isclose(den, 0.0):
        return np.zeros(3)
    return np.asarray(quat[:3], dtype=np.float64) * 2.0 * math.acos(w) / den


def upright(image: np.ndarray, flip: str = "vertical") -> np.ndarray:
    """MuJoCo's offscreen buffer holds the bottom row first: "vertical" gives the camera's true view,
    "both" its 180-degree rotation (the OpenVLA/openpi convention); see LiberoOptions."""
    return np.ascontiguousarray(image[::-1, ::-1] if flip == "both" else image[::-1])


def validate_action(action: Any, step: int = 0) -> tuple[np.ndarray, float]:
    """The action as float64 (7,) and its largest magnitude; EpisodeError for anything unusable."""
    try:
        arr = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EpisodeError(f"action at policy step {step} is not numeric: {exc}") from exc
    if arr.shape != (ACTION_SPACE.dim,):
        raise EpisodeError(
            f"action at policy step {step} has shape {arr.shape}; LIBERO takes one 7-d action per step "
            "(xyz delta, axis-angle delta, gripper), so execute a [T, 7] chunk row by row"
        )
    if not np.all(np.isfinite(arr)):
        bad = [i for i in range(arr.size) if not math.isfinite(arr[i])]
        raise EpisodeError(f"action at policy step {step} has NaN/inf in component(s) {bad}: {arr.tolist()}")
    return arr, float(np.max(np.abs(arr)))


def load_init_states(task: LiberoTask) -> np.ndarray:
    import torch  # LIBERO's init states are torch-saved numpy arrays

    root = paths.libero_root()
    assert root is not None  # check_installed() ran before any env is built
    states = np.asarray(torch.load(task.init_states_file(root), weights_only=False))
    if states.ndim != 2 or len(states) < INIT_STATES_PER_TASK:
        raise SetupError(f"{task.init_states_file(root)} holds {states.shape}, not 50 init states")
    return states


class LiberoEnv:
    def __init__(self, suite: str, task: LiberoTask, options: LiberoOptions, renderer: bool = False) -> None:
        """`renderer`: keep an offscreen renderer when cameras are off, to render chosen states later."""
        from libero.libero.envs import OffScreenRenderEnv
        from libero.libero.envs.env_wrapper import ControlEnv

        root = paths.libero_root()
        assert root is not None
        self.suite = suite
        self.task = task
        self.options = options
        self.init_states = load_init_states(task)
        try:
            if options.cameras:
                self._env: Any = OffScreenRenderEnv(
                    bddl_file_name=str(task.bddl_file(root)),
                    camera_names=list(CAMERAS.values()),
                    camera_heights=options.image_size,
                    camera_widths=options.image_size,
                    ignore_done=True,
                )
            else:  # no renderer at all: 5-10x more steps per second (suites/libero/README.md)
                self._env = ControlEnv(
                    bddl_file_name=str(task.bddl_file(root)),
                    has_offscreen_renderer=renderer,
                    use_camera_obs=False,
                    ignore_done=True,
                )
        except Exception as exc:  # a renderer that cannot start is a setup problem, not an episode error
            if any(word in str(exc) for word in ("EGL", "OSMesa", "GL context", "OpenGL")):
                raise SetupError(
                    f"LIBERO cannot render offscreen with MUJOCO_GL={os.environ.get('MUJOCO_GL')}: "
                    f"{exc}. Try MUJOCO_GL=osmesa (needs libosmesa6) or MUJOCO_GL=egl"
                ) from exc
            raise
        self._attach(gate=options.cameras)

    @classmethod
    def on_simulator(
        cls, sim: Any, suite: str, task: LiberoTask, options: LiberoOptions, init_states: np.ndarray
    ) -> LiberoEnv:
        """An env over a given simulator object (tests: a stand-in recording what the env asks of it),
        with everything __init__ sets but the camera gate."""
        env = object.__new__(cls)
        env.suite, env.task, env.options, env.init_states, env._env = suite, task, options, init_states, sim
        env._attach(gate=False)
        return env

    def _attach(self, gate: bool) -> None:
        # Cameras render only for observations that are read (next_images); see camera_gate.py.
        self._gate: CameraGate | None = None
        if gate:
            self._gate = CameraGate(CAMERAS.values(), self.options.image_size, self.options.image_size)
            self._gate.install(self._env.env)
        self._want_images = True  # for the next observation handed out; back to True after it
        self.placement_state: np.ndarray | None = None  # the last reset_placement's state, before waiting
        inner = getattr(self._env, "env", None)
        self._goal = (
            privileged.pick_place_goal(inner.parsed_problem, inner.objects_dict)
            if inner is not None and hasattr(inner, "parsed_problem")
            else None
        )
        self._spec: EpisodeSpec | None = None
        self._success = False
        self._steps = 0
        self._out_of_range = 0
        self._max_abs = 0.0

    # --- the Env protocol ---------------------------------------------------------------------
    def reset(self, episode: EpisodeSpec) -> Observation:
        if (episode.suite, episode.task) != (self.suite, self.task.name):
            raise ValueError(
                f"this env runs {self.suite}/{self.task.name}, not {episode.suite}/{episode.task}"
            )
        if not 0 <= episode.seed < len(self.init_states):
            raise EpisodeError(f"init state {episode.seed} out of range [0, {len(self.init_states)})")
        seed = None if self.options.env_seed is None else self.options.env_seed + episode.seed
        self._seeded_reset(seed)
        want = self._take_want()
        self._gate_images(want and self.options.num_steps_wait == 0)  # set_init_state samples the cameras
        raw = self._wait(self._env.set_init_state(self.init_states[episode.seed]), want)
        self._spec = episode
        self._success = False
        self._steps = 0
        self._out_of_range = 0
        self._max_abs = 0.0
        return self._observation(raw, want)

    def _seeded_reset(self, seed: int | None) -> None:
        """Reset with np.random seeded (and restored after); None: the process's unseeded np.random,
        as LingBot-VA's client resets."""
        if seed is None:
            self._env.reset()
        else:
            saved = np.random.get_state()
            try:
                self._env.seed(seed)
                self._env.reset()
            finally:
                np.random.set_state(saved)
        if self._gate is not None:
            self._gate.install(self._env.env)  # a hard reset rebuilt the observables' sensors

    def _wait(self, raw: Mapping[str, np.ndarray], images: bool = True) -> Mapping[str, np.ndarray]:
        """The no-op steps; only the last one's cameras render, and only if its images are read."""
        noop = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, self.options.wait_gripper])
        for i in range(self.options.num_steps_wait):
            raw = self._gated_step(noop, images and i == self.options.num_steps_wait - 1)[0]
        return raw

    # --- deferred rendering (harness.types.DefersImages) ---------------------------------------
    def next_images(self, needed: bool) -> None:
        """Whether the next observation handed out (reset or step) carries images; that one only."""
        self._want_images = bool(needed)

    def _take_want(self) -> bool:
        want, self._want_images = self._want_images, True
        return want and self.options.cameras  # a stand-in simulator without a gate renders always

    def _gate_images(self, images: bool) -> None:
        if self._gate is not None:
            self._gate.open = images

    def _gated_step(self, action: np.ndarray, images: bool) -> tuple[Any, ...]:
        """robosuite's step with its cameras rendering only if `images`; checks that they did sample."""
        gate = self._gate
        if gate is None:
            return tuple(self._env.step(action))
        before = dict(gate.renders)
        gate.open = images
        try:
            out = tuple(self._env.step(action))
        finally:
            gate.open = True
        if images and any(gate.renders[c] == before[c] for c in gate.cameras):
            raise EpisodeError(
                "robosuite sampled no camera image in this step (its observable timers drifted); the "
                "image it holds is an earlier step's, so deferred rendering cannot reproduce it"
            )
        return out

    def reset_placement(self, seed: int) -> Observation:
        """A fresh initial condition from LIBERO's own placement sampler (demos), not an init state."""
        self._seeded_reset(seed)
        self.placement_state = self.flat_state()  # before the wait steps, as the init states are
        want = self._take_want()  # without wait steps, the images are the reset's own (ungated) sample
        raw = self._wait(self._env.env._get_observations(), want)
        self._spec = EpisodeSpec(self.suite, self.task.name, "demo", seed, seed, self.options.max_steps)
        self._success, self._steps, self._out_of_range, self._max_abs = False, 0, 0, 0.0
        return self._observation(raw, want)

    @property
    def nq(self) -> int:
        return int(self._env.sim.model.nq)

    def flat_state(self) -> np.ndarray:
        """MuJoCo's flattened state (time, qpos, qvel), the layout of LIBERO's init states."""
        return np.asarray(self._env.get_sim_state(), dtype=np.float64).copy()

    def set_flat_state(self, state: np.ndarray) -> None:
        self._env.sim.set_state_from_flattened(state)
        self._env.sim.forward()

    def render_camera(self, camera: str) -> np.ndarray:
        """One camera of the current state, as robosuite's camera observation holds it (bottom row first)."""
        size = self.options.image_size
        return np.asarray(self._env.sim.render(camera_name=camera, width=size, height=size))

    def step(self, action: np.ndarray) -> StepResult:
        if self._spec is None:
            raise EpisodeError("env.step called before env.reset")
        checked = self._check_action(action)
        want = self._take_want()
        raw, _reward, done, _info = self._gated_step(checked, want)
        self._steps += 1
        self._success = self._success or bool(done)
        return StepResult(self._observation(raw, want), self._success, {"step": self._steps})

    def episode_info(self) -> Mapping[str, Any]:
        return {
            "out_of_range_actions": self._out_of_range,
            "max_abs_action": self._max_abs,
            "policy_steps": self._steps,
            "init_state": self._spec.seed if self._spec else None,
            "env_seed": (
                self.options.env_seed + self._spec.seed
                if self._spec and self.options.env_seed is not None
                else None
            ),
        }

    def close(self) -> None:
        env, self._env = getattr(self, "_env", None), None
        if env is not None:
            env.close()  # frees the GL context now, not in a __del__ at interpreter exit

    # --- helpers ------------------------------------------------------------------------------
    def observe(self) -> Observation:
        """The current observation without stepping, e.g. after a test moved an object in the sim."""
        return self._observation(self._env.regenerate_obs_from_state(self._env.get_sim_state()))

    def check_success(self) -> bool:
        """LIBERO's goal predicates on the current simulator state (tests set states directly)."""
        return bool(self._env.check_success())

    @property
    def sim(self) -> Any:
        return self._env.sim

    def _check_action(self, action: Any) -> np.ndarray:
        arr, peak = validate_action(action, self._steps)
        self._max_abs = max(self._max_abs, peak)
        if peak > 1.0:
            self._out_of_range += 1  # robosuite clips it; we only count it
        return arr

    def _observation(self, raw: Mapping[str, np.ndarray], rendered: bool = True) -> Observation:
        cameras = CAMERAS.items() if self.options.cameras and rendered else ()
        images = {name: upright(raw[f"{cam}_image"], self.options.image_flip) for name, cam in cameras}
        state = np.concatenate(
            [raw["robot0_eef_pos"], quat_to_axis_angle(raw["robot0_eef_quat"]), raw["robot0_gripper_qpos"]]
        ).astype(np.float32)
        want = self.options.privileged or self.options.privileged_state
        facts = privileged.scene_facts(self._env.env, self._goal) if want else None
        if self.options.privileged_state and facts is not None:
            state = np.concatenate([state, privileged.state_features(facts)])
        return Observation(
            images=images,
            state=state,
            instruction=self.task.language,
            privileged=facts if self.options.privileged else None,
        )
