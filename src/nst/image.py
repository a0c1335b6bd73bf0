"""Image files <-> tensors. The only module that knows about Pillow.

Loading applies EXIF orientation, converts any mode (grayscale, palette, CMYK, 16-bit, alpha) to
sRGB (transparency composited on white, embedded ICC profiles honoured), and refuses anything that
is not a raster image Pillow can read with one `InputError`. Saving is atomic (temporary file in
the same folder, then rename) and a PNG carries the run's settings as text metadata.
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import struct
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from nst.atomic import write_atomically
from nst.errors import InputError

if TYPE_CHECKING:  # torch is imported where tensors are made: the instant path runs without it
    import torch
    from PIL import ImageCms  # imported when a photo carries a colour profile (most do not)

#: Anything `load_image` accepts.
ImageSource = Union[str, os.PathLike, Image.Image, "torch.Tensor"]  # noqa: UP007

#: Output formats by file extension.
SAVE_FORMATS: dict[str, str] = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
#: PNG text key holding the settings.
METADATA_KEY = "nst"
#: Refuse images above this many pixels: Pillow's own decompression-bomb threshold (~89 Mpx).
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _open(source: str | os.PathLike | bytes, at_least: int | None = None) -> Image.Image:
    """Open and fully decode an image, or raise InputError naming the file and the problem.

    ``at_least``: the caller needs the longest side only this large, so a JPEG may be decoded
    at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling: a 12 Mpx photo in a fraction of the time).
    """
    name = "image data" if isinstance(source, bytes) else f"'{source}'"
    if not isinstance(source, bytes):
        path = Path(source)
        try:  # a name too long for the file system raises here, not in Image.open
            if not path.exists():
                raise InputError(f"image {name} does not exist")
            if path.is_dir():
                raise InputError(f"image {name} is a directory, not a file")
            if path.stat().st_size == 0:
                raise InputError(f"image {name} is empty (0 bytes)")
        except OSError as exc:
            raise InputError(f"image {name} cannot be read: {exc.strerror or _one_line(exc)}") from None
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than fails) between 1x and 2x its limit; we refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
            if image.width * image.height > MAX_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            if at_least and image.format == "JPEG" and max(image.size) > 2 * at_least:
                factor = at_least / max(image.size)
                image.draft(image.mode, (math.ceil(image.width * factor), math.ceil(image.height * factor)))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(
            f"image {name} is too large (over {MAX_PIXELS:,} pixels; a decompression bomb?)"
        ) from None
    except UnidentifiedImageError:
        raise InputError(f"image {name} is not a raster image Pillow can read") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, MemoryError) as exc:
        reason = "truncated or corrupt" if "truncat" in str(exc).lower() else f"unreadable: {_one_line(exc)}"
        raise InputError(f"image {name} is {reason}") from None
    except Exception as exc:  # Pillow's plugins raise assorted types on malformed data
        raise InputError(f"image {name} is unreadable: {_one_line(exc)}") from None
    return image


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def to_srgb(image: Image.Image) -> Image.Image:
    """Any Pillow image -> 8-bit RGB in sRGB: orientation, ICC, mode and alpha handled."""
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # a malformed EXIF block should not make a readable image unusable
        pass
    icc = image.info.get("icc_profile")
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit and float grayscale: scale to 8 bits by the mode's range, not by clipping.
        import numpy as np

        array = np.asarray(image, dtype=np.float64)
        top = 1.0 if image.mode == "F" else (65535.0 if array.max(initial=0) > 255 else 255.0)
        image = Image.fromarray((np.clip(array / top, 0, 1) * 255).round().astype("uint8"), "L")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    if icc:
        from PIL import ImageCms

        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            mode = image.mode if image.mode in ("RGB", "CMYK", "L") else "RGB"
            image = ImageCms.profileToProfile(image.convert(mode), profile, _srgb_profile(), outputMode="RGB")
        except Exception:  # an unusable profile: fall back to the plain conversion below
            pass
    return image.convert("RGB")


def load_pil(source: str | os.PathLike | bytes | Image.Image, at_least: int | None = None) -> Image.Image:
    """Read an image (path, bytes or PIL image) as an sRGB RGB PIL image.

    ``at_least``: a hint that the longest side will be reduced to this many px; large JPEGs are
    then decoded at a reduced scale no smaller than that (faster, same picture after resizing).
    """
    image = source if isinstance(source, Image.Image) else _open(source, at_least)
    rgb = to_srgb(image)
    if min(rgb.size) < 1:
        raise InputError("image has no pixels")
    return rgb


def scaled_size(width: int, height: int, longest: int) -> tuple[int, int]:
    """(w, h) with the longest side ``longest``, keeping the aspect ratio (each side >= 1)."""
    factor = longest / max(width, height)
    return max(1, round(width * factor)), max(1, round(height * factor))


def resize_longest(image: Image.Image, longest: int) -> Image.Image:
    """Resize so the longest side is ``longest`` px (Lanczos, which suits down- and upscaling)."""
    size = scaled_size(*image.size, longest)
    return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    """RGB PIL image -> (1, 3, H, W) float32 in [0, 1]."""
    import torch

    data = torch.frombuffer(bytearray(image.convert("RGB").tobytes()), dtype=torch.uint8)
    return (
        data.view(image.height, image.width, 3).permute(2, 0, 1).unsqueeze(0).float() / 255.0
    ).contiguous()


def tensor_to_pil(tensor: torch.Tensor) -> Image.Image:
    """(1, 3, H, W) or (3, H, W) tensor in [0, 1] -> RGB PIL image (clamped, rounded)."""
    import torch

    t = tensor.detach().to("cpu", torch.float32)
    if t.dim() == 4:
        if t.shape[0] != 1:
            raise InputError(f"expected one image, got a batch of {t.shape[0]}")
        t = t[0]
    if t.dim() != 3 or t.shape[0] != 3:
        raise InputError(f"expected a (3, H, W) image tensor, got shape {tuple(tensor.shape)}")
    array = (t.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).contiguous()
    return Image.frombytes("RGB", (array.shape[1], array.shape[0]), array.numpy().tobytes())


def load_image(source: ImageSource, size: int | None = None) -> torch.Tensor:
    """Any accepted source -> (1, 3, H, W) float32 RGB in [0, 1], longest side ``size`` if given.

    A tensor is taken as already being RGB in [0, 1], shaped (3, H, W) or (1, 3, H, W); it is
    copied, never modified.
    """
    import torch

    if isinstance(source, torch.Tensor):
        t = source.detach().float()
        if t.dim() == 3:
            t = t.unsqueeze(0)
        if t.dim() != 4 or t.shape[:2] != (1, 3):
            raise InputError(f"expected a (3, H, W) or (1, 3, H, W) tensor, got {tuple(source.shape)}")
        if not torch.isfinite(t).all():
            raise InputError("image tensor holds NaN or infinite values")
        t = t.clamp(0, 1)
        if size is not None and max(t.shape[-2:]) != size:
            h, w = t.shape[-2:]
            new_w, new_h = scaled_size(w, h, size)
            t = torch.nn.functional.interpolate(
                t, size=(new_h, new_w), mode="bicubic", antialias=True, align_corners=False
            )
            t = t.clamp(0, 1)
        return t.clone()
    image = load_pil(source)
    if size is not None:
        image = resize_longest(image, size)
    return pil_to_tensor(image)


def output_format(path: str | os.PathLike) -> str:
    """The Pillow format for an output path, or InputError for an unsupported extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in SAVE_FORMATS:
        raise InputError(
            f"output '{path}' has unsupported extension {suffix or '(none)'!r}; use one of "
            + ", ".join(sorted(set(SAVE_FORMATS)))
        )
    return SAVE_FORMATS[suffix]


def save_image(
    image: Image.Image | torch.Tensor,
    path: str | os.PathLike,
    metadata: Mapping[str, Any] | None = None,
    fast: bool = False,
) -> Path:
    """Write atomically: the file at ``path`` is either the old one or the complete new one.

    ``metadata`` (JSON-serialisable) goes into a PNG text chunk, or a comment where the format
    has one (JPEG, WebP via EXIF is not used: their readers rarely show it). ``fast`` trades
    PNG size for speed (zlib level 1: about 3x faster, about 15% larger), for instant outputs.
    """
    path = Path(path)
    fmt = output_format(path)
    if not path.parent.exists():
        raise InputError(f"output folder '{path.parent}' does not exist")
    pil = image.convert("RGB") if isinstance(image, Image.Image) else tensor_to_pil(image)
    options: dict[str, Any] = {}
    text = json.dumps(dict(metadata), sort_keys=True) if metadata else None
    if fmt == "PNG" and text:
        info = PngImagePlugin.PngInfo()
        info.add_text(METADATA_KEY, text)
        options["pnginfo"] = info
    if fmt == "PNG" and fast:
        options["compress_level"] = 1
    elif fmt == "JPEG":
        options.update(quality=95, subsampling=0)
        if text:
            options["comment"] = text.encode()
    elif fmt == "WEBP":
        options.update(quality=95)
    try:
        write_atomically(path, lambda handle: pil.save(handle, format=fmt, **options), mode=0o644)
    except PermissionError:
        raise InputError(f"no permission to write '{path}'") from None
    return path


def read_metadata(path: str | os.PathLike) -> dict[str, Any] | None:
    """The settings stored by `save_image`, or None if the file carries none."""
    image = _open(path)
    text = getattr(image, "text", {}).get(METADATA_KEY) if hasattr(image, "text") else None
    if text is None:
        comment = image.info.get("comment")
        text = comment.decode(errors="replace") if isinstance(comment, bytes) else comment
    if not text:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None
