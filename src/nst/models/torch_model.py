"""Painting with a style model in torch: any device, and photos of any size in bounded memory.

A photo too large to paint whole is painted in tiles. Instance normalisation makes each picture's
statistics part of the network's computation, so tiles normalised on their own would each get
their own tone and show seams. Here every instance-norm layer uses statistics measured once on
the whole photo (at `STATS_SIZE` px), after which the network is a purely local function of its
input: a tile with a margin wider than the network's reach (`REACH` px) paints its inner part
exactly as the whole picture would, so tiles are pasted without blending and without seams.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from nst.image import ImageSource
from nst.models.card import ModelCard
from nst.models.network import TransformerNet
from nst.models.registry import resolve_model
from nst.models.store import load_model
from nst.picture import BORDER, TILE_ABOVE_PIXELS, as_pil, check_options, finish, prepare

TILE_SIZE = 1024
#: The network sees this far around a pixel (radius): 9x9 and 3x3 convolutions at strides 1-4.
REACH = 52
#: Tile margins: the reach rounded up to a multiple of 4 (the network's total stride).
MARGIN = 64
#: Instance-norm statistics of a tiled photo are measured on the photo at this size.
STATS_SIZE = 1024


class StyleModel:
    """A trained style model, loaded once, painting many photos.

    >>> model = StyleModel.load("starry-night")            # doctest: +SKIP
    >>> model.paint("photo.jpg", size=1024).save("out.png")  # doctest: +SKIP
    """

    def __init__(self, network: TransformerNet, card: ModelCard, device: str | torch.device = "cpu"):
        self.device = torch.device(device)
        self.network = network.to(self.device).eval().requires_grad_(False)
        self.card = card

    @classmethod
    def load(cls, name_or_path: str | os.PathLike, device: str | torch.device = "cpu") -> StyleModel:
        """A bundled model by name (``nst models`` lists them) or a ``.pt`` file from ``nst train``."""
        files = resolve_model(name_or_path)
        if files.torch_path is None:
            from nst.errors import InputError

            raise InputError(f"'{files.onnx_path}' is an ONNX file: use nst.load_style_model for it, "
                             "or the .pt file it was exported from")
        network, card = load_model(files.torch_path)
        return cls(network, card, device)

    @property
    def name(self) -> str:
        return self.card.name

    def paint_tensor(self, photo: torch.Tensor, tile_size: int | None = None) -> torch.Tensor:
        """(1, 3, H, W) in [0, 1] -> the network's (1, 3, H, W) output, clamped to [0, 1].

        Tiled (``tile_size`` px tiles) when the photo has more than `TILE_ABOVE_PIXELS` pixels
        or when ``tile_size`` is given.
        """
        photo = photo.to(self.device, torch.float32)
        h, w = photo.shape[-2:]
        with torch.inference_mode():
            framed = _with_border(photo)
            if tile_size is None and h * w <= TILE_ABOVE_PIXELS:
                painted = self.network(framed)
            else:
                painted = self._paint_tiled(framed, tile_size or TILE_SIZE)
            return painted[..., BORDER : BORDER + h, BORDER : BORDER + w].clamp(0, 1)

    def paint(
        self,
        photo: ImageSource,
        size: int | None = None,
        strength: float = 1.0,
        preserve_color: str = "none",
        tile_size: int | None = None,
    ) -> Image.Image:
        """Paint a photo (path, PIL image or tensor) at ``size`` px on its longest side (default:
        its own size, capped at 2048); ``strength`` 0 gives the photo, 1 the full style;
        ``preserve_color="luminance"`` keeps the photo's colours."""
        check_options(strength, preserve_color)
        array = prepare(as_pil(photo, size), size)
        painted = self.paint_tensor(torch.from_numpy(array), tile_size).cpu().numpy()
        return finish(array, painted, strength, preserve_color)

    def _paint_tiled(self, photo: torch.Tensor, tile: int) -> torch.Tensor:
        tile = max(64, tile // 4 * 4)
        h, w = photo.shape[-2:]
        small = photo
        if max(h, w) > STATS_SIZE:
            scale = STATS_SIZE / max(h, w)
            small = F.interpolate(photo, size=(max(8, round(h * scale)), max(8, round(w * scale))),
                                  mode="bilinear", antialias=True, align_corners=False)
        stats = _instance_norm_stats(self.network, small)
        out = torch.empty_like(photo)
        with _frozen_instance_norms(self.network, stats):
            for top in range(0, h, tile):
                for left in range(0, w, tile):
                    y0, x0 = max(0, top - MARGIN), max(0, left - MARGIN)
                    y1, x1 = min(h, top + tile + MARGIN), min(w, left + tile + MARGIN)
                    painted = self.network(photo[..., y0:y1, x0:x1])
                    bottom, right = min(h, top + tile), min(w, left + tile)
                    out[..., top:bottom, left:right] = painted[..., top - y0 : bottom - y0, left - x0 : right - x0]
        return out


def _with_border(photo: torch.Tensor) -> torch.Tensor:
    """The photo with `BORDER` px mirrored around it, exactly as `nst.picture.with_border`
    (NumPy's "symmetric" mirror, which works for photos of any size)."""
    h, w = photo.shape[-2:]
    rows = torch.from_numpy(np.pad(np.arange(h), BORDER, mode="symmetric")).to(photo.device)
    cols = torch.from_numpy(np.pad(np.arange(w), BORDER, mode="symmetric")).to(photo.device)
    return photo.index_select(-2, rows).index_select(-1, cols)


def _instance_norms(network: nn.Module) -> Iterator[nn.InstanceNorm2d]:
    return (m for m in network.modules() if isinstance(m, nn.InstanceNorm2d))


def _instance_norm_stats(network: nn.Module, photo: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Each instance-norm layer's per-channel input mean and variance on ``photo``, in order."""
    stats: list[tuple[torch.Tensor, torch.Tensor]] = []

    def record(_module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        x = inputs[0]
        stats.append((x.mean(dim=(-2, -1), keepdim=True), x.var(dim=(-2, -1), unbiased=False, keepdim=True)))

    handles = [m.register_forward_pre_hook(record) for m in _instance_norms(network)]
    try:
        network(photo)
    finally:
        for handle in handles:
            handle.remove()
    return stats


@contextlib.contextmanager
def _frozen_instance_norms(network: nn.Module, stats: list[tuple[torch.Tensor, torch.Tensor]]) -> Iterator[None]:
    """Within the block, instance-norm layers normalise with ``stats`` instead of their input's."""
    norms = list(_instance_norms(network))

    def frozen(module: nn.InstanceNorm2d, mean: torch.Tensor, var: torch.Tensor):
        def forward(x: torch.Tensor) -> torch.Tensor:
            y = (x - mean) * torch.rsqrt(var + module.eps)
            if module.affine:
                y = y * module.weight.view(1, -1, 1, 1) + module.bias.view(1, -1, 1, 1)
            return y

        return forward

    for module, (mean, var) in zip(norms, stats, strict=True):
        module.forward = frozen(module, mean, var)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for module in norms:
            del module.forward
