"""The feed-forward network and painting with it: sizes, strength, colour, tiles, the bundled models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nst.errors import InputError
from nst.models.network import TransformerNet
from nst.models.registry import bundled_names
from nst.models.torch_model import StyleModel
from tests.models.helpers import picture


def test_the_border_mirrors_the_photo_as_numpy_does():
    from nst import picture
    from nst.models import torch_model

    for h, w in [(3, 5), (20, 40), (64, 50)]:
        photo = np.random.default_rng(0).random((1, 3, h, w)).astype(np.float32)
        framed = torch_model._with_border(torch.from_numpy(photo)).numpy()
        assert np.array_equal(framed, picture.with_border(photo))
        assert np.array_equal(picture.without_border(framed), photo)


def test_network_keeps_any_size_and_range():
    net = TransformerNet(width=4, residual_blocks=1).eval()
    for h, w in [(33, 47), (64, 64), (18, 101)]:
        assert net(torch.rand(1, 3, h, w)).shape == (1, 3, h, w)


def test_strength_and_colour(tiny_model: Path):
    model = StyleModel.load(tiny_model)
    photo = picture(4)
    same = np.asarray(model.paint(photo, strength=0.0), dtype=np.int16)
    assert np.abs(same - np.asarray(photo, dtype=np.int16)).max() <= 1
    full = np.asarray(model.paint(photo), dtype=np.float64)
    kept = np.asarray(model.paint(photo, preserve_color="luminance"), dtype=np.float64)
    original = np.asarray(photo, dtype=np.float64)

    def chroma(rgb: np.ndarray) -> np.ndarray:  # YIQ's I and Q
        return rgb @ np.array([[0.595716, 0.211456], [-0.274453, -0.522591], [-0.321263, 0.311135]])

    assert np.abs(chroma(kept) - chroma(original)).mean() < 0.25 * np.abs(chroma(full) - chroma(original)).mean()
    with pytest.raises(InputError, match="strength"):
        model.paint(photo, strength=1.5)


def test_tiles_paint_what_the_whole_picture_paints(tiny_model: Path):
    from nst.models import torch_model as apply

    model = StyleModel.load(tiny_model)
    photo = torch.from_numpy(np.asarray(picture(5, (300, 220)), dtype=np.float32) / 255).permute(2, 0, 1)[None]
    b = apply.BORDER
    with torch.inference_mode():
        framed = apply._with_border(photo)
        stats = apply._instance_norm_stats(model.network, framed)
        with apply._frozen_instance_norms(model.network, stats):
            whole = model.network(framed)[..., b:-b, b:-b].clamp(0, 1)
    tiled = model.paint_tensor(photo, tile_size=96)  # 3 x 4 tiles, statistics of the whole photo
    assert (tiled - whole).abs().max() < 1e-4
    plain = model.paint_tensor(photo)  # the usual path: each picture's own statistics
    assert (tiled - plain).abs().mean() < 0.02


EXPECTED_BUNDLED = {"starry-night", "the-scream", "great-wave", "udnie"}


def test_every_bundled_model_loads_and_paints_the_right_size():
    import nst

    names = set(bundled_names())
    assert names == EXPECTED_BUNDLED
    photo = picture(6, (70, 50))
    for name in sorted(names):
        for backend in ("onnx", "torch"):
            model = nst.load_style_model(name, backend=backend)
            assert model.card.name == name and model.card.photos == 300
            assert model.paint(photo, size=64).size == (64, 46)
        files = [Path(nst.models.registry.bundled_dir()) / f"{name}{s}" for s in (".pt", ".onnx")]
        assert all(f.stat().st_size <= 5_000_000 for f in files)


def test_unknown_model_name_lists_the_bundled_ones():
    import nst

    with pytest.raises(InputError, match="unknown style model 'nope'"):
        nst.load_style_model("nope")
