"""Painting with a style model, without torch: onnxruntime, NumPy and Pillow only.

This is the instant path: ``nst stylize photo.jpg --model starry-night`` runs here, and so does
the Python API when onnxruntime is installed, because importing torch alone takes longer (about
1.4 s on a 2-core CPU) than painting a 512 px picture. `nst.models.apply` runs the same networks
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

#: Longest side when the caller gives no size: the photo's own, capped here (a 24 Mpx photo would
#: otherwise take seconds and gigabytes; `--size` goes past it, tiled when needed).
DEFAULT_MAX_SIZE = 2048
PRESERVE_COLOR_MODES = ("none", "luminance")
#: Photos with more pixels than this are painted in tiles by the torch engine (whole, the
#: network's activations would take about 1.3 GB per 2304 x 2304 px; see nst.models.apply).
TILE_ABOVE_PIXELS = 2304 * 2304
#: px of photo mirrored around every picture before painting, and cut off after. The zero padding
#: inside the network leaves a band along a picture's edges; with 16 px of mirrored photo the band
#: falls outside the picture (about 15% more work at 512 px).
BORDER = 16
#: ONNX metadata key holding the model card (JSON).
CARD_KEY = "nst_model_card"

# ITU-R BT.601 luma (as nst.color's YIQ): luminance-only transfer keeps the photo's chroma.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def output_size(width: int, height: int, size: int | None) -> tuple[int, int]:
    """(w, h) of the painted picture: longest side ``size``, or the photo's own capped at
    `DEFAULT_MAX_SIZE`."""
    longest = size if size is not None else min(max(width, height), DEFAULT_MAX_SIZE)
    if longest < 16:
        raise InputError(f"size must be at least 16 px, got {longest}")
    factor = longest / max(width, height)
    return max(1, round(width * factor)), max(1, round(height * factor))


def prepare(photo: Image.Image, size: int | None) -> np.ndarray:
    """RGB PIL photo -> (1, 3, H, W) float32 in [0, 1] at the output size."""
    w, h = output_size(*photo.size, size)
    if (w, h) != photo.size:
        photo = photo.resize((w, h), Image.Resampling.LANCZOS)
    array = np.asarray(photo.convert("RGB"), dtype=np.float32) / 255.0
    return np.ascontiguousarray(array.transpose(2, 0, 1)[None])


def as_pil(photo: Any, size: int | None = None) -> Image.Image:
    """A path, PIL image or (1, 3, H, W) / (3, H, W) tensor in [0, 1] -> an RGB PIL image."""
    if isinstance(photo, Image.Image):
        return photo.convert("RGB")
    if isinstance(photo, (str, os.PathLike)):
        from nst.image import load_pil

        return load_pil(photo, at_least=size or DEFAULT_MAX_SIZE)
    if hasattr(photo, "detach"):  # a torch tensor; torch is loaded already if one exists
        from nst.image import tensor_to_pil

        return tensor_to_pil(photo[0] if photo.dim() == 4 else photo)
    raise InputError(f"a photo must be a path, a PIL image or a tensor, not {type(photo).__name__}")


def with_border(photo: np.ndarray) -> np.ndarray:
    """(1, 3, H, W) -> (1, 3, H + 2 * BORDER, W + 2 * BORDER), the photo mirrored at its edges."""
    return np.pad(photo, ((0, 0), (0, 0), (BORDER, BORDER), (BORDER, BORDER)), mode="symmetric")


def without_border(painted: np.ndarray) -> np.ndarray:
    return painted[..., BORDER:-BORDER, BORDER:-BORDER]


def check_options(strength: float, preserve_color: str) -> None:
    if not 0.0 <= strength <= 1.0:
        raise InputError(f"strength must be between 0 (the photo) and 1 (the full style), got {strength}")
    if preserve_color not in PRESERVE_COLOR_MODES:
        raise InputError(f"preserve_color must be one of {', '.join(PRESERVE_COLOR_MODES)} "
                         f"for a style model, got {preserve_color!r}")


def finish(photo: np.ndarray, painted: np.ndarray, strength: float = 1.0, preserve_color: str = "none") -> Image.Image:
    """The network's output (1, 3, H, W) -> the final RGB picture.

    ``preserve_color="luminance"`` keeps the photo's colours: the painting's luma with the photo's
    chroma (each pixel shifted by the luma difference, which is exactly YIQ recombination).
    ``strength`` blends with the photo: 0 gives the photo, 1 the full style.
    """
    painted = np.clip(painted, 0.0, 1.0)
    if preserve_color == "luminance":
        luma_shift = np.tensordot(_LUMA, painted[0] - photo[0], axes=1)
        painted = photo + luma_shift[None, None]
    if strength < 1.0:
        painted = strength * painted + (1.0 - strength) * photo
    pixels = (np.clip(painted[0], 0.0, 1.0).transpose(1, 2, 0) * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


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
                from nst.models.apply import StyleModel

                self._tiler = StyleModel.load(self.torch_path)
            return self._tiler.paint(pil, size, strength, preserve_color, tile_size=tile_size)
        if tile_size:
            raise InputError(f"'{self.path}' is an ONNX file: tiles need the model's .pt file")
        return finish(array, without_border(self.run(with_border(array))), strength, preserve_color)

    @property
    def name(self) -> str:
        return self.card.name
