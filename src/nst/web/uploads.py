"""Checking an upload by what it is, not by what it is called.

A file is accepted when Pillow identifies it as one of a few raster formats from its bytes, its
header declares no more than the pixel limit (checked before decoding, so a decompression bomb
costs nothing), and `nst.image.load_pil` decodes it completely. The file name and the declared
content type are never looked at.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

import nst
from nst.image import load_pil, resize_longest

#: Formats a browser user is likely to have. Others (EPS, PSD, ICNS...) are refused: Pillow's
#: rarer decoders are a larger attack surface, and EPS would even run Ghostscript.
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")


def read_upload(data: bytes, *, max_pixels: int, max_side: int) -> Image.Image:
    """Validated RGB image from uploaded bytes, at most ``max_side`` px on its longest side.

    Raises `nst.InputError` (one line) for anything that is not an acceptable picture.
    """
    if not data:
        raise nst.InputError("the upload is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the pixel limit below is ours; Pillow's warning is noise
            with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as probe:
                width, height = probe.size
    except Exception:
        raise nst.InputError(
            f"the upload is not an image in a supported format ({', '.join(ALLOWED_FORMATS)})"
        ) from None
    if width * height > max_pixels:
        raise nst.InputError(
            f"the image is {width}x{height} ({width * height / 1e6:.1f} Mpx); the limit is "
            f"{max_pixels / 1e6:.1f} Mpx"
        )
    image = load_pil(data)
    # Nothing can use more than the largest output size, so keep no more than that on disk.
    return resize_longest(image, max_side) if max(image.size) > max_side else image
