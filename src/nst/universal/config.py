"""Every default of training the any-painting decoder, once (`nst train-decoder` reads them here)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from nst.errors import InputError
from nst.fields import setting

#: How the photo's features take the painting's statistics (nst.universal.transforms).
TRANSFORMS = ("wct", "adain")


@dataclass(frozen=True)
class InstantConfig:
    """Settings of painting one photo in the style of any painting (``nst stylize --instant``)."""

    # Longest side of the picture in px; None: the photo's own, at most 2048 (up to 4096 asked).
    size: int | None = None
    # 0 gives the photo, 1 the painting's full statistics (a blend of the features in between).
    strength: float = 1.0
    # "luminance" keeps the photo's colours: the painted luminance with the photo's chroma.
    preserve_color: str = "none"
    # The painting's size relative to the photo when its statistics are taken.
    stroke_scale: float = setting(
        1.0, "the painting's size relative to the photo: 2 paints strokes twice as large, 0.5 half as large",
        group="basic", metavar="X")
    # How much of the photo's fine luminance detail the decoder is given (it learnt with 0 to 1).
    detail: float = setting(
        0.5, "how much of the photo's fine detail the picture keeps: 0 none (softer, more painting), 1 all",
        metavar="D")
    # The decoder renders the features' colours only roughly; the painting's palette (the mean and
    # covariance of its RGB) set on the finished picture carries it (WCT on pixels).
    palette: bool = setting(True, "give the picture the painting's palette (its colours' mean and covariance)")
    # The painting's longest side is capped here (its encoding costs as much as a photo's).
    max_style_size: int = 1024
    # One weight per painting when several are given (None: equal shares).
    style_blend: tuple[float, ...] | None = None
    # "wct": the painting's whole covariance (Li et al.); "adain": its per-channel spread only.
    transform: str = "wct"
    # Tile side in px for pictures above 2048 x 2048 px (0: only when needed, 1024 px tiles).
    tile_size: int = 0

    def __post_init__(self) -> None:
        if self.size is not None and not 16 <= self.size <= 8192:
            raise InputError(f"size must be between 16 and 8192 px, got {self.size}")
        if not self.stroke_scale > 0:
            raise InputError(f"stroke scale must be positive, got {self.stroke_scale}")
        if not 0.0 <= self.detail <= 1.0:
            raise InputError(f"detail must be between 0 and 1, got {self.detail}")
        if self.transform not in TRANSFORMS:
            raise InputError(f"transform must be one of {', '.join(TRANSFORMS)}, got {self.transform!r}")
        if self.style_blend is not None and (not self.style_blend or min(self.style_blend) < 0
                                             or sum(self.style_blend) <= 0):
            raise InputError("style blend weights must be non-negative with a positive sum")
        if self.tile_size and self.tile_size < 256:
            raise InputError(f"tile size must be at least 256 px, got {self.tile_size}")

    def blend_weights(self, paintings: int) -> tuple[float, ...]:
        if self.style_blend is None:
            return (1.0,) * paintings
        if len(self.style_blend) != paintings:
            raise InputError(f"--style-blend has {len(self.style_blend)} weights for {paintings} paintings")
        return self.style_blend

    def with_changes(self, **changes: Any) -> InstantConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class DecoderTrainConfig:
    """Settings of one training run of the decoder (photos only, no painting)."""

    # Coarse to fine: iterations[i] steps on sizes[i] px square crops (a 128 px step costs about a
    # quarter of a 256 px one, and the decoder learns the mapping at the small size).
    sizes: tuple[int, ...] = (128, 256)
    iterations: tuple[int, ...] = (1600, 150)
    batch_size: int = 6
    lr: float = 1e-3
    # Channels of the decoder's last block; its blocks have 4x, 2x and 1x this many.
    width: int = 32
    # Share of each batch whose features are first given another photo's statistics (WCT or
    # AdaIN, at a random strength): a decoder trained on its own features alone decodes the
    # transformed ones, which lie off the photos' manifold, with blotches.
    transfer_share: float = 0.5
    # Weights of the terms: relu4_1 against its (transformed) target, the shallower layers and
    # the pixels against the photo (reconstructed half), the per-channel mean and spread of every
    # layer against the donor photo's (transferred half).
    feature_weight: float = 1.0
    shallow_weight: float = 1.0
    pixel_weight: float = 10.0
    moment_weight: float = 1.0
    # Colour jitter of the photos that lend their statistics, so the decoder meets the strong
    # palettes of paintings, not only photos'.
    donor_jitter: float = 0.5
    weights: str = "vgg19-caffe"
    seed: int = 0
    min_photos: int = 8
    preview_every: int = 250
    checkpoint_seconds: float = 60.0

    def __post_init__(self) -> None:
        if not self.sizes or len(self.sizes) != len(self.iterations):
            raise InputError("sizes and iterations need one entry each per training stage")
        if any(size < 64 or size % 8 for size in self.sizes):
            raise InputError("training sizes must be multiples of 8, at least 64 px")
        if any(n < 0 for n in self.iterations) or sum(self.iterations) < 1:
            raise InputError("iterations must be non-negative with at least one step in all")
        if not 0.0 <= self.transfer_share <= 1.0:
            raise InputError("transfer_share must be between 0 and 1")
        for name in ("batch_size", "width", "min_photos"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1")

    @property
    def total_iterations(self) -> int:
        return sum(self.iterations)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
