"""Made-up photos, a striped painting and a tiny untrained style model, for the tests of style
models (`nst.models`) and of the commands that use them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from nst.models.card import ModelCard
from nst.models.config import TrainConfig
from nst.models.network import TransformerNet
from nst.models.store import save_model

#: A training run that takes about a second: 64 px crops, a 4-channel network with one block, the
#: loss network's first two blocks.
TINY = TrainConfig(sizes=(64,), iterations=(6,), batch_size=1, width=4, residual_blocks=1, lr=1e-2,
                   content_layers=("conv2_2",), style_layers=("conv1_1", "conv2_1"),
                   style_size=64, precision="fp32", preview_every=0, min_photos=3, checkpoint_seconds=3600)


def picture(seed: int, size: tuple[int, int] = (80, 64)) -> Image.Image:
    """A photo-like picture: smooth colour gradients, a disc and a little noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    base = np.stack([x, y, 1 - x * y], axis=-1) * rng.uniform(0.5, 1, 3)
    disc = ((x - rng.uniform(0.2, 0.8)) ** 2 + (y - rng.uniform(0.2, 0.6)) ** 2) < 0.04
    base[disc] = rng.uniform(0, 1, 3)
    base += rng.normal(0, 0.03, base.shape)
    return Image.fromarray((np.clip(base, 0, 1) * 255).astype(np.uint8), "RGB")


def make_photos(folder: Path) -> Path:
    """Eight photos, a text file and a broken JPEG in ``folder``."""
    folder.mkdir()
    for i in range(8):
        picture(i).save(folder / f"photo{i}.jpg")
    (folder / "notes.txt").write_text("not a picture")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return folder


def make_style(path: Path) -> Path:
    """A striped painting."""
    rng = np.random.default_rng(7)
    stripes = np.zeros((64, 64, 3))
    stripes[::4] = [0.9, 0.8, 0.1]
    stripes[1::4] = [0.1, 0.2, 0.8]
    stripes += rng.normal(0, 0.05, stripes.shape)
    Image.fromarray((np.clip(stripes, 0, 1) * 255).astype(np.uint8)).save(path)
    return path


def make_tiny_model(path: Path) -> Path:
    """An untrained style model, 4 channels wide with one residual block."""
    torch.manual_seed(0)
    net = TransformerNet(width=4, residual_blocks=1)
    card = ModelCard("tiny", "stripes", "style.png", "0" * 16, 8, "f" * 16, 6, 1.0, "cpu", TINY.to_dict())
    return save_model(net, card, path)
