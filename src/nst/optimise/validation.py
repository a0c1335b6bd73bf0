"""Checks of a run's inputs and options that must pass before any slow work starts."""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch
from PIL import Image

from nst.errors import InputError
from nst.image import scaled_size
from nst.optimise.config import StyleConfig
from nst.vgg.features import deepest

#: More elongated images are refused: almost surely a mistake (a strip, a banner), and their
#: short side is too small for the network at any sensible size.
MAX_ASPECT_RATIO = 20.0


def dimensions(source: Image.Image | torch.Tensor) -> tuple[int, int]:
    if isinstance(source, torch.Tensor):
        if source.dim() not in (3, 4):
            raise InputError(f"expected a (3, H, W) or (1, 3, H, W) tensor, got {tuple(source.shape)}")
        return int(source.shape[-1]), int(source.shape[-2])
    return source.size


def check_inputs(
    config: StyleConfig,
    plan: list[tuple[int, int]],
    content: Image.Image | torch.Tensor,
    styles: list[Image.Image | torch.Tensor],
) -> None:
    """Refuse, before any slow work, images the network cannot see at some scale of this run."""
    from nst.optimise.memory import min_side

    if config.init == "noise" and config.seed >= 2**64:
        raise InputError(f"seed must be below 2**64 for a noise start, got {config.seed}")
    need = min_side(config)
    layer = deepest(config.feature_layers)
    checks = [("content image", content, [size for size, _ in plan])]
    for number, source in enumerate(styles, start=1):
        name = "style image" if len(styles) == 1 else f"style image {number}"
        checks.append((name, source, [config.style_longest_side(size, plan[-1][0]) for size, _ in plan]))
    for name, source, sides in checks:
        width, height = dimensions(source)
        if min(width, height) < 1:
            raise InputError(f"{name} has no pixels")
        ratio = max(width, height) / min(width, height)
        if ratio > MAX_ASPECT_RATIO:
            raise InputError(
                f"{name} is {width}x{height} px, an aspect ratio of {ratio:.0f}:1; "
                f"more than {MAX_ASPECT_RATIO:g}:1 is refused"
            )
        for longest in sides:
            w, h = scaled_size(width, height, longest)
            if min(w, h) < need:
                hint = "a larger size or fewer scales" if len(plan) > 1 else "a larger size"
                raise InputError(
                    f"{name} would be {w}x{h} px at {longest} px, too small for layer {layer}, "
                    f"which needs at least {need} px per side; use {hint}"
                )


def check_checkpoint_options(
    checkpoint: str | os.PathLike | None,
    every: int | None,
    seconds: float | None,
    resume: bool,
) -> None:
    if resume and checkpoint is None:
        raise InputError("resume needs the checkpoint to resume from")
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 0):
        raise InputError(f"checkpoint_every must be a whole number >= 0, got {every!r}")
    if seconds is not None and (
        not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0
    ):
        raise InputError(f"checkpoint_seconds must be a finite number >= 0, got {seconds!r}")
    if checkpoint is not None and not Path(checkpoint).parent.is_dir():
        raise InputError(f"checkpoint folder '{Path(checkpoint).parent}' does not exist")
