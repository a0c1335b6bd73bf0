"""The decoder: relu4_1 features of VGG-19 (512 channels at 1/8 size) back to an RGB picture.

A mirror of VGG-19's first four blocks at a quarter of their width: nearest-neighbour upsampling
before each block (no checkerboard), reflection padding (no dark border). At width 32 it costs
about a quarter of the encoder, so a 512 px picture is mostly the encoder's time.
"""

from __future__ import annotations

from torch import nn

from nst.vgg.features import FEATURE_RMS

#: The encoder layer whose features the decoder inverts, and the layers its training compares.
ENCODER_LAYER = "relu4_1"
LOSS_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
FEATURE_CHANNELS = 512
#: How much smaller the relu4_1 map is than the picture (three poolings).
STRIDE = 8


def _conv(in_channels: int, out_channels: int, relu: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, 3, padding=1, padding_mode="reflect")]
    return [*layers, nn.ReLU()] if relu else layers


class Decoder(nn.Module):
    """(N, 512, h, w) calibrated relu4_1 features -> (N, 3, 8h, 8w) RGB, about [0, 1] (unclamped)."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.width = width
        w = width
        up = nn.Upsample(scale_factor=2, mode="nearest")
        self.body = nn.Sequential(
            *_conv(FEATURE_CHANNELS, 4 * w),
            up, *_conv(4 * w, 4 * w), *_conv(4 * w, 4 * w), *_conv(4 * w, 2 * w),
            up, *_conv(2 * w, 2 * w), *_conv(2 * w, w),
            up, *_conv(w, w), *_conv(w, 3, relu=False),
        )

    def forward(self, features):  # type: ignore[no-untyped-def]
        # Calibrated features have an RMS of about FEATURE_RMS; the network wants them near 1.
        return self.body(features / FEATURE_RMS)
