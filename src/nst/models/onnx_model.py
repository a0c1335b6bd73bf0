"""Painting with a style model, without torch: onnxruntime, NumPy and Pillow only.

This is the instant path: ``nst stylize photo.jpg --model starry-night`` runs here, and so does
the Python API when onnxruntime is installed, because importing torch alone takes longer (about
1.4 s on a 2-core CPU) than painting a 512 px picture. `nst.models.torch_model` runs the same networks
in torch (GPUs, tiling, training previews) and shares `prepare` and `finish` with this module,
so both paths give the same picture.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from nst.errors import InputError
from nst.models.card import ModelCard
from nst.picture import TILE_ABOVE_PIXELS, as_pil, check_options, finish, prepare, with_border, without_border

#: ONNX metadata key holding the model card (JSON).
CARD_KEY = "nst_model_card"


class OnnxStyleModel:
    """A style model exported to ONNX, run with onnxruntime on the CPU.

    Args:
        path: the ``.onnx`` file (``nst export`` writes one; bundled models ship one).
        threads: intra-op threads (None: onnxruntime's default, one per core).
        torch_path: the same model as a torch file; photos above `TILE_ABOVE_PIXELS` are then
            painted by the torch engine in tiles (bounded memory) instead of whole.
        busy_wait: onnxruntime's threads spin while they wait for work, the fastest when the model
            has the cores to itself; False when other threads share them (``nst video``'s optical
            flow: spinning threads took its CPU, 0.76 of the model's throughput instead of 0.82).
    """

    def __init__(self, path: str | os.PathLike, threads: int | None = None,
                 torch_path: str | os.PathLike | None = None, busy_wait: bool = True):
        try:
            import onnxruntime as ort
        except ImportError:
            raise InputError("onnxruntime is not installed (pip install onnxruntime)") from None
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"model file '{self.path}' does not exist")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        if not busy_wait:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise InputError(f"'{self.path}' is not a usable ONNX style model: {first[:160]}") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise InputError(f"'{self.path}' is not an nst style model (expects one image input)")
        self.input_name = inputs[0].name
        meta = self.session.get_modelmeta().custom_metadata_map
        try:
            self.card = ModelCard.from_dict(json.loads(meta[CARD_KEY]))
        except (KeyError, TypeError, ValueError):
            raise InputError(f"'{self.path}' is an ONNX file without an nst model card "
                             "(export models with 'nst export')") from None
        self.torch_path = Path(torch_path) if torch_path is not None else None
        self._tiler: Any = None

    def run(self, photo: np.ndarray) -> np.ndarray:
        """(1, 3, H, W) float32 in [0, 1] -> the network's raw (1, 3, H, W) output."""
        return self.session.run(None, {self.input_name: photo})[0]

    def paint(
        self,
        photo: Any,
        size: int | None = None,
        strength: float = 1.0,
        preserve_color: str = "none",
        tile_size: int | None = None,
    ) -> Image.Image:
        """Paint a photo (a path, a PIL image or a (1, 3, H, W) tensor in [0, 1]) at ``size`` px
        on its longest side (default: its own size, capped at `DEFAULT_MAX_SIZE`); see `finish`
        for ``strength`` and ``preserve_color``. Photos above `TILE_ABOVE_PIXELS`, or any photo
        with ``tile_size``, go to the torch engine's tiles when the model has a torch file."""
        check_options(strength, preserve_color)
        pil = as_pil(photo, size)
        array = prepare(pil, size)
        huge = array.shape[-2] * array.shape[-1] > TILE_ABOVE_PIXELS
        if (huge or tile_size) and self.torch_path is not None:
            if self._tiler is None:  # torch only for the rare huge photo
                from nst.models.torch_model import StyleModel

                self._tiler = StyleModel.load(self.torch_path)
            return self._tiler.paint(pil, size, strength, preserve_color, tile_size=tile_size)
        if tile_size:
            raise InputError(f"'{self.path}' is an ONNX file: tiles need the model's .pt file")
        return finish(array, without_border(self.run(with_border(array))), strength, preserve_color)

    @property
    def name(self) -> str:
        return self.card.name
