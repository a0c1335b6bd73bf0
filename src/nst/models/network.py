"""The image transformation network of Johnson, Alahi and Fei-Fei (2016), as nst trains it.

Johnson et al.'s design (a 9x9 convolution, two stride-2 convolutions, residual blocks at a
quarter of the resolution, two upsampling steps, a 9x9 convolution back to RGB) with two changes
that later work showed to matter:

- instance normalisation instead of batch normalisation (Ulyanov, Vedaldi and Lempitsky 2016):
  each picture is normalised on its own, which gives cleaner stylisations and makes the output
  independent of whatever else is in the batch;
- nearest-neighbour upsampling followed by a convolution instead of transposed convolutions
  (Odena, Dumoulin and Olah 2016, "Deconvolution and Checkerboard Artifacts"): no checkerboard.

``width`` is the channel count of the first layer (Johnson et al.: 32). nst's default is 16,
which makes a 512 px picture about four times cheaper; see `nst.models.config.TrainConfig`.
The network takes and returns (N, 3, H, W) RGB in [0, 1]; any H and W work (the input is
reflect-padded to a multiple of 4 and the output cropped back).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ConvLayer(nn.Sequential):
    """Convolution ("same" size, zero padding), then (optionally) instance normalisation and ReLU.

    Zero padding inside the network, reflection padding once at its input (`TransformerNet`):
    as Johnson et al., and a separate padding op per layer would cost about 15% of the time of
    a 512 px picture in onnxruntime (each one interrupts its blocked memory layout).
    """

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, *, norm_relu: bool = True,
                 padding: int | None = None):
        pad = kernel // 2 if padding is None else padding
        layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=pad)]
        if norm_relu:
            layers += [nn.InstanceNorm2d(out_ch, affine=True), nn.ReLU(inplace=True)]
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with instance normalisation, added to the input (He et al. 2016)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            ConvLayer(channels, channels, 3),
            ConvLayer(channels, channels, 3, norm_relu=False),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class UpsampleConv(nn.Sequential):
    """Nearest-neighbour 2x upsampling, then a convolution (no checkerboard artefacts)."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__(nn.Upsample(scale_factor=2, mode="nearest"), ConvLayer(in_ch, out_ch, 3))


class TransformerNet(nn.Module):
    """Photo in, painting out: (N, 3, H, W) RGB in [0, 1] -> the same shape.

    Args:
        width: channels of the first layer; the others are 2x and 4x that.
        residual_blocks: residual blocks at a quarter of the resolution (Johnson et al.: 5).
    """

    def __init__(self, width: int = 16, residual_blocks: int = 5):
        super().__init__()
        self.width = width
        self.residual_blocks = residual_blocks
        self.encoder = nn.Sequential(
            ConvLayer(3, width, 9, padding=0),  # its input is reflect-padded in `forward`
            ConvLayer(width, 2 * width, 3, stride=2),
            ConvLayer(2 * width, 4 * width, 3, stride=2),
        )
        self.residuals = nn.Sequential(*(ResidualBlock(4 * width) for _ in range(residual_blocks)))
        self.decoder = nn.Sequential(
            UpsampleConv(4 * width, 2 * width),
            UpsampleConv(2 * width, width),
            ConvLayer(width, 3, 3, norm_relu=False),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        height, width = image.shape[-2:]
        # One reflection pad: 4 px all round for the 9x9 kernel (the photo's border is mirrored,
        # not black), and up to a multiple of 4 for the two stride-2 steps, so the output comes
        # back at the input's size. Always a pad (perhaps of 0 extra): an exported graph must
        # pad whatever size it is given.
        x = F.pad(image * 2 - 1, (4, 4 + (-width) % 4, 4, 4 + (-height) % 4), mode="reflect")
        # The network works on [-1, 1] inputs around zero and predicts [0, 1] RGB.
        x = self.decoder(self.residuals(self.encoder(x)))
        return x[..., :height, :width]
