"""An upload, judged by its bytes: an allowed format, the pixel count its header declares (before
anything is decoded), a usable shape, then a complete decode. The file name and the declared
content type are never looked at."""

from __future__ import annotations

import io
import warnings

from PIL import Image

import nst
from nst.image import load_pil, resize_longest
from nst.optimise.validation import MAX_ASPECT_RATIO
from nst.web.guard import Limits, in_bytes

#: Formats a browser user is likely to have. Others (EPS, PSD, ICNS...) are refused: Pillow's
#: rarer decoders are a larger attack surface, and EPS would even run Ghostscript.
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")


class TooLarge(nst.InputError):
    """More bytes than the server takes (answered 413, not 400)."""


def read_upload(data: bytes, limits: Limits) -> Image.Image:
    """Validated RGB image from uploaded bytes, at most ``limits.max_size`` px on its longest side.

    Accepted when Pillow identifies the bytes as one of `ALLOWED_FORMATS`, the header declares at
    most ``limits.max_pixels`` (checked before decoding, so a decompression bomb costs nothing)
    and a usable shape, and `nst.image.load_pil` decodes it completely. The file name and the
    declared content type are never looked at. Raises `nst.InputError` (one line).
    """
    if not data:
        raise nst.InputError("the upload is empty")
    if len(data) > limits.max_upload_bytes:
        raise TooLarge(f"the upload is over {in_bytes(limits.max_upload_bytes)}")
    size = _declared_size(data, limits.max_pixels)
    if size is None:
        raise nst.InputError(
            f"the upload is not an image in a supported format ({', '.join(ALLOWED_FORMATS)})"
        )
    width, height = size
    if width * height > limits.max_pixels:
        raise nst.InputError(
            f"the image is {width}x{height} ({width * height / 1e6:.1f} Mpx): too many pixels; the "
            f"limit is {limits.max_pixels / 1e6:.1f} Mpx"
        )
    if min(width, height) < 1 or max(width, height) / min(width, height) > MAX_ASPECT_RATIO:
        raise nst.InputError(
            f"the image is {width}x{height}: more elongated than {MAX_ASPECT_RATIO:g}:1, which no job can use"
        )
    image = load_pil(data)
    # Nothing can use more than the largest output size, so keep no more than that on disk.
    return resize_longest(image, limits.max_size) if max(image.size) > limits.max_size else image


def _declared_size(data: bytes, max_pixels: int) -> tuple[int, int] | None:
    """(width, height) from the header of an image in an allowed format, else None. Decodes nothing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the pixel limit is ours; Pillow's warning is noise
            with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as probe:
                return probe.size
    except Image.DecompressionBombError:
        # Over twice Pillow's own limit, `Image.open` refuses before saying how large: ask the
        # format's reader for its header alone (what `Image.open` itself does first).
        Image.init()
        for name in ALLOWED_FORMATS:
            factory, accept = Image.OPEN[name]
            try:
                accepted = accept is None or accept(data[:16])
                if accepted and not isinstance(accepted, str):
                    with factory(io.BytesIO(data), None) as probe:
                        return probe.size
            except Exception:
                continue
        raise nst.InputError(
            f"the image has over {2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} Mpx: too many pixels; "
            f"the limit is {max_pixels / 1e6:.1f} Mpx"
        ) from None
    except Exception:
        return None
