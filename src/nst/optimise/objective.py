"""The paper's objective for one output size: content and style targets, computed once.

`Objective` is called on an image and returns the weighted total and each term; `LossBreakdown`
holds those terms as numbers. `compute_style_grams` gives the style targets, for tiles too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from nst import losses
from nst.optimise import masks
from nst.optimise.config import StyleConfig
from nst.optimise.fixed import SUBJECT_LAYER
from nst.vgg.features import VGG19Features


@dataclass(frozen=True)
class LossBreakdown:
    """The terms of the objective for one image. ``total`` is what the optimiser minimises."""

    content: float
    style: float
    tv: float
    total: float
    content_layers: dict[str, float]
    style_layers: dict[str, float]
    #: The weighted Laplacian (outline) term; 0 when it is off.
    laplacian: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "content": self.content,
            "style": self.style,
            "tv": self.tv,
            "total": self.total,
            "content_layers": dict(self.content_layers),
            "style_layers": dict(self.style_layers),
            "laplacian": self.laplacian,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LossBreakdown:
        """Inverse of `to_dict`."""
        return cls(
            content=float(data["content"]),
            style=float(data["style"]),
            tv=float(data["tv"]),
            total=float(data["total"]),
            content_layers={str(k): float(v) for k, v in data["content_layers"].items()},
            style_layers={str(k): float(v) for k, v in data["style_layers"].items()},
            laplacian=float(data.get("laplacian", 0.0)),  # absent from records made before it
        )


class Objective:
    """The paper's loss for one output size, with targets computed once from content and style.

    Calling it on an image returns (total loss tensor, LossBreakdown-ready tensors).
    """

    def __init__(
        self,
        extractor: VGG19Features,
        config: StyleConfig,
        content: torch.Tensor,
        styles: Sequence[torch.Tensor],
        style_blend: Sequence[float] | None = None,
        regions: torch.Tensor | None = None,
        style_grams: dict[str, list[torch.Tensor]] | None = None,
        picture_size: int | None = None,
    ) -> None:
        """``regions`` (1 + len(styles), H, W), from `nst.optimise.masks.mask_regions`, gives each style
        its own part of the picture (channel 0: no style); None blends the styles everywhere.
        ``style_grams`` ({layer: one per-position Gram per style}, see `style_grams`) replaces
        computing them from ``styles``, for tiles of a picture too large to see whole; a tile also
        gives ``picture_size``, the whole picture's longest side, which sets the Laplacian term's
        averaging (None: ``content`` is the whole picture)."""
        self.extractor = extractor
        self.config = config
        self.regions: dict[str, torch.Tensor] = {}
        self.region_targets: dict[str, list[torch.Tensor]] = {}
        self.content_weights = (1.0,) * len(config.content_layers)
        self.style_weights = config.effective_style_layer_weights()
        blend = list(style_blend) if style_blend is not None else [1.0 / len(styles)] * len(styles)
        with torch.no_grad():
            content_features = extractor(content)
            self.content_targets = {k: content_features[k].detach() for k in config.content_layers}
            self.positions = {k: v.shape[-2] * v.shape[-1] for k, v in content_features.items()}
            # The photo's subject weighs more in the content loss (a tile: its own subject).
            self.content_position_weights: dict[str, torch.Tensor] = {}
            if config.weighs_subject:
                subject = content_features[SUBJECT_LAYER]
                for layer in config.content_layers:
                    size = content_features[layer].shape[-2:]
                    self.content_position_weights[layer] = losses.subject_weights(subject, config.subject_weight, size)
            self.laplacian_pool = config.laplacian_pool(picture_size or max(content.shape[-2:]))
            self.laplacian_target = (
                losses.laplacian_target(content, self.laplacian_pool) if config.laplacian_weight else None
            )
            if style_grams is None:
                style_grams = compute_style_grams(extractor, config, styles)
            self.style_targets: dict[str, torch.Tensor] = {}
            for layer in config.style_layers:
                if regions is not None:  # each region matches its own style's Gram, per position
                    self.region_targets[layer] = list(style_grams[layer])
                else:
                    mixed = sum(g * share for g, share in zip(style_grams[layer], blend, strict=True))
                    self.style_targets[layer] = mixed * self.positions[layer]  # type: ignore[operator]
            if regions is not None:
                for layer in config.style_layers:
                    h, w = content_features[layer].shape[-2:]
                    self.regions[layer] = masks.resize_regions(regions.to(content.device), h, w)

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        cfg = self.config
        features = self.extractor(image)
        terms: dict[str, torch.Tensor] = {}
        total = image.new_zeros(())
        for layer, w in zip(cfg.content_layers, self.content_weights, strict=False):
            position_weights = self.content_position_weights.get(layer)
            terms[f"content:{layer}"] = w * losses.content_loss(
                features[layer], self.content_targets[layer], position_weights
            )
            total = total + cfg.content_weight * terms[f"content:{layer}"]
        for layer, w in zip(cfg.style_layers, self.style_weights, strict=False):
            terms[f"style:{layer}"] = w * self._style_term(layer, features[layer])
            total = total + cfg.style_weight * terms[f"style:{layer}"]
        if cfg.tv_weight:
            terms["tv"] = losses.tv_loss(image)
            total = total + cfg.tv_weight * terms["tv"]
        if self.laplacian_target is not None:
            terms["laplacian"] = losses.laplacian_loss(image, self.laplacian_target, self.laplacian_pool)
            total = total + cfg.laplacian_weight * terms["laplacian"]
        return total, terms

    def _style_term(self, layer: str, features: torch.Tensor) -> torch.Tensor:
        if not self.regions:
            return losses.style_loss(features, self.style_targets[layer])
        # Gatys et al. 2017: a guided Gram per region, weighted by the region's share of the picture.
        weights = self.regions[layer]
        term = features.new_zeros(())
        for region, target in enumerate(self.region_targets[layer], start=1):
            share = weights[region].mean()
            if share > 0:
                gram = losses.masked_gram(features, weights[region])
                term = term + share * losses.style_loss_per_position(gram, target)
        return term

    def breakdown(self, total: torch.Tensor, terms: dict[str, torch.Tensor]) -> LossBreakdown:
        """Python floats of the weighted terms (one host sync)."""
        cfg = self.config
        keys = list(terms)
        values = torch.stack([terms[k].detach().float() for k in keys] + [total.detach().float()]).tolist()
        named = dict(zip(keys, values[:-1], strict=False))
        content_layers = {
            k.split(":", 1)[1]: cfg.content_weight * v for k, v in named.items() if k.startswith("content:")
        }
        style_layers = {
            k.split(":", 1)[1]: cfg.style_weight * v for k, v in named.items() if k.startswith("style:")
        }
        return LossBreakdown(
            content=sum(content_layers.values()),
            style=sum(style_layers.values()),
            tv=cfg.tv_weight * named.get("tv", 0.0),
            total=values[-1],
            content_layers=content_layers,
            style_layers=style_layers,
            laplacian=cfg.laplacian_weight * named.get("laplacian", 0.0),
        )


def _style_tiles(
    extractor: VGG19Features, layers: Sequence[str], style: torch.Tensor, tile: int | None
) -> Iterator[dict[str, torch.Tensor]]:
    """The style image's features at ``layers``, tile by tile ({layer: the tile's own positions});
    the whole image at once without ``tile`` or when it fits in one."""
    h, w = style.shape[-2:]
    step = tile or max(h, w)
    # Each tile is seen with a margin of context around it, so that the deep layers' responses
    # in it are those of the whole image; only the tile's own positions count.
    margin = 0 if step >= max(h, w) else min(128, step // 2)
    for top in range(0, h, step):
        for left in range(0, w, step):
            y0, x0 = max(0, top - margin), max(0, left - margin)
            piece = style[..., y0 : min(h, top + step + margin), x0 : min(w, left + step + margin)]
            if min(piece.shape[-2:]) < 16:
                continue  # a sliver at the edge: too small for the network, negligible
            features = extractor(piece)
            own: dict[str, torch.Tensor] = {}
            for layer in layers:
                stride = piece.shape[-1] / features[layer].shape[-1]
                inner = (
                    ...,
                    slice(round((top - y0) / stride), round((min(h, top + step) - y0) / stride)),
                    slice(round((left - x0) / stride), round((min(w, left + step) - x0) / stride)),
                )
                if features[layer][inner].numel():
                    own[layer] = features[layer][inner]
            yield own


def compute_style_grams(
    extractor: VGG19Features, config: StyleConfig, styles: Sequence[torch.Tensor], tile: int | None = None
) -> dict[str, list[torch.Tensor]]:
    """Per-position Gram matrices of each style image at each style layer: {layer: [one per style]}.

    With ``tile``, a large style image is seen in non-overlapping tiles and their Grams summed
    (a Gram matrix is a sum over positions), so memory is bounded by the tile, not the image.
    With ``config.salient_quantile`` below 1, the salient layers' strongest positions are left
    out (`losses.without_salient`) and the Gram is per kept position; a tiled image is seen
    twice, first for the norms of all its positions, so the cut is the whole image's.
    """
    quantiles = {layer: config.salient_quantile_of(layer) for layer in config.style_layers}
    grams: dict[str, list[torch.Tensor]] = {layer: [] for layer in config.style_layers}
    with torch.no_grad():
        for style in styles:
            cuts: dict[str, losses.SalientCut] = {}
            if tile and tile < max(style.shape[-2:]) and min(quantiles.values()) < 1:
                salient = [layer for layer, q in quantiles.items() if q < 1]
                norms: dict[str, list[torch.Tensor]] = {layer: [] for layer in salient}
                for features in _style_tiles(extractor, salient, style, tile):
                    for layer, f in features.items():
                        norms[layer].append(losses.position_norms(f))
                cuts = {layer: losses.SalientCut.of(torch.cat(norms[layer]), quantiles[layer]) for layer in salient}
            sums: dict[str, torch.Tensor] = {}
            positions: dict[str, int] = {}
            for features in _style_tiles(extractor, config.style_layers, style, tile):
                for layer, f in features.items():
                    kept = losses.without_salient(f, quantiles[layer], cuts.get(layer))
                    gram = losses.gram_matrix(kept).mean(dim=0, keepdim=True)
                    sums[layer] = sums[layer] + gram if layer in sums else gram
                    positions[layer] = positions.get(layer, 0) + kept.shape[-1]
            for layer in config.style_layers:
                grams[layer].append(sums[layer] / positions[layer])
    return grams
