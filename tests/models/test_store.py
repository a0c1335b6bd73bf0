"""Style model files: save and load, damaged or foreign files, ONNX export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nst.errors import InputError
from nst.models.store import load_model
from nst.models.torch_model import StyleModel
from tests.models.helpers import picture


def test_save_load_round_trip(tiny_model: Path):
    net, card = load_model(tiny_model)
    assert card.name == "tiny" and card.config["width"] == 4
    photo = torch.rand(1, 3, 40, 52)
    again, _ = load_model(tiny_model)
    assert torch.equal(net(photo), again(photo))


@pytest.mark.parametrize("content", [b"", b"garbage" * 10, None])
def test_corrupt_or_foreign_model_files_are_refused(tmp_path: Path, tiny_model: Path, content: bytes | None):
    bad = tmp_path / "bad.pt"
    if content is None:  # a real torch file, but not a model
        torch.save({"weights": torch.zeros(3)}, bad)
    else:
        bad.write_bytes(content)
    with pytest.raises(InputError, match="bad.pt"):
        load_model(bad)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(tiny_model.read_bytes()[:2000])
    with pytest.raises(InputError, match="truncated.pt"):
        load_model(truncated)


def test_onnx_export_matches_torch(tiny_model: Path, tmp_path: Path):
    from nst.models.export import export_onnx
    from nst.models.onnx_model import OnnxStyleModel

    model = StyleModel.load(tiny_model)
    worst = export_onnx(model, tmp_path / "tiny.onnx")
    assert worst is not None and worst <= 1 / 255
    runtime = OnnxStyleModel(tmp_path / "tiny.onnx")
    assert runtime.card == model.card
    photo = picture(3, (90, 70))
    a = np.asarray(model.paint(photo), dtype=np.int16)
    b = np.asarray(runtime.paint(photo), dtype=np.int16)
    assert a.shape == b.shape == (70, 90, 3)
    assert np.abs(a - b).max() <= 1
