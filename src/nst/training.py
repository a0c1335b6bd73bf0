"""What the two trainers share (style models, nst.models.train; the any-painting decoder,
nst.universal.train): the photos and their random crops, the coarse-to-fine stages, checkpoints.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from nst.errors import InputError
from nst.image import load_pil, pil_to_tensor

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


@dataclass(frozen=True)
class PhotoSet:
    """The usable training photos (decoded once, shorter side reduced) and the files skipped."""

    images: list[Image.Image]
    names: list[str]
    skipped: list[str]

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256("\n".join(self.names).encode()).hexdigest()[:16]


def load_photos(folder: str | os.PathLike, shorter_side: int) -> PhotoSet:
    """Every readable picture in ``folder`` (sorted by name), reduced so its shorter side is at
    most ``shorter_side``. Files that are not pictures or cannot be decoded are skipped and listed.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"photos folder '{root}' does not exist or is not a folder")
    images: list[Image.Image] = []
    names: list[str] = []
    skipped: list[str] = []
    for path in sorted(p for p in root.iterdir() if p.is_file()):
        if path.suffix.lower() not in PHOTO_SUFFIXES:
            if not path.name.startswith(".") and path.name.lower() not in ("readme.md", "readme.txt"):
                skipped.append(path.name)
            continue
        try:
            image = load_pil(path)
        except InputError:
            skipped.append(path.name)
            continue
        if min(image.size) < 32:
            skipped.append(path.name)
            continue
        scale = shorter_side / min(image.size)
        if scale < 1:
            image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                                 Image.Resampling.LANCZOS)
        images.append(image)
        names.append(path.name)
    return PhotoSet(images, names, skipped)


def random_crops(photos: Sequence[Image.Image], size: int, count: int, rng: random.Random) -> torch.Tensor:
    """``count`` random square crops, each resized to ``size`` px and randomly mirrored."""
    crops = []
    for _ in range(count):
        photo = photos[rng.randrange(len(photos))]
        short = min(photo.size)
        side = rng.randint(max(32, int(short * 0.6)), short)
        left = rng.randint(0, photo.width - side)
        top = rng.randint(0, photo.height - side)
        crop = photo.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BICUBIC)
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        crops.append(pil_to_tensor(crop))
    return torch.cat(crops)


def file_fingerprint(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def stage_of(step: int, iterations: tuple[int, ...]) -> int:
    """The stage (index into the sizes) that step number ``step`` (0-based) belongs to."""
    edge = 0
    for stage, count in enumerate(iterations):
        edge += count
        if step < edge:
            return stage
    return len(iterations) - 1


def read_checkpoint(path: Path, form: str, version: int, what: str) -> dict[str, Any]:
    """A training checkpoint written by torch.save, checked for its ``form`` and ``version``."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file
        raise InputError(f"training checkpoint '{path}' cannot be read ({type(exc).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != form:
        raise InputError(f"'{path}' is not an nst {what} checkpoint")
    if state.get("version") != version:
        raise InputError(f"training checkpoint '{path}' has version {state.get('version')}, this nst reads {version}")
    return state


def rng_to_list(state: tuple[Any, ...]) -> list[Any]:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def rng_from_list(data: list[Any]) -> tuple[Any, ...]:
    version, internal, gauss = data
    return (version, tuple(internal), gauss)
