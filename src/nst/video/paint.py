"""A style model as a frame painter: (H, W, 3) uint8 in, (H, W, 3) float32 in [0, 1] out."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image


class ModelPainter:
    """Paints frames at their own size with a model from `nst.load_style_model` (onnxruntime for
    bundled and ONNX models: no torch), with the model's ``strength`` and ``preserve_color``."""

    def __init__(self, model: Any, strength: float = 1.0, preserve_color: str = "none"):
        self.model = model
        self.strength = strength
        self.preserve_color = preserve_color

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        picture = self.model.paint(Image.fromarray(rgb, "RGB"), max(w, h), self.strength, self.preserve_color)
        return np.asarray(picture, dtype=np.float32) / 255.0
