"""Overlapping tiles for sizes whose whole-image VGG pass would not fit in memory.

A level too large to optimise at once is optimised tile by tile. Each tile starts from the
current picture (so it continues what its neighbours painted), is matched to the style's Gram
statistics of the whole level, and is pasted back with a linear ramp across the overlap, which
hides the seams. Memory is then bounded by the tile size, not the image size.
"""

from __future__ import annotations

import torch


def overlap_for(tile: int) -> int:
    """Pixels shared by neighbouring tiles: an eighth of the tile, enough for a smooth ramp."""
    return max(16, tile // 8)


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of ``tile`` px covering ``length`` px with at least ``overlap`` shared."""
    if length <= tile:
        return [0]
    stride = tile - overlap
    count = -(-(length - overlap) // stride)  # ceil
    # Spread the tiles evenly so that every overlap is at least ``overlap`` px.
    step = (length - tile) / (count - 1)
    return [round(i * step) for i in range(count)]


def tile_boxes(height: int, width: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(top, left, bottom, right) of every tile, row by row."""
    return [
        (top, left, min(top + tile, height), min(left + tile, width))
        for top in tile_starts(height, tile, overlap)
        for left in tile_starts(width, tile, overlap)
    ]


def feather(box: tuple[int, int, int, int], height: int, width: int, overlap: int) -> torch.Tensor:
    """(1, 1, h, w) weights: 1 inside, ramping down to 0 over ``overlap`` px at edges shared with
    other tiles (not at the picture's own border)."""
    top, left, bottom, right = box
    h, w = bottom - top, right - left

    def ramp(size: int, open_start: bool, open_end: bool) -> torch.Tensor:
        weights = torch.ones(size)
        span = min(overlap, size // 2)
        if span > 0:
            rising = torch.linspace(0, 1, span + 2)[1:-1]
            if open_start:
                weights[:span] = rising
            if open_end:
                weights[-span:] = torch.minimum(weights[-span:], rising.flip(0))
        return weights

    rows = ramp(h, top > 0, bottom < height)
    cols = ramp(w, left > 0, right < width)
    return (rows.view(-1, 1) * cols.view(1, -1)).view(1, 1, h, w)


def paste(canvas: torch.Tensor, tile: torch.Tensor, box: tuple[int, int, int, int], overlap: int) -> None:
    """Blend ``tile`` into ``canvas`` (in place, on a canvas the caller owns) at ``box``."""
    top, left, bottom, right = box
    weights = feather(box, canvas.shape[-2], canvas.shape[-1], overlap).to(canvas)
    region = canvas[..., top:bottom, left:right]
    region.mul_(1 - weights).add_(tile * weights)
