"""zoo:NAME references and fp16 publishing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from harness.errors import UserError
from policies.backends.tiny import zoo
from policies.backends.tiny.checkpoint import init_model, load_checkpoint, save_checkpoint
from tests.policies.backends.test_tiny_sequence import CFG  # a small LIBERO-shaped model


def test_unknown_zoo_name_is_a_user_error_with_a_suggestion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zoo, "ZOO", tmp_path)
    save_checkpoint(tmp_path / "teacher-object0", init_model(CFG), np.zeros(7), np.ones(7), True)
    assert zoo.resolve("zoo:teacher-object0") == tmp_path / "teacher-object0"
    with pytest.raises(UserError, match="did you mean zoo:teacher-object0"):
        load_checkpoint("zoo:teacher-objekt0")
    assert zoo.resolve("some/path") == Path("some/path")


def test_published_checkpoint_is_fp16_on_disk_and_keeps_provenance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safetensors.torch import load_file

    monkeypatch.setattr(zoo, "ZOO", tmp_path / "zoo")
    model = init_model(CFG)
    src = save_checkpoint(
        tmp_path / "src", model, np.zeros(7), np.ones(7), True, provenance={"dataset": "abc"}
    )
    out = zoo.publish(src, "t")
    assert all(t.dtype == torch.float16 for t in load_file(str(out / "model.safetensors")).values())
    back = load_checkpoint("zoo:t")
    for k, v in model.state_dict().items():
        torch.testing.assert_close(back.model.state_dict()[k], v, atol=2e-3, rtol=2e-3)
    import json

    meta = json.loads((out / "config.json").read_text())
    assert meta["provenance"]["dataset"] == "abc" and meta["trained"] is True


def test_the_committed_zoo_teacher_loads_as_a_trained_libero_checkpoint() -> None:
    """The package data ships: a packaging slip (a missing glob, an LFS pointer) fails here."""
    ckpt = load_checkpoint("zoo:teacher-object0")
    assert ckpt.trained and ckpt.model.cfg.cameras == ("agentview", "wrist") and ckpt.model.cfg.state_dim == 8
    import json

    meta = json.loads((zoo.ZOO / "teacher-object0" / "config.json").read_text())
    assert meta["provenance"]["episodes"] == 40 and len(meta["provenance"]["dataset"]) == 16
