"""Picture measures shared by the benchmarks: how much style, how much of the photo's structure.

* Style distance: how far a picture's Gram matrices are from the painting's, at the paper's five
  style layers of nst's calibrated VGG-19, each layer's Frobenius distance relative to the
  painting's Gram norm, averaged. 0 is the painting's statistics; a photo scores about 1. Lower
  is more of the painting's style. (nst's models are trained on this network, so the measure
  favours them somewhat; bench/instant.py also shows the pictures.)
  With ``pooling="max"`` it is measured in the max-pooling network instead; bench/quality.py's
  "style (both)" is the mean of the two, to compare configurations whose pooling differs.
* Structure: SSIM (Wang et al. 2004) of the Gaussian-blurred luminance of picture and photo, both
  at 256 px on the longest side, blur sigma 2 px. The blur removes brush texture, so it scores
  moved, lost or invented shapes, not strokes: 1 is the photo's layout kept exactly. Inside a
  box drawn by hand around the photo's subject (a face, an animal, a building) it is the
  subject's structure, which a picture can lose while its sky and grass keep the mean high.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from PIL import Image

from nst.image import pil_to_tensor, resize_longest
from nst.losses import gram_matrix
from nst.optimise.config import PAPER_STYLE_LAYERS
from nst.vgg.features import VGG19Features
from nst.vgg.weights import load_weights

#: A part of a picture: (left, top, right, bottom) as fractions of its width and height.
Box = tuple[float, float, float, float]

STRUCTURE_SIZE = 256
STRUCTURE_BLUR = 2.0


@functools.cache
def _extractor(pooling: str = "avg") -> VGG19Features:
    return VGG19Features(load_weights("vgg19-caffe"), PAPER_STYLE_LAYERS, pooling=pooling)


def _grams(picture: Image.Image, pooling: str = "avg") -> dict[str, torch.Tensor]:
    with torch.no_grad():
        features = _extractor(pooling)(pil_to_tensor(picture))
    return {k: gram_matrix(v)[0] / (v.shape[-2] * v.shape[-1]) for k, v in features.items()}


def style_distance(picture: Image.Image, painting: Image.Image, pooling: str = "avg") -> float:
    """Mean relative Gram distance to ``painting`` (seen at the picture's longest side), in the
    network with ``pooling`` ("avg", the paper's, or "max")."""
    painting = resize_longest(painting.convert("RGB"), max(picture.size))
    mine, target = _grams(picture.convert("RGB"), pooling), _grams(painting, pooling)
    return float(sum((mine[k] - target[k]).norm() / target[k].norm() for k in target) / len(target))


def texture_distance(picture: Image.Image, painting: Image.Image) -> float:
    """`style_distance` of the two pictures' luminance at the three deepest style layers only:
    brush marks and their arrangement, with the palette left out (the Gram distance of colour
    pictures is dominated by the palette, which the eye does not weigh as much as strokes)."""
    def grey(p: Image.Image) -> Image.Image:
        return p.convert("L").convert("RGB")

    painting = resize_longest(painting.convert("RGB"), max(picture.size))
    mine, target = _grams(grey(picture)), _grams(grey(painting))
    deep = PAPER_STYLE_LAYERS[2:]
    return float(sum((mine[k] - target[k]).norm() / target[k].norm() for k in deep) / len(deep))


def _blurred_luminance(picture: Image.Image) -> torch.Tensor:
    x = pil_to_tensor(resize_longest(picture.convert("RGB"), STRUCTURE_SIZE))
    y = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    return _gaussian(y, STRUCTURE_BLUR)


def _gaussian(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, int(3 * sigma + 0.5))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    x = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    return F.conv2d(x, k.view(1, 1, -1, 1))


def ssim(a: torch.Tensor, b: torch.Tensor, box: Box | None = None) -> float:
    """Mean SSIM of two (1, 1, H, W) images in [0, 1] (11-tap Gaussian window, sigma 1.5), over
    the whole image or the fractional ``box`` (left, top, right, bottom)."""
    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = _gaussian(a, 1.5), _gaussian(b, 1.5)
    var_a = _gaussian(a * a, 1.5) - mu_a**2
    var_b = _gaussian(b * b, 1.5) - mu_b**2
    cov = _gaussian(a * b, 1.5) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    if box is not None:
        h, w = s.shape[-2:]
        left, top, right, bottom = box
        s = s[..., round(top * h) : max(round(bottom * h), round(top * h) + 1),
              round(left * w) : max(round(right * w), round(left * w) + 1)]  # fmt: skip
    return float(s.mean())


def structure(picture: Image.Image, photo: Image.Image, box: Box | None = None) -> float:
    """SSIM of blurred luminance between ``picture`` and the ``photo`` it was painted from; with
    ``box`` (left, top, right, bottom as fractions of the picture), the mean SSIM inside it."""
    a = _blurred_luminance(picture)
    b = _blurred_luminance(photo.resize(picture.size, Image.Resampling.LANCZOS))
    return ssim(a, b, box)


# -- The held-out evaluation's measures (bench/heldout.py): judged at 256 px, independent of the
# calibration nst's losses use (raw VGG-19 responses, average pooling).
JUDGE_SIZE = 256
RELU_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
LAYOUT_LAYERS = ("relu3_1", "relu4_1")


@functools.cache
def _judge() -> VGG19Features:
    return VGG19Features(load_weights("vgg19-caffe"), RELU_STYLE_LAYERS, pooling="avg", calibrate=False)


def _judged(picture: Image.Image, size: tuple[int, int] | None = None) -> dict[str, torch.Tensor]:
    picture = picture.convert("RGB")
    picture = picture.resize(size, Image.Resampling.LANCZOS) if size else resize_longest(picture, JUDGE_SIZE)
    with torch.no_grad():
        return _judge()(pil_to_tensor(picture))


def gram_distance(picture: Image.Image, painting: Image.Image) -> float:
    """Mean over relu1_1..relu5_1 of the Gram matrices' Frobenius distance relative to the
    painting's, both pictures at 256 px on the longest side."""
    mine, target = _judged(picture), _judged(painting)
    total = 0.0
    for k in RELU_STYLE_LAYERS:
        a = gram_matrix(mine[k])[0] / mine[k][0, 0].numel()
        b = gram_matrix(target[k])[0] / target[k][0, 0].numel()
        total += float((a - b).norm() / b.norm())
    return total / len(RELU_STYLE_LAYERS)


def style_gain(picture: Image.Image, photo: Image.Image, painting: Image.Image) -> float:
    """How much nearer the painting's statistics the picture is than the photo: photo's Gram
    distance / picture's (1: no style carried; higher: more of the painting)."""
    return gram_distance(photo, painting) / gram_distance(picture, painting)


def layout(picture: Image.Image, photo: Image.Image) -> float:
    """Which parts of the picture resemble which, against the photo (STROTSS's content measure):
    1 - mean |cosine self-similarity difference| of relu3_1 and relu4_1 features over a grid of
    positions (relu3_1 taken every second position, so both layers see the same 32 x 32-ish grid)."""
    photo_features = _judged(photo)
    size = tuple(reversed(photo_features["relu1_1"].shape[-2:]))  # the photo's judged (w, h)
    mine = _judged(picture, size)  # type: ignore[arg-type]
    gaps = []
    for k in LAYOUT_LAYERS:
        step = 2 if k == "relu3_1" else 1
        a = mine[k][0, :, ::step, ::step].flatten(1)
        b = photo_features[k][0, :, ::step, ::step].flatten(1)
        a = a / a.norm(dim=0, keepdim=True).clamp(min=1e-8)
        b = b / b.norm(dim=0, keepdim=True).clamp(min=1e-8)
        gaps.append(float((a.T @ a - b.T @ b).abs().mean()))
    return 1.0 - sum(gaps) / len(gaps)


def sharpness(picture: Image.Image) -> float:
    """Mean absolute Laplacian of the luminance (0-255) at the picture's own size: detail per px."""
    y = pil_to_tensor(picture.convert("RGB"))
    y = 255 * (y * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)
    return float(F.conv2d(y, kernel).abs().mean())
