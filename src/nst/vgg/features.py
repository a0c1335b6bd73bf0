"""VGG-19 (16 conv + 5 pool layers, no classifier) with the paper's layer names.

The extractor takes [0, 1] RGB images and applies its weights' own preprocessing, so no other
module knows about BGR or ImageNet means. It is truncated after the deepest requested layer,
frozen, and returns a dict holding only the requested layers.

Feature scale: each layer's output is multiplied by a constant so that its root-mean-square
response to a fixed reference image (see `reference_image`) is `FEATURE_RMS`. This puts every layer
of every weights source in the same units, so the paper's alpha = 1, beta = 1e4 and unit layer
weights give the same balance whichever weights are used; the losses' 1/HWC normalisations make it
independent of the image size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from nst.errors import InputError
from nst.vgg.layers import LAYER_INDEX, LAYER_NAMES, POOLINGS, check_layer_names, deepest
from nst.vgg.weights import VGGWeights

#: Calibrated RMS of every layer's response to the reference image. The content loss scales with
#: its square and the style loss with its fourth power, so this one number sets the balance of
#: alpha = 1 against beta = 1e4. 1/40 was chosen by eye on tubingen x starry_night at 128-512 px:
#: the buildings stay recognisable and the brush work is clearly van Gogh's (docs/calibration.md).
FEATURE_RMS = 0.025


def reference_image(size: int = 224, seed: int = 1508) -> torch.Tensor:
    """A fixed, natural-looking (1/f spectrum, colour-correlated) image in [0, 1], (1, 3, size, size).

    Used only to calibrate feature scales; generated from a seed so nothing has to ship.
    """
    gen = torch.Generator().manual_seed(seed)
    freq_y = torch.fft.fftfreq(size).view(-1, 1)
    freq_x = torch.fft.rfftfreq(size).view(1, -1)
    amplitude = 1.0 / torch.sqrt(freq_y**2 + freq_x**2).clamp(min=1.0 / size)
    luminance_and_tints = []
    for _ in range(3):
        phase = torch.rand(size, size // 2 + 1, generator=gen) * 2 * math.pi
        spectrum = amplitude * torch.polar(torch.ones_like(phase), phase)
        channel = torch.fft.irfft2(spectrum, s=(size, size))
        luminance_and_tints.append(channel / channel.std())
    lum, tint_a, tint_b = luminance_and_tints
    rgb = torch.stack([lum + 0.3 * tint_a, lum, lum + 0.3 * tint_b])
    return (0.5 + 0.18 * rgb).clamp(0, 1).unsqueeze(0)


class VGG19Features(nn.Module):
    """Frozen VGG-19 trunk returning {layer name: feature map} for the requested layers.

    Args:
        weights: conv weights and their preprocessing (`nst.vgg.weights.load_weights`).
        layers: names to return, e.g. ``("conv4_2", "conv1_1")``.
        pooling: "avg" (the paper's choice) or "max" (VGG's own).
        calibrate: scale each layer to `FEATURE_RMS` on `reference_image` (see module doc);
            False returns the network's raw responses.
    """

    def __init__(
        self,
        weights: VGGWeights,
        layers: Sequence[str],
        pooling: str = "avg",
        calibrate: bool = True,
    ) -> None:
        super().__init__()
        layers = tuple(dict.fromkeys(layers))
        if not layers:
            raise InputError("no layers requested")
        check_layer_names(layers)
        if pooling not in POOLINGS:
            raise InputError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
        self.layers = layers
        self.preprocessing = weights.preprocessing
        last = LAYER_INDEX[deepest(layers)]
        self.names = LAYER_NAMES[: last + 1]
        modules: list[nn.Module] = []
        in_channels = 3
        for name in self.names:
            if name.startswith("conv"):
                weight, bias = weights.convs[name]
                conv = nn.Conv2d(in_channels, weight.shape[0], kernel_size=3, padding=1)
                conv.weight.data.copy_(weight)
                conv.bias.data.copy_(bias)
                modules.append(conv)
                in_channels = weight.shape[0]
            elif name.startswith("relu"):
                modules.append(nn.ReLU(inplace=False))
            else:
                pool = nn.AvgPool2d if pooling == "avg" else nn.MaxPool2d
                modules.append(pool(kernel_size=2, stride=2))
        self.body = nn.ModuleList(modules)
        self.register_buffer("scales", torch.ones(len(layers)), persistent=False)
        self.eval().requires_grad_(False)
        if calibrate:
            with torch.no_grad():
                raw = self._forward_raw(reference_image())
            rms = torch.stack([raw[name].pow(2).mean().sqrt() for name in layers])
            self.scales.copy_(rms.clamp(min=1e-6) / FEATURE_RMS)

    def _forward_raw(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.preprocessing.apply(image)
        wanted = set(self.layers)
        out: dict[str, torch.Tensor] = {}
        for name, module in zip(self.names, self.body, strict=False):
            x = module(x)
            if name in wanted:
                out[name] = x
        return out

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """(N, 3, H, W) RGB in [0, 1] -> {layer: (N, C, h, w) calibrated features}."""
        if image.dim() != 4 or image.shape[1] != 3:
            raise InputError(f"expected an (N, 3, H, W) image tensor, got shape {tuple(image.shape)}")
        raw = self._forward_raw(image)
        return {name: raw[name] / self.scales[i] for i, name in enumerate(self.layers)}
