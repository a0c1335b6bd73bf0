"""Painting a photo in the style of any painting with the decoder: encode, transform, decode.

The photo's relu4_1 features take the painting's mean and covariance (WCT) and the decoder turns
them back into a picture. The painting's statistics are a mean vector and a 512 x 512 matrix,
taken once per painting and size and kept on the painter, so a folder of photos or a video pays
for them once. Photos above `TILE_ABOVE_PIXELS` are encoded and decoded in overlapping tiles,
with the photo's own statistics gathered over all tiles first, so the tiles join without seams
and memory stays flat in the photo's size.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from nst.image import ImageSource, load_pil, resize_longest
from nst.picture import BORDER, as_pil, check_options, finish, prepare
from nst.universal.config import TRANSFORMS, InstantConfig
from nst.universal.network import ENCODER_LAYER, STRIDE, Decoder, detail_bands
from nst.universal.store import DecoderCard, load_decoder
from nst.universal.transforms import moments, sqrt_and_inverse_sqrt, wct_from_moments
from nst.vgg.features import VGG19Features
from nst.vgg.weights import VGGWeights, load_weights

#: Pictures with more pixels than this are painted in tiles (whole, the encoder's first layers
#: would take about 1 GB per 2048 x 2048 px).
TILE_ABOVE_PIXELS = 2048 * 2048
#: px of context around each tile, for the encoder's and the decoder's receptive fields.
TILE_MARGIN = 64


@dataclass(frozen=True)
class Moments:
    """Mean (C, 1), covariance (C, C) and the covariance's square root of some features, in float64."""

    mean: torch.Tensor
    cov: torch.Tensor
    cov_sqrt: torch.Tensor

    @classmethod
    def of(cls, mean: torch.Tensor, cov: torch.Tensor) -> Moments:
        return cls(mean, cov, sqrt_and_inverse_sqrt(cov)[0])

    @property
    def std(self) -> torch.Tensor:
        return self.cov.diagonal().clamp(min=0).sqrt().unsqueeze(1)

    @staticmethod
    def blend(parts: Sequence[Moments], weights: Sequence[float]) -> Moments:
        """The moments of the mixture: each part's share of positions by weight."""
        if len(parts) == 1:
            return parts[0]
        total = float(sum(weights))
        shares = [float(x) / total for x in weights]
        mean = sum(w * p.mean for w, p in zip(shares, parts, strict=True))
        second = sum(w * (p.cov + p.mean @ p.mean.T) for w, p in zip(shares, parts, strict=True))
        return Moments.of(mean, second - mean @ mean.T)  # type: ignore[arg-type, operator]


@dataclass(frozen=True)
class PaintingStatistics:
    """What nst keeps of a painting: the moments of its relu4_1 features and of its colours (RGB)."""

    features: Moments
    colours: Moments

    @staticmethod
    def blend(parts: Sequence[PaintingStatistics], weights: Sequence[float]) -> PaintingStatistics:
        return PaintingStatistics(Moments.blend([p.features for p in parts], weights),
                                  Moments.blend([p.colours for p in parts], weights))


def bundled_decoder_path() -> Path:
    return Path(__file__).resolve().parent / "bundled" / "decoder.pt"


class AnyPainting:
    """Paints any painting's style onto photos in seconds, with no training per painting.

    ``AnyPainting.load()`` opens the decoder that ships with nst; ``paint(photo, painting)`` returns
    the picture. Keep one painter for many photos: the paintings' statistics are kept on it.
    """

    def __init__(self, decoder: Decoder, card: DecoderCard, device: str | torch.device = "cpu",
                 weights: VGGWeights | None = None, kept_paintings: int = 8) -> None:
        self.device = torch.device(device)
        self.decoder = decoder.to(self.device, memory_format=torch.channels_last).eval()
        self.card = card
        # The decoder was trained on this network's features: other weights are for tests.
        self.encoder = VGG19Features(weights or load_weights("vgg19-caffe"), (ENCODER_LAYER,), pooling="max").to(
            self.device, memory_format=torch.channels_last)
        # The statistics of the last few paintings (4 MB each): a folder or a video reuses them, a
        # long-running server sees any number of paintings.
        self._statistics: OrderedDict[tuple[str, int], PaintingStatistics] = OrderedDict()
        self.kept_paintings = kept_paintings

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> AnyPainting:
        """The bundled decoder, or a decoder file from ``bench/train_decoder.py``."""
        decoder, card = load_decoder(path if path is not None else bundled_decoder_path())
        return cls(decoder, card, device)

    # -- the painting --------------------------------------------------------------------------
    def painting_statistics(self, painting: ImageSource, longest: int) -> PaintingStatistics:
        """The painting's whole frame at ``longest`` px on its longest side (no crop), memoised."""
        pil = painting if isinstance(painting, Image.Image) else load_pil(painting)  # type: ignore[arg-type]
        key = (hashlib.sha256(pil.tobytes()).hexdigest()[:16] + str(pil.size), int(longest))
        if key not in self._statistics:
            small = resize_longest(pil.convert("RGB"), max(32, int(longest)))
            array = np.asarray(small, dtype=np.float32).transpose(2, 0, 1)[None] / 255.0
            pixels = torch.from_numpy(np.ascontiguousarray(array))
            features = self._encode(pixels)[0].flatten(1)
            self._statistics[key] = PaintingStatistics(Moments.of(*moments(features)),
                                                       Moments.of(*moments(pixels[0].flatten(1))))
            while len(self._statistics) > self.kept_paintings:
                self._statistics.popitem(last=False)
        self._statistics.move_to_end(key)
        return self._statistics[key]

    def with_painting(self, paintings: ImageSource | Sequence[ImageSource],
                      config: InstantConfig | None = None) -> OnePainting:
        """This painter tied to one painting (or blend), painting like a style model: for video."""
        paintings = list(paintings) if isinstance(paintings, (list, tuple)) else [paintings]
        pils = [p if isinstance(p, Image.Image) else load_pil(p) for p in paintings]  # type: ignore[arg-type]
        return OnePainting(self, pils, config or InstantConfig())

    # -- the photo -----------------------------------------------------------------------------
    def paint(self, photo: ImageSource, paintings: ImageSource | Sequence[ImageSource],
              config: InstantConfig | None = None,
              callback: Callable[[int, int], Any] | None = None) -> Image.Image:
        """Paint ``photo`` (path, PIL image or tensor) in the style of ``paintings`` (one, or several
        blended by ``config.style_blend``). ``callback(done, total)`` follows the tiles."""
        config = config or InstantConfig()
        check_options(config.strength, config.preserve_color)
        paintings = list(paintings) if isinstance(paintings, (list, tuple)) else [paintings]
        weights = config.blend_weights(len(paintings))
        pil = as_pil(photo, config.size)
        array = prepare(pil, config.size)
        if config.strength == 0:
            return finish(array, array)
        longest = max(array.shape[-2:])
        style_size = max(64, round(longest * config.stroke_scale))
        if style_size > config.max_style_size:
            style_size = config.max_style_size
        stats = PaintingStatistics.blend([self.painting_statistics(p, style_size) for p in paintings], weights)
        painted = self.paint_array(array, stats, config, callback)
        if config.palette:
            painted = _with_palette(painted, stats.colours, config.strength)
        return finish(array, painted, 1.0, config.preserve_color)

    def paint_array(self, photo: np.ndarray, stats: PaintingStatistics, config: InstantConfig,
                    callback: Callable[[int, int], Any] | None = None) -> np.ndarray:
        """(1, 3, H, W) float32 in [0, 1] -> the painted (1, 3, H, W), unclamped."""
        tensor = torch.from_numpy(photo)
        h, w = tensor.shape[-2:]
        framed = _framed(tensor)
        with torch.inference_mode():
            if h * w <= TILE_ABOVE_PIXELS and not config.tile_size:
                features = self._encode(framed)
                moved = self._transform(features[0].flatten(1), None, stats, config).view_as(features)
                out = self._decode(moved, framed, config)
                if callback is not None:
                    callback(1, 1)
            else:
                out = self._paint_tiled(framed, stats, config, callback)
        return out[..., BORDER : BORDER + h, BORDER : BORDER + w].float().cpu().numpy()

    def _decode(self, features: torch.Tensor, photo: torch.Tensor, config: InstantConfig) -> torch.Tensor:
        bands = detail_bands(photo.to(self.device, torch.float32)) if config.detail else None
        return self.decoder(features.contiguous(memory_format=torch.channels_last), bands, config.detail)

    def _encode(self, image: torch.Tensor) -> torch.Tensor:
        image = image.to(self.device, torch.float32).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            return self.encoder(image)[ENCODER_LAYER]

    @staticmethod
    def _transform(content: torch.Tensor, photo_moments: tuple[torch.Tensor, torch.Tensor] | None,
                   stats: PaintingStatistics, config: InstantConfig) -> torch.Tensor:
        if config.transform == "adain":
            moved = _adain_to(content, photo_moments, stats)
        else:
            moved = wct_from_moments(content, stats.features.mean, stats.features.cov_sqrt, photo_moments)
        return config.strength * moved + (1 - config.strength) * content

    def _paint_tiled(self, framed: torch.Tensor, stats: PaintingStatistics, config: InstantConfig,
                     callback: Callable[[int, int], Any] | None) -> torch.Tensor:
        tile = max(256, (config.tile_size or 1024) // STRIDE * STRIDE)
        h, w = framed.shape[-2:]
        boxes = [(top, left) for top in range(0, h, tile) for left in range(0, w, tile)]
        total = 2 * len(boxes)
        # First pass: the photo's feature moments over the whole picture (sums over tiles).
        count, total_sum, total_outer = 0, None, None
        for done, (top, left) in enumerate(boxes, start=1):
            core = self._tile_features(framed, top, left, tile)
            flat = core.flatten(1).double()
            count += flat.shape[1]
            total_sum = flat.sum(1, keepdim=True) if total_sum is None else total_sum + flat.sum(1, keepdim=True)
            outer = flat @ flat.T
            total_outer = outer if total_outer is None else total_outer + outer
            if callback is not None:
                callback(done, total)
        mean = total_sum / count  # type: ignore[operator]
        cov = total_outer / count - mean @ mean.T  # type: ignore[operator]
        cov = cov + 1e-5 * cov.diagonal().mean() * torch.eye(cov.shape[0], dtype=cov.dtype)
        photo_moments = (mean, cov)
        # Second pass: encode each tile again (keeping the first pass's features would make memory
        # grow with the photo), transform with the whole photo's moments, decode.
        out = torch.empty(1, 3, h, w)
        m = TILE_MARGIN
        for done, (top, left) in enumerate(boxes, start=len(boxes) + 1):
            y0, x0 = max(0, top - m), max(0, left - m)
            y1, x1 = min(h, top + tile + m), min(w, left + tile + m)
            piece = _padded_to_stride(framed[..., y0:y1, x0:x1])
            features = self._encode(piece)
            moved = self._transform(features[0].flatten(1), photo_moments, stats, config).view_as(features)
            painted = self._decode(moved, piece, config)
            bottom, right = min(h, top + tile), min(w, left + tile)
            out[..., top:bottom, left:right] = painted[..., top - y0 : bottom - y0, left - x0 : right - x0].cpu()
            if callback is not None:
                callback(done, total)
        return out

    def _tile_features(self, framed: torch.Tensor, top: int, left: int, tile: int) -> torch.Tensor:
        """The relu4_1 features of one tile's own area (its margin encoded, then cut away)."""
        h, w = framed.shape[-2:]
        m = TILE_MARGIN
        y0, x0 = max(0, top - m), max(0, left - m)
        y1, x1 = min(h, top + tile + m), min(w, left + tile + m)
        features = self._encode(_padded_to_stride(framed[..., y0:y1, x0:x1]))[0]
        bottom, right = min(h, top + tile), min(w, left + tile)
        s = STRIDE
        return features[:, (top - y0) // s : (bottom - y0 + s - 1) // s, (left - x0) // s : (right - x0 + s - 1) // s]


@dataclass(frozen=True)
class OnePaintingCard:
    """What paints: the decoder's card and the painting's (or paintings') checksums."""

    name: str
    painting: str
    decoder: dict[str, Any]
    config: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class OnePainting:
    """`AnyPainting` with its painting fixed: ``paint(photo, size, strength, preserve_color)`` as a
    style model's, so whatever drives style models (video) drives it too."""

    def __init__(self, painter: AnyPainting, paintings: list[Image.Image], config: InstantConfig) -> None:
        self.painter, self.paintings, self.config = painter, paintings, config
        digest = hashlib.sha256(b"".join(p.tobytes() for p in paintings)).hexdigest()[:16]
        self.card = OnePaintingCard("instant", digest, painter.card.to_dict(), config.to_dict())

    def paint(self, photo: ImageSource, size: int | None = None, strength: float = 1.0,
              preserve_color: str = "none", tile_size: int | None = None) -> Image.Image:
        config = self.config.with_changes(size=size, strength=strength, preserve_color=preserve_color,
                                          tile_size=tile_size or 0)
        return self.painter.paint(photo, self.paintings, config)


def _with_palette(painted: np.ndarray, colours: Moments, strength: float) -> np.ndarray:
    """The picture's colours given the painting's mean and covariance (WCT on pixels), by ``strength``."""
    flat = torch.from_numpy(np.clip(painted, 0, 1)[0].reshape(3, -1)).double()
    moved = wct_from_moments(flat, colours.mean, colours.cov_sqrt).numpy()
    return (strength * moved + (1 - strength) * flat.numpy()).reshape(painted.shape).astype(np.float32)


def _adain_to(content: torch.Tensor, photo_moments: tuple[torch.Tensor, torch.Tensor] | None,
              stats: PaintingStatistics) -> torch.Tensor:
    target = stats.features
    if photo_moments is None:
        mean, std = content.mean(1, keepdim=True), content.std(1, keepdim=True)
    else:
        mean, std = photo_moments[0].to(content.dtype), photo_moments[1].diagonal().sqrt().unsqueeze(1).to(content.dtype)
    return (content - mean) / (std + 1e-5) * target.std.to(content.dtype) + target.mean.to(content.dtype)


def _framed(photo: torch.Tensor) -> torch.Tensor:
    """The photo with `BORDER` px mirrored around it, padded (mirrored) to a multiple of the stride."""
    framed = torch.nn.functional.pad(photo, (BORDER, BORDER, BORDER, BORDER), mode="reflect")
    return _padded_to_stride(framed)


def _padded_to_stride(image: torch.Tensor) -> torch.Tensor:
    h, w = image.shape[-2:]
    pad_h, pad_w = -h % STRIDE, -w % STRIDE
    if pad_h or pad_w:
        image = torch.nn.functional.pad(image, (0, pad_w, 0, pad_h), mode="replicate")
    return image


__all__ = ["TRANSFORMS", "AnyPainting", "Moments", "OnePainting", "PaintingStatistics", "bundled_decoder_path"]
