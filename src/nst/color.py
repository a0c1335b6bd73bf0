"""Colour control (Gatys, Bethge, Hertzmann and Shechtman 2016, "Preserving Color in Neural
Artistic Style Transfer"). Pure functions on (N, 3, H, W) RGB tensors in [0, 1].

* Luminance-only transfer: stylize the luminance channel alone (the style's luminance first
  matched to the content's mean and spread), then put the content's chroma back.
* Histogram matching: give the style image the content's colour mean and covariance before the
  transfer, so the style's palette becomes the photo's.
"""

from __future__ import annotations

import torch

# ITU-R BT.601 RGB -> YIQ, the colour space of the paper's luminance-only transfer.
_RGB_TO_YIQ = torch.tensor(
    [
        [0.299, 0.587, 0.114],
        [0.595716, -0.274453, -0.321263],
        [0.211456, -0.522591, 0.311135],
    ]
)


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB -> YIQ (Y in [0, 1], I and Q signed)."""
    matrix = _RGB_TO_YIQ.to(image.device, image.dtype)
    return torch.einsum("ij,njhw->nihw", matrix, image)


def yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """Inverse of `rgb_to_yiq` (not clamped)."""
    matrix = torch.linalg.inv(_RGB_TO_YIQ.double()).to(image.device, image.dtype)
    return torch.einsum("ij,njhw->nihw", matrix, image)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """Y of YIQ as a grey RGB image, (N, 3, H, W)."""
    return rgb_to_yiq(image)[:, :1].expand(-1, 3, -1, -1).contiguous()


def match_luminance(style_luma: torch.Tensor, content_luma: torch.Tensor) -> torch.Tensor:
    """Shift and scale the style's luminance to the content's mean and standard deviation."""
    s_mean, s_std = style_luma.mean(), style_luma.std().clamp(min=1e-6)
    c_mean, c_std = content_luma.mean(), content_luma.std()
    return ((style_luma - s_mean) / s_std * c_std + c_mean).clamp(0, 1)


def recombine_chroma(stylized_luma: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Y of ``stylized_luma`` (an RGB image, usually grey), I and Q from ``content`` -> RGB in [0, 1]."""
    yiq = rgb_to_yiq(content)
    y = rgb_to_yiq(stylized_luma)[:, :1]
    return yiq_to_rgb(torch.cat([y, yiq[:, 1:]], dim=1)).clamp(0, 1)


def _mean_and_covariance(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pixels = image.reshape(3, -1).double()
    mean = pixels.mean(dim=1, keepdim=True)
    centred = pixels - mean
    return mean, centred @ centred.T / pixels.shape[1]


def _matrix_sqrt(matrix: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    values = values.clamp(min=1e-8)
    power = -0.5 if inverse else 0.5
    return vectors @ torch.diag(values**power) @ vectors.T


def match_color_histogram(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """An affine colour transform of ``style`` giving it ``content``'s mean and covariance.

    Uses the symmetric ("image analogies") square root: x' = C_c^1/2 C_s^-1/2 (x - mu_s) + mu_c.
    The result is not clamped, so the statistics match exactly; callers clamp for display.
    """
    s_mean, s_cov = _mean_and_covariance(style[0])
    c_mean, c_cov = _mean_and_covariance(content[0])
    transform = _matrix_sqrt(c_cov) @ _matrix_sqrt(s_cov, inverse=True)
    pixels = style[0].reshape(3, -1).double()
    matched = transform @ (pixels - s_mean) + c_mean
    return matched.reshape(style.shape).to(style.dtype)
