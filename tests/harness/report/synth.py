"""Synthetic stores for report tests: written through the real Store API, with outcomes we choose, so a
test knows every number a table must show. No runner, no simulator, no policy is involved."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.records import ChunkRecord, EpisodeRecord, Provenance
from harness.store import Store, manifest_hash
from harness.types import EpisodeKey, EpisodeSpec, PolicySpec


@dataclass(frozen=True)
class SynthPolicy:
    id: str
    method: str
    nfe_video: int
    nfe_action: int
    backend: str = "lingbot"
    checkpoint: str | None = "/ckpt"
    trained: bool = True
    total_ms: float = 100.0  # per warm chunk
    video_ms: float = 40.0
    action_ms: float = 50.0
    device: str = "NVIDIA H100"

    def spec(self) -> PolicySpec:
        return PolicySpec(
            name=self.id,
            method=self.method,
            nfe_video=self.nfe_video,
            nfe_action=self.nfe_action,
            backend=self.backend,
            checkpoint=self.checkpoint,
            details={"trained": self.trained},
        )


Outcome = Callable[[SynthPolicy, EpisodeKey], str]


def manifest(suite: str, tasks: Sequence[str], splits: Sequence[str], episodes: int) -> list[EpisodeSpec]:
    return [
        EpisodeSpec(suite, t, s, i, seed=i, max_steps=100, noise_seed=1000 + i)
        for t in tasks
        for s in splits
        for i in range(episodes)
    ]


def make_store(
    out: Path,
    policies: Sequence[SynthPolicy],
    specs: Sequence[EpisodeSpec],
    outcome: Outcome,
    chunks_per_episode: int = 3,
    config_hash: str = "cfg0123",
) -> Path:
    """Write a complete run: manifest, policies, one run row, every episode with timed chunks
    (the first chunk of each episode marked warm-up)."""
    with Store.open(out, create=True) as store:
        store.write_manifest(specs)
        store.write_policies((p.id, p.id, p.spec(), {}) for p in policies)
        run_id = store.begin_run(
            kind="rollout",
            config_name="synthetic",
            config={"name": "synthetic"},
            config_hash=config_hash,
            manifest_hash=manifest_hash(specs),
            provenance=Provenance(
                wambench_version="0.1.0",
                git_revision="deadbeefcafe",
                packages={"torch": "2.13.0", "numpy": "2.0"},
                host="testhost",
                device=policies[0].device if policies else "cpu",
                python="3.11",
                command="synthetic",
            ),
        )
        for p in policies:
            for spec in specs:
                result = outcome(p, spec.key)
                if result == "missing":
                    continue
                chunks = [
                    ChunkRecord(
                        c,
                        {"video": p.video_ms, "action": p.action_ms, "encode": 1.0, "total": p.total_ms},
                        {"video": p.nfe_video, "action": p.nfe_action},
                        p.device,
                        warmup=c == 0,
                    )
                    for c in range(chunks_per_episode)
                ]
                if chunks:  # a cold first chunk, to check it is left out of latency
                    first = chunks[0]
                    chunks[0] = ChunkRecord(
                        0, {**first.timings, "total": 50 * p.total_ms}, first.nfe, p.device, True
                    )
                store.record_episode(
                    EpisodeRecord(
                        policy=p.id,
                        key=spec.key,
                        outcome=result,
                        steps=10,
                        wall_s=1.0,
                        attempt=1,
                        error="boom" if result == "error" else None,
                        chunks=chunks,
                    ),
                    run_id=run_id,
                )
        store.finish_run(run_id, "done")
    return out


def by_index(successes: dict[str, int]) -> Outcome:
    """Policy id -> how many of the first episode indices succeed (per task and split)."""
    return lambda p, key: "success" if key.index < successes.get(p.id, 0) else "failure"
