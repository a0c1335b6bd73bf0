"""The decoder: relu4_1 features of VGG-19 (512 channels at 1/8 size) back to an RGB picture.

A mirror of VGG-19's first four blocks at a quarter of their width: nearest-neighbour upsampling
before each block (no checkerboard), reflection padding (no dark border). At width 32 it costs
about a quarter of the encoder, so a 512 px picture is mostly the encoder's time.

relu4_1 has lost the photo's fine detail in three poolings, and a decoder that must invent it
paints blur. So each block also sees the band of the photo's luminance at its own scale (a
Laplacian pyramid: what each finer scale adds), weighted by ``detail`` (0: none, 1: all): the
decoder takes edges and texture from the photo and colour and strokes from the transformed
features.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nst.universal.networks import FEATURE_CHANNELS
from nst.vgg.features import FEATURE_RMS

#: The encoder layer whose features the decoder inverts, and the layers its training compares.
ENCODER_LAYER = "relu4_1"
LOSS_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
# ITU-R BT.601 luma, as nst.picture's.
_LUMA = (0.299, 0.587, 0.114)


def _conv(in_channels: int, out_channels: int, relu: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, 3, padding=1, padding_mode="reflect")]
    return [*layers, nn.ReLU()] if relu else layers


def detail_bands(photo: torch.Tensor) -> list[torch.Tensor]:
    """The photo's luminance as Laplacian bands at 1/4, 1/2 and full size (coarsest first), each
    (N, 1, h, w): what that scale adds to the one below. ``photo``'s sides are multiples of 8."""
    weights = torch.tensor(_LUMA, dtype=photo.dtype, device=photo.device).view(1, 3, 1, 1)
    levels = [(photo * weights).sum(1, keepdim=True)]
    for _ in range(3):
        levels.append(F.avg_pool2d(levels[-1], 2))
    bands = []
    for fine, coarse in zip(levels[:3], levels[1:4], strict=True):
        bands.append(fine - F.interpolate(coarse, scale_factor=2, mode="bilinear", align_corners=False))
    return bands[::-1]


class Decoder(nn.Module):
    """(N, 512, h, w) calibrated relu4_1 features (and the photo's detail bands) -> (N, 3, 8h, 8w) RGB,
    about [0, 1] (unclamped)."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.width = width
        w = width
        self.deep = nn.Sequential(*_conv(FEATURE_CHANNELS, 4 * w))
        # Each block: upsample, concatenate the detail band of its scale, convolve.
        self.blocks = nn.ModuleList([
            nn.Sequential(*_conv(4 * w + 1, 4 * w), *_conv(4 * w, 4 * w), *_conv(4 * w, 2 * w)),
            nn.Sequential(*_conv(2 * w + 1, 2 * w), *_conv(2 * w, w)),
            nn.Sequential(*_conv(w + 1, w), *_conv(w, 3, relu=False)),
        ])

    def forward(self, features: torch.Tensor, bands: list[torch.Tensor] | None = None,
                detail: float | torch.Tensor = 0.0) -> torch.Tensor:
        # Calibrated features have an RMS of about FEATURE_RMS; the network wants them near 1.
        x = self.deep(features / FEATURE_RMS)
        for i, block in enumerate(self.blocks):
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            band = (bands[i] * detail * 10.0 if bands is not None  # bands are small: about 0.05
                    else x.new_zeros(x.shape[0], 1, *x.shape[-2:]))
            x = block(torch.cat([x, band.to(x.dtype)], 1))
        return x
