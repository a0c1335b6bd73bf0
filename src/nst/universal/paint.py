"""Painting a photo in the style of any painting with the decoder: encode, transform, decode.

The photo's relu4_1 features take the painting's mean and covariance (WCT) and the decoder turns
them back into a picture. NumPy only: the networks come from `nst.universal.networks`
(onnxruntime) or `nst.universal.torch_networks` (torch); this module never imports torch.
The painting's statistics are a mean vector and a 512 x 512 matrix, taken once per painting and
size and kept on the painter, so a folder of photos or a video pays for them once. Photos above
`TILE_ABOVE_PIXELS` are encoded and decoded in overlapping tiles, with the photo's own
statistics gathered over all tiles first, so the tiles join without seams and memory stays flat
in the photo's size.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from nst.errors import InputError
from nst.image import ImageSource, load_pil, resize_longest
from nst.picture import BORDER, as_pil, check_options, finish, prepare
from nst.universal.card import DecoderCard
from nst.universal.config import TRANSFORMS, InstantConfig
from nst.universal.networks import FEATURE_CHANNELS, STRIDE, Networks, OnnxNetworks, bundled_folder
from nst.universal.transforms import moments, sqrt_and_inverse_sqrt, wct_from_moments

#: Pictures with more pixels than this are painted in tiles (whole, the encoder's first layers
#: would take about 1 GB per 2048 x 2048 px).
TILE_ABOVE_PIXELS = 2048 * 2048
#: px of context around each tile, for the encoder's and the decoder's receptive fields.
TILE_MARGIN = 64
#: Where the networks run: "auto" picks onnxruntime on a CPU when it is installed.
BACKENDS = ("auto", "onnx", "torch")


@dataclass(frozen=True)
class Moments:
    """Mean (C, 1), covariance (C, C) and the covariance's square root of some features, in float64."""

    mean: np.ndarray
    cov: np.ndarray
    cov_sqrt: np.ndarray

    @classmethod
    def of(cls, mean: np.ndarray, cov: np.ndarray) -> Moments:
        return cls(mean, cov, sqrt_and_inverse_sqrt(cov)[0])

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(np.maximum(self.cov.diagonal(), 0))[:, None]

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
    return bundled_folder() / "decoder.pt"


def bundled_onnx_paths() -> tuple[Path, Path]:
    """The bundled encoder and decoder as ONNX files (``bench/train_decoder.py --export``)."""
    return bundled_folder() / "encoder.onnx", bundled_folder() / "decoder.onnx"


class AnyPainting:
    """Paints any painting's style onto photos in seconds, with no training per painting.

    ``AnyPainting.load()`` opens the networks that ship with nst (on onnxruntime on a CPU, without
    torch); ``paint(photo, painting)`` returns the picture. Keep one painter for many photos: the
    paintings' statistics are kept on it. Everything but the two networks runs here in NumPy.
    """

    def __init__(self, networks: Networks, kept_paintings: int = 8) -> None:
        self.networks = networks
        # The statistics of the last few paintings (4 MB each): a folder or a video reuses them, a
        # long-running server sees any number of paintings.
        self._statistics: OrderedDict[tuple[str, int], PaintingStatistics] = OrderedDict()
        self.kept_paintings = kept_paintings

    @property
    def card(self) -> DecoderCard:
        return self.networks.card

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, device: str = "cpu", backend: str = "auto") -> AnyPainting:
        """The bundled networks, or a decoder file from ``bench/train_decoder.py`` (``.pt``, or the
        ``decoder.onnx`` it exports). ``backend``: "onnx" (the CPU, without torch), "torch" (any
        device), or "auto": onnxruntime on the CPU where it and the ONNX files are there, else torch."""
        if backend not in BACKENDS:
            raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        on_cpu = str(device) == "cpu"
        encoder, decoder = bundled_onnx_paths()
        if path is None:
            use_onnx = backend == "onnx" or (backend == "auto" and on_cpu and _onnx_ready(encoder, decoder))
        else:  # the file says which: an exported decoder.onnx, or a torch decoder.pt
            decoder, use_onnx = Path(path), Path(path).suffix == ".onnx"
            if backend == "onnx" and not use_onnx:
                raise InputError(f"'{path}' is a torch file: export it (bench/train_decoder.py --export) "
                                 "to run it on onnxruntime")
        if use_onnx:
            if not on_cpu:
                raise InputError(f"the ONNX networks run on the CPU only (device {device})")
            return cls(OnnxNetworks(encoder, decoder))
        from nst.universal.torch_networks import TorchNetworks  # torch only here

        return cls(TorchNetworks.load(path if path is not None else bundled_decoder_path(), device))

    # -- the painting --------------------------------------------------------------------------
    def painting_statistics(self, painting: ImageSource, longest: int) -> PaintingStatistics:
        """The painting's whole frame at ``longest`` px on its longest side (no crop), memoised."""
        pil = painting if isinstance(painting, Image.Image) else load_pil(painting)  # type: ignore[arg-type]
        key = (hashlib.sha256(pil.tobytes()).hexdigest()[:16] + str(pil.size), int(longest))
        if key not in self._statistics:
            small = resize_longest(pil.convert("RGB"), max(32, int(longest)))
            pixels = np.ascontiguousarray(np.asarray(small, dtype=np.float32).transpose(2, 0, 1)[None] / 255.0)
            features = self.networks.encode(_padded_to_stride(pixels))[0].reshape(FEATURE_CHANNELS, -1)
            self._statistics[key] = PaintingStatistics(Moments.of(*moments(features)),
                                                       Moments.of(*moments(pixels[0].reshape(3, -1))))
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
        h, w = photo.shape[-2:]
        framed = _framed(photo)
        if h * w <= TILE_ABOVE_PIXELS and not config.tile_size:
            features = self.networks.encode(framed)
            moved = _transformed(features[0].reshape(FEATURE_CHANNELS, -1), None, stats, config)
            out = self.networks.decode(moved.reshape(features.shape), framed, config.detail)
            if callback is not None:
                callback(1, 1)
        else:
            out = self._paint_tiled(framed, stats, config, callback)
        return np.ascontiguousarray(out[..., BORDER : BORDER + h, BORDER : BORDER + w], dtype=np.float32)

    def _paint_tiled(self, framed: np.ndarray, stats: PaintingStatistics, config: InstantConfig,
                     callback: Callable[[int, int], Any] | None) -> np.ndarray:
        tile = max(256, (config.tile_size or 1024) // STRIDE * STRIDE)
        h, w = framed.shape[-2:]
        boxes = [(top, left) for top in range(0, h, tile) for left in range(0, w, tile)]
        total = 2 * len(boxes)
        # First pass: the photo's feature moments over the whole picture (sums over tiles).
        count = 0
        total_sum = np.zeros((FEATURE_CHANNELS, 1))
        total_outer = np.zeros((FEATURE_CHANNELS, FEATURE_CHANNELS))
        for done, (top, left) in enumerate(boxes, start=1):
            flat = self._tile_features(framed, top, left, tile).reshape(FEATURE_CHANNELS, -1).astype(np.float64)
            count += flat.shape[1]
            total_sum += flat.sum(1, keepdims=True)
            total_outer += flat @ flat.T
            if callback is not None:
                callback(done, total)
        mean = total_sum / count
        cov = total_outer / count - mean @ mean.T
        cov = cov + 1e-5 * cov.diagonal().mean() * np.eye(FEATURE_CHANNELS)
        photo_moments = (mean, cov)
        # Second pass: encode each tile again (keeping the first pass's features would make memory
        # grow with the photo), transform with the whole photo's moments, decode.
        out = np.empty((1, 3, h, w), dtype=np.float32)
        m = TILE_MARGIN
        for done, (top, left) in enumerate(boxes, start=len(boxes) + 1):
            y0, x0 = max(0, top - m), max(0, left - m)
            y1, x1 = min(h, top + tile + m), min(w, left + tile + m)
            piece = _padded_to_stride(framed[..., y0:y1, x0:x1])
            features = self.networks.encode(piece)
            moved = _transformed(features[0].reshape(FEATURE_CHANNELS, -1), photo_moments, stats, config)
            painted = self.networks.decode(moved.reshape(features.shape), piece, config.detail)
            bottom, right = min(h, top + tile), min(w, left + tile)
            out[..., top:bottom, left:right] = painted[..., top - y0 : bottom - y0, left - x0 : right - x0]
            if callback is not None:
                callback(done, total)
        return out

    def _tile_features(self, framed: np.ndarray, top: int, left: int, tile: int) -> np.ndarray:
        """The relu4_1 features of one tile's own area (its margin encoded, then cut away)."""
        h, w = framed.shape[-2:]
        m = TILE_MARGIN
        y0, x0 = max(0, top - m), max(0, left - m)
        y1, x1 = min(h, top + tile + m), min(w, left + tile + m)
        features = self.networks.encode(_padded_to_stride(framed[..., y0:y1, x0:x1]))[0]
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
    flat = np.clip(painted, 0, 1)[0].reshape(3, -1).astype(np.float64)
    moved = wct_from_moments(flat, colours.mean, colours.cov_sqrt)
    return (strength * moved + (1 - strength) * flat).reshape(painted.shape).astype(np.float32)


def _transformed(content: np.ndarray, photo_moments: tuple[np.ndarray, np.ndarray] | None,
                 stats: PaintingStatistics, config: InstantConfig) -> np.ndarray:
    """(C, N) features of the photo given the painting's statistics, blended with them by strength."""
    if config.transform == "adain":
        target = stats.features
        if photo_moments is None:
            mean, std = content.mean(1, keepdims=True), content.std(1, ddof=1, keepdims=True)
        else:
            mean, std = photo_moments[0], np.sqrt(photo_moments[1].diagonal())[:, None]
        moved = (content - mean) / (std + 1e-5) * target.std + target.mean
    else:
        moved = wct_from_moments(content, stats.features.mean, stats.features.cov_sqrt, photo_moments)
    return (config.strength * moved + (1 - config.strength) * content).astype(np.float32)


def _framed(photo: np.ndarray) -> np.ndarray:
    """The photo with `BORDER` px mirrored around it, padded (repeated) to a multiple of the stride."""
    return _padded_to_stride(np.pad(photo, ((0, 0), (0, 0), (BORDER, BORDER), (BORDER, BORDER)), mode="reflect"))


def _padded_to_stride(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[-2:]
    pad_h, pad_w = -h % STRIDE, -w % STRIDE
    if pad_h or pad_w:
        image = np.pad(image, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), mode="edge")
    return np.ascontiguousarray(image)


def _onnx_ready(encoder: Path, decoder: Path) -> bool:
    """Whether onnxruntime and the ONNX networks are there (checked without importing either)."""
    return encoder.is_file() and decoder.is_file() and importlib.util.find_spec("onnxruntime") is not None


__all__ = ["BACKENDS", "TRANSFORMS", "AnyPainting", "Moments", "OnePainting", "PaintingStatistics", "bundled_decoder_path",
           "bundled_onnx_paths"]
