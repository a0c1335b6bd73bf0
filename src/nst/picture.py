"""The photo in and the picture out, without torch: output size, the mirrored border, strength and colour.

Every engine that paints with a network (the style models on torch or onnxruntime, the
any-painting decoders) sizes the photo, mirrors its edges and finishes the picture here, so a
``--strength`` or ``--preserve-color`` means the same whichever painted it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PIL import Image

from nst.errors import InputError

#: Longest side when the caller gives no size: the photo's own, capped here (a 24 Mpx photo would
#: otherwise take seconds and gigabytes; `--size` goes past it, tiled when needed).
DEFAULT_MAX_SIZE = 2048
PRESERVE_COLOR_MODES = ("none", "luminance")
#: Photos with more pixels than this are painted in tiles by the torch engine (whole, the
#: network's activations would take about 1.3 GB per 2304 x 2304 px; see nst.models.torch_model).
TILE_ABOVE_PIXELS = 2304 * 2304
#: px of photo mirrored around every picture before painting, and cut off after. The zero padding
#: inside the network leaves a band along a picture's edges; with 16 px of mirrored photo the band
#: falls outside the picture (about 15% more work at 512 px).
BORDER = 16

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
                         f"got {preserve_color!r}")


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
