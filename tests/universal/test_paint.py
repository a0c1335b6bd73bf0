"""Painting with a decoder: sizes, strength, colour, tiles, files (a tiny random decoder, random VGG)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from nst.errors import InputError
from nst.universal.config import InstantConfig
from nst.universal.network import Decoder
from nst.universal.paint import AnyPainting
from nst.universal.store import DecoderCard, load_decoder, save_decoder
from nst.universal.torch_networks import TorchNetworks

CARD = DecoderCard(width=4, photos=0, photos_fingerprint="", steps=0, seconds=0.0, device="cpu")


@pytest.fixture(scope="module")
def painter(random_weights) -> AnyPainting:
    """A random decoder whose output follows its input (He-initialised, so the signal survives)."""
    torch.manual_seed(0)
    decoder = Decoder(width=4)
    for module in decoder.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            torch.nn.init.constant_(module.bias, 0.1)
    last = decoder.blocks[-1][-1]  # the RGB layer: mid-grey, varying, not clipped
    with torch.no_grad():
        last.weight.mul_(0.02)
        last.bias.fill_(0.5)
    return AnyPainting(TorchNetworks(decoder, CARD, weights=random_weights))


def _picture(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, width)[None, :, None] * np.ones((height, 1, 3))
    return Image.fromarray((0.7 * base + 0.3 * rng.uniform(0, 255, (height, width, 3))).astype(np.uint8))


def test_the_picture_has_the_asked_size(painter):
    picture = painter.paint(_picture(90, 60, 0), _picture(64, 64, 1), InstantConfig(size=75))
    assert picture.size == (75, 50)
    assert painter.paint(_picture(90, 60, 0), _picture(64, 64, 1)).size == (90, 60)


def test_strength_zero_gives_the_photo_and_strength_changes_the_picture(painter):
    photo, painting = _picture(80, 64, 2), _picture(64, 64, 3)
    same = painter.paint(photo, painting, InstantConfig(strength=0.0))
    assert np.array_equal(np.asarray(same), np.asarray(photo))
    half = np.asarray(painter.paint(photo, painting, InstantConfig(strength=0.5)), dtype=float)
    full = np.asarray(painter.paint(photo, painting, InstantConfig(strength=1.0)), dtype=float)
    assert np.abs(half - full).mean() > 0.5


def test_luminance_mode_keeps_the_photo_s_chroma(painter):
    photo, painting = _picture(64, 48, 4), _picture(64, 64, 5)
    picture = np.asarray(painter.paint(photo, painting, InstantConfig(preserve_color="luminance")), dtype=float)
    original = np.asarray(photo, dtype=float)
    # Luminance-only transfer shifts every channel of a pixel by the same amount (away from clipping).
    shift = picture - original
    inside = (picture > 2).all(-1) & (picture < 253).all(-1)
    assert np.abs(shift[..., 0] - shift[..., 1])[inside].max() <= 2.0


def test_tiles_join_into_the_whole_picture(painter):
    photo, painting = _picture(300, 200, 6), _picture(64, 64, 7)
    whole = np.asarray(painter.paint(photo, painting), dtype=float)
    tiled = np.asarray(painter.paint(photo, painting, InstantConfig(tile_size=256)), dtype=float)
    assert tiled.shape == whole.shape
    assert np.abs(tiled - whole).mean() < 1.0  # 0-255: the seams and the statistics agree


def test_a_blend_needs_one_weight_per_painting(painter):
    photo, a, b = _picture(64, 64, 8), _picture(64, 64, 9), _picture(64, 64, 10)
    only_a = painter.paint(photo, [a, b], InstantConfig(style_blend=(1.0, 0.0)))
    assert np.array_equal(np.asarray(only_a), np.asarray(painter.paint(photo, a)))
    with pytest.raises(InputError, match="weights for 2 paintings"):
        painter.paint(photo, [a, b], InstantConfig(style_blend=(1.0,)))


def test_the_painting_s_statistics_are_taken_once_per_size_for_the_last_few_paintings(painter):
    painting = _picture(64, 64, 11)
    painter._statistics.clear()
    for seed in (12, 13):
        painter.paint(_picture(64, 48, seed), painting)
    assert len(painter._statistics) == 1
    painter.kept_paintings = 2
    for seed in (14, 15, 16):
        painter.painting_statistics(_picture(40, 40, seed), 40)
    assert len(painter._statistics) == 2
    painter.kept_paintings = 8


@pytest.mark.parametrize(("changes", "message"), [
    ({"size": 8}, "size must be"), ({"stroke_scale": 0}, "stroke scale"), ({"transform": "x"}, "transform"),
    ({"style_blend": (-1.0, 2.0)}, "blend"), ({"tile_size": 100}, "tile size"),
])
def test_bad_settings_are_refused(changes, message):
    with pytest.raises(InputError, match=message):
        InstantConfig(**changes)


def test_a_decoder_file_round_trips_and_foreign_files_are_refused(tmp_path):
    torch.manual_seed(1)
    decoder = Decoder(width=4)
    path = save_decoder(decoder, CARD, tmp_path / "d.pt")
    loaded, card = load_decoder(path)
    features = torch.rand(1, 512, 4, 5) * 0.05
    with torch.no_grad():
        assert torch.allclose(loaded(features), decoder(features), atol=2e-2)  # float16 weights
    assert card == CARD
    (tmp_path / "x.pt").write_bytes(b"not a torch file")
    with pytest.raises(InputError, match="not readable"):
        load_decoder(tmp_path / "x.pt")
    torch.save({"format": "something else"}, tmp_path / "y.pt")
    with pytest.raises(InputError, match="not an nst decoder"):
        load_decoder(tmp_path / "y.pt")
