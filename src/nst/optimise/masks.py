"""Spatial control (Gatys et al. 2017, "Controlling Perceptual Factors", section 4): a mask image
says which style paints which part of the photo, and which parts keep the photo.

Mask colours, in order: white paints with the first style, red with the second, then green,
blue, yellow, cyan, magenta; black keeps the photograph unstylized. Anti-aliased edges are
snapped to the nearest of these colours; anything far from all of them is refused.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from PIL import Image

from nst.errors import InputError

KEEP_PHOTO = ("black", (0, 0, 0))
STYLE_COLOURS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("white", (255, 255, 255)),
    ("red", (255, 0, 0)),
    ("green", (0, 255, 0)),
    ("blue", (0, 0, 255)),
    ("yellow", (255, 255, 0)),
    ("cyan", (0, 255, 255)),
    ("magenta", (255, 0, 255)),
)
#: How far (Euclidean, 0-255 RGB) a pixel may be from a mask colour and still count as it.
SNAP_DISTANCE = 100.0
#: Largest allowed difference between the mask's and the photo's aspect ratios.
ASPECT_TOLERANCE = 0.02


def mask_regions(mask: Image.Image, styles: int, content_size: tuple[int, int]) -> torch.Tensor:
    """One-hot regions (1 + styles, H, W) at the mask's resolution: channel 0 keeps the photo,
    channel i is painted with style i. Raises `InputError` for a mask that does not fit."""
    if styles > len(STYLE_COLOURS):
        raise InputError(f"a mask can address at most {len(STYLE_COLOURS)} styles, got {styles}")
    mask_aspect = mask.width / mask.height
    content_aspect = content_size[0] / content_size[1]
    if abs(mask_aspect / content_aspect - 1) > ASPECT_TOLERANCE:
        raise InputError(
            f"mask is {mask.width}x{mask.height} but the photo is {content_size[0]}x{content_size[1]}: "
            "their aspect ratios differ"
        )
    pixels = torch.frombuffer(bytearray(mask.convert("RGB").tobytes()), dtype=torch.uint8)
    pixels = pixels.view(-1, 3).float()
    colours = [KEEP_PHOTO] + list(STYLE_COLOURS)
    palette = torch.tensor([rgb for _, rgb in colours], dtype=torch.float32)
    distance = torch.cdist(pixels, palette)
    nearest_distance, nearest = distance.min(dim=1)
    stray = int((nearest_distance > SNAP_DISTANCE).sum())
    if stray:
        raise InputError(
            f"mask has {stray} pixel(s) far from every mask colour (black, "
            + ", ".join(name for name, _ in STYLE_COLOURS)
            + ")"
        )
    used = sorted(set(nearest.unique().tolist()))
    unmapped = [colours[i][0] for i in used if i > styles]
    if unmapped:
        raise InputError(
            f"mask colour(s) {', '.join(unmapped)} map to no style: {styles} style image(s) given "
            f"({', '.join(name for name, _ in STYLE_COLOURS[:styles])})"
        )
    if not any(0 < i <= styles for i in used):
        raise InputError("mask is all black: no region is given a style")
    onehot = F.one_hot(nearest, num_classes=len(colours))[:, : styles + 1].float()
    return onehot.T.reshape(styles + 1, mask.height, mask.width)


def resize_regions(regions: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Regions at (height, width) as soft weights (area averaging keeps edges smooth), (1+S, h, w)."""
    resized = F.interpolate(regions.unsqueeze(0), size=(height, width), mode="area")[0]
    return resized / resized.sum(dim=0, keepdim=True).clamp(min=1e-6)
