"""The per-chunk loop's rule, in one place: a policy's chunk, then its executed actions one env step
each, until the env reports success or the episode reaches its step limit; then the next chunk.

`EpisodeSteps` is that rule's state. Every loop that steps an env with a policy's chunks keeps it: the
worker's episode (harness.worker.run_episode) and the LIBERO benchmark's raw client loop (the baseline
wambench is compared against, which must stop at exactly the same step for the comparison to hold).
Without an env, consecutive chunks on given observations are harness.latency.runner.ChunkLoop's, which
`wambench latency` and `wambench bench sampler` share.
"""

from __future__ import annotations


class EpisodeSteps:
    """Env steps taken in one episode and whether it succeeded (latched: once true it stays true)."""

    def __init__(self, max_steps: int) -> None:
        self.max_steps = max_steps
        self.taken = 0
        self.success = False

    @property
    def running(self) -> bool:
        """Whether the policy is asked for another chunk."""
        return self.taken < self.max_steps and not self.success

    def stepped(self, succeeded: bool) -> bool:
        """Count one env step (call it right after the step returns); True when the chunk stops here,
        on success or at the step limit."""
        self.taken += 1
        self.success = self.success or bool(succeeded)
        return self.success or self.taken >= self.max_steps


__all__ = ["EpisodeSteps"]
