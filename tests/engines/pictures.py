"""Photo-like pictures and a tiny untrained style model for the engine and batch tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def picture(path: Path, seed: int, size: tuple[int, int] = (40, 32)) -> Path:
    rng = np.random.default_rng(seed)
    w, h = size
    x, y = np.meshgrid(np.linspace(0, 1, w), np.linspace(0, 1, h))
    base = np.stack([x, y, x * y], axis=-1) + 0.3 * rng.random((h, w, 3))
    Image.fromarray((np.clip(base, 0, 1) * 255).astype("uint8")).save(path)
    return path


def tiny_model(path: Path) -> Path:
    from nst.models.card import ModelCard
    from nst.models.network import TransformerNet
    from nst.models.store import save_model

    save_model(TransformerNet(width=4, residual_blocks=1),
               ModelCard("tiny", "x", "x.png", "0" * 16, 8, "f" * 16, 1, 1.0, "cpu", {}), path)
    return path
