"""Grain: how much fine, pixel-scale texture a stylization has, against the painting's own.

For each content x style pair and each setting, runs nst through the public API and measures
the output's high-frequency energy: the mean squared difference between the image and a blurred
copy of it (Gaussian, sigma 1 px), per pixel and channel. The same measure of the style image at
the size the run used is the painting's own fine texture; "grain" is the ratio of the two (1: as
fine-grained as the painting, 2: twice its high-frequency energy). The table also has the
weighted content and style losses, so the price of smoothing in the paper's objective is visible.

    python bench/grain.py                                   # tv 0 / 1e-3 / 1e-2 / 1e-1 at 256 px
    python bench/grain.py --size 384 --tv 0 0.01 --out runs/grain

Images go to OUT/grain-<pair>-<pooling>-tv<weight>.png.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import nst

IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"
PAIRS = {
    "tubingen-starry": ("tubingen.jpg", "starry_night.jpg"),
    "brad-scream": ("brad_pitt.jpg", "the_scream.jpg"),
    "hoover-picasso": ("hoovertowernight.jpg", "picasso_selfport1907.jpg"),
}


def high_frequency_energy(image: torch.Tensor) -> float:
    """Mean squared difference between ``image`` (1, 3, H, W) and its Gaussian blur (sigma 1 px)."""
    x = torch.arange(-3, 4, dtype=torch.float32)
    kernel = torch.exp(-(x**2) / 2)
    kernel = (kernel / kernel.sum()).view(1, 1, 1, -1).repeat(3, 1, 1, 1)
    padded = torch.nn.functional.pad(image, (3, 3, 3, 3), mode="reflect")
    blurred = torch.nn.functional.conv2d(padded, kernel, groups=3)
    blurred = torch.nn.functional.conv2d(blurred, kernel.transpose(-1, -2), groups=3)
    return float((image - blurred).pow(2).mean())


#: The pooling periods, in pixels of the output: pool1 to pool4 of VGG-19.
GRID_PERIODS = (2, 4, 8, 16)


def _luminance(picture: Image.Image) -> np.ndarray:
    return np.asarray(picture.convert("L"), dtype=np.float64)


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    from measures import _gaussian  # the panel's one Gaussian (reflect-padded, separable)

    x = torch.from_numpy(image).float()[None, None]
    radius = max(1, int(3 * sigma + 0.5))
    if radius >= min(image.shape):  # reflect padding needs the image larger than the kernel
        return np.full_like(image, image.mean())
    return _gaussian(x, sigma)[0, 0].double().numpy()


def grid_pattern(
    picture: Image.Image, photo: Image.Image, flat_share: float = 0.3
) -> dict[str, dict[str, float]]:
    """A fixed grid at the pooling periods in the flat parts of the picture.

    Flat parts are the ``flat_share`` of pixels where the photo's local luminance contrast is
    lowest (sky, walls). For each period p the picture's luminance, less a blur (sigma p px) that
    removes shapes larger than the period, is averaged over the pixels of each of the p x p phases
    (y mod p, x mod p): a pattern locked to the pixel grid survives this averaging, texture does
    not. This is the energy of the spectrum's peaks at the harmonics of 1/p, read without
    leakage from the mask. Returns, per period, the pattern's RMS "amplitude" in grey levels
    (of 255) and its "ratio" to what the same averaging leaves of pattern-free texture (about 1).
    """
    lum = _luminance(picture)
    flat = _flat_mask(picture, photo, flat_share)
    amplitude, ratio = {}, {}
    for p in GRID_PERIODS:
        residual = lum - _blur(lum, float(p))
        ys, xs = np.nonzero(flat)
        values = residual[ys, xs]
        phase = (ys % p) * p + (xs % p)
        counts = np.bincount(phase, minlength=p * p)
        sums = np.bincount(phase, weights=values, minlength=p * p)
        means = sums[counts > 0] / counts[counts > 0]
        pattern = float(np.var(means))
        chance = float(np.var(values)) / max(1.0, float(np.mean(counts[counts > 0])))
        amplitude[str(p)] = pattern**0.5
        ratio[str(p)] = pattern / chance if chance > 0 else 0.0
    return {"amplitude": amplitude, "ratio": ratio}


def flat_band_energy(picture: Image.Image, photo: Image.Image, flat_share: float = 0.3) -> float:
    """RMS (grey levels, all three channels) of a band-pass (Gaussian sigma 1 px minus sigma 4 px)
    in the photo's flattest ``flat_share`` of pixels: dots and fine texture where the photo is
    flat. Phase-free, so it sees the regular dots on flat areas ("the grid"), which are not locked
    to the pixel grid; it counts brush texture there too."""
    flat = _flat_mask(picture, photo, flat_share)
    rgb = np.asarray(picture.convert("RGB"), dtype=np.float64)
    bands = [(_blur(rgb[..., c], 1.0) - _blur(rgb[..., c], 4.0))[flat] for c in range(3)]
    return float(np.sqrt(np.mean(np.concatenate(bands) ** 2)))


def _flat_mask(picture: Image.Image, photo: Image.Image, flat_share: float) -> np.ndarray:
    """The ``flat_share`` of pixels where the photo's local luminance contrast is lowest."""
    reference = _luminance(photo.convert("RGB").resize(picture.size, Image.Resampling.LANCZOS))
    gy, gx = np.gradient(_blur(reference, 1.0))
    contrast = _blur(np.hypot(gy, gx), 2.0)
    return contrast <= np.quantile(contrast, flat_share)


def dot_density(
    picture: Image.Image, photo: Image.Image, flat_share: float = 0.3, threshold: float = 8.0,
    elongation: float = 3.0,
) -> float:
    """Isolated dots per 1000 pixels of the photo's flattest ``flat_share``: the regular dots
    on flat areas ("the grid"), counted one by one.

    A dot is a local maximum (3 x 3) of the absolute band-pass (Gaussian sigma 1 px minus sigma
    2 px) of the luminance, stronger than ``threshold`` grey levels, and round: the band's
    Hessian there has both curvatures of one sign and their ratio under ``elongation`` (SIFT's
    edge test), so a stroke, which curves across its length only, is not one. On brad_pitt x The
    Scream at 256 px it reads 2.5 for the dotted wall of average pooling, 0.2-0.8 for walls that
    look clean at 3x."""
    flat = _flat_mask(picture, photo, flat_share)
    lum = _luminance(picture)
    band = _blur(lum, 1.0) - _blur(lum, 2.0)
    strength = np.abs(band)
    padded = np.pad(strength, 1, mode="edge")
    h, w = strength.shape
    neighbours = np.max(
        [padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx],
        axis=0,
    )
    dyy = np.gradient(np.gradient(band, axis=0), axis=0)
    dxx = np.gradient(np.gradient(band, axis=1), axis=1)
    dxy = np.gradient(np.gradient(band, axis=0), axis=1)
    trace, det = dxx + dyy, dxx * dyy - dxy**2
    round_ = (det > 0) & (trace**2 < det * (elongation + 1) ** 2 / elongation)
    dots = (strength > neighbours) & (strength > threshold) & round_ & flat
    return 1000.0 * float(dots.sum()) / max(1, int(flat.sum()))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--tv", type=float, nargs="+", default=[0.0, 1e-3, 1e-2, 1e-1])
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=list(PAIRS))
    parser.add_argument("--pooling", default=nst.StyleConfig.pooling, choices=["avg", "max"])
    parser.add_argument("--out", default="runs/grain")
    args = parser.parse_args()
    if not IMAGES.is_dir():
        print(f"skipped: {IMAGES} is absent")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"size {args.size}, pooling {args.pooling}, other settings nst's defaults")
    print(
        f"{'pair':18s} {'tv':>7} {'content':>9} {'style':>9} {'HF out':>8} {'HF art':>8} {'grain':>6} {'s':>6}"
    )
    for pair in args.pairs:
        content, style = (IMAGES / name for name in PAIRS[pair])
        for tv in args.tv:
            config = nst.StyleConfig(size=args.size, tv_weight=tv, pooling=args.pooling)
            started = time.perf_counter()
            result = nst.transfer_style(content, style, config)
            seconds = time.perf_counter() - started
            nst.save_image(result.image, out / f"grain-{pair}-{args.pooling}-tv{tv:g}.png")
            painting = nst.load_image(style, config.style_longest_side(args.size))
            hf_out, hf_art = high_frequency_energy(result.tensor), high_frequency_energy(painting)
            print(f"{pair:18s} {tv:>7g} {result.losses.content:>9.2e} {result.losses.style:>9.2e} "
                  f"{hf_out * 1e3:>8.3f} {hf_art * 1e3:>8.3f} {hf_out / hf_art:>6.2f} {seconds:>6.0f}",
                  flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
