"""The paper's losses as pure functions of feature maps (no state, no side effects).

Shapes: feature maps are (N, C, H, W); Gram matrices (N, C, C). Every loss returns a scalar
averaged over the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def content_loss(features: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared difference of feature maps: 1/(HWC) * sum (F - P)^2; with per-position
    ``weights`` (broadcast over channels, e.g. `subject_weights`), 1/(HWC) * sum w (F - P)^2."""
    squared = (features - target).pow(2)
    return (squared * weights if weights is not None else squared).mean()


#: The salience that counts as fully salient: the 99th percentile of the photo's norms, so that
#: one very strong position does not leave the rest of the subject looking flat.
SUBJECT_QUANTILE = 0.99


def subject_weights(features: torch.Tensor, strength: float, size: tuple[int, int]) -> torch.Tensor:
    """Per-position content weights (1, 1, *size), mean 1, from the photo's own ``features`` at
    the subject layer: 1 + (strength - 1) * s^2, s a position's norm over channels relative to
    the `SUBJECT_QUANTILE` of them (at most 1), resized to the content layer's ``size``.

    The deep layers of VGG respond most strongly where the photo has an object (a face, an
    animal, a building) and weakly on sky, water and grass; weighting the content loss by that
    keeps the subject where a uniform alpha lets the painting's strokes cover it, and the mean
    of 1 gives the background as much more style as the subject has less.
    """
    norms = position_norms(features).reshape(1, 1, *features.shape[-2:])
    scale = torch.quantile(norms.flatten(), SUBJECT_QUANTILE).clamp_min(1e-12)
    salience = (norms / scale).clamp(max=1.0).pow(2)
    salience = torch.nn.functional.interpolate(salience, size=size, mode="bilinear", align_corners=False)
    weights = 1.0 + (strength - 1.0) * salience
    return weights / weights.mean()


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """G_ij = sum over positions of F_i * F_j (unnormalised, as in the paper). Always in float32."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w).float()
    return flat @ flat.transpose(1, 2)


def style_loss_from_gram(gram: torch.Tensor, target_gram: torch.Tensor, positions: int) -> torch.Tensor:
    """1/(2 * positions * C)^2 * sum (G - A)^2, with positions = H*W of the layer (the paper's E_l).

    ``target_gram`` may come from an image of another size: both Grams are sums over their own
    positions, so the target is first rescaled to ``positions`` by the caller (see `gram_target`).
    """
    c = gram.shape[-1]
    return (gram - target_gram).pow(2).sum(dim=(-2, -1)).mean() / (2.0 * positions * c) ** 2


def relative_style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """||G - A||^2 / ||A||^2: the Gram difference relative to the target's own size, so that every
    layer counts alike whatever the painting's scale at that layer (for training, where the
    paper's E_l left conv5_1 most of the weight)."""
    gram = gram_matrix(features)
    return ((gram - target_gram).pow(2).sum(dim=(-2, -1)) / target_gram.pow(2).sum().clamp_min(1e-12)).mean()


def style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """The paper's per-layer style loss E_l for features against a target Gram of equal positions."""
    _, _, h, w = features.shape
    return style_loss_from_gram(gram_matrix(features), target_gram, h * w)


def gram_target(features: torch.Tensor, positions: int) -> torch.Tensor:
    """The style target Gram for an output layer with ``positions`` = H*W positions.

    A Gram matrix is a sum over positions, so a style image of another size is rescaled to the
    output's number of positions; the average Gram over the batch makes several images one target.
    """
    _, _, h, w = features.shape
    return (gram_matrix(features) * (positions / (h * w))).mean(dim=0, keepdim=True)


def position_norms(features: torch.Tensor) -> torch.Tensor:
    """The norm over channels of each position of (N, C, H, W) ``features``, averaged over N: (H*W,)."""
    n, c, h, w = features.shape
    return features.reshape(n, c, h * w).float().pow(2).sum(dim=1).sqrt().mean(dim=0)


@dataclass(frozen=True)
class SalientCut:
    """Which positions of a feature map `without_salient` keeps: those whose norm is at most
    ``threshold``, scaled by ``strength``."""

    threshold: float
    strength: float

    @classmethod
    def of(cls, norms: torch.Tensor, quantile: float) -> SalientCut:
        """The cut at ``quantile`` of ``norms`` (`position_norms`, of one map or of all of a
        tiled image's): the kept positions scaled so that their mean squared norm is all of
        them."""
        threshold = torch.quantile(norms, quantile)
        kept = norms[norms <= threshold]
        strength = (norms.pow(2).mean() / kept.pow(2).mean().clamp_min(1e-12)).sqrt()
        return cls(float(threshold), float(strength))


def without_salient(features: torch.Tensor, quantile: float, cut: SalientCut | None = None) -> torch.Tensor:
    """The positions of ``features`` whose norm over channels is at most the ``quantile`` of the
    map's norms, as an (N, C, 1, K) map of the K kept positions (all of them when ``quantile`` is 1),
    scaled so that their mean squared norm is the whole map's. ``cut``: the threshold and scale
    of a larger image this map is a tile of, instead of the map's own.

    A Gram matrix is dominated by a map's strongest positions; in a portrait's deep layers those
    are its eyes, so leaving them out keeps the painting's strokes and drops its focal points. The
    scale gives the kept strokes the painting's full strength: without it these layers' style is
    matched more weakly (brad_pitt x The Scream at (0.9, 0.8): style distance 0.215 with it at
    beta 5e4, 0.220 without it even at 5.5e4).
    """
    n, c, h, w = features.shape
    flat = features.reshape(n, c, 1, h * w)
    if quantile >= 1:
        return flat
    norms = position_norms(features)  # one mask for the batch
    cut = cut or SalientCut.of(norms, quantile)
    return flat[..., norms <= cut.threshold] * cut.strength


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation: mean squared difference of neighbouring pixels (not in the paper)."""
    dy = image[..., 1:, :] - image[..., :-1, :]
    dx = image[..., :, 1:] - image[..., :, :-1]
    return dy.pow(2).mean() + dx.pow(2).mean()


#: ITU-R BT.601 luma weights: the Laplacian term compares brightness, leaving colour to the style.
_LUMA = (0.299, 0.587, 0.114)


def laplacian_loss(image: torch.Tensor, target: torch.Tensor, pool: int) -> torch.Tensor:
    """Mean squared difference of the Laplacians of two images' luminance, each first averaged
    over ``pool`` x ``pool`` blocks (Li et al. 2017, "Laplacian-Steered Neural Style Transfer").

    The pooled Laplacian is zero on flat and smoothly shaded areas and large on the photo's
    outlines (a jaw, a roof line), so it keeps where edges are without fixing colours or tones.
    ``target`` is the pooled Laplacian of the photo (`laplacian_target`).
    """
    return (laplacian_target(image, pool) - target).pow(2).mean()


def laplacian_target(image: torch.Tensor, pool: int) -> torch.Tensor:
    """The pooled luminance Laplacian that `laplacian_loss` compares, shape (N, 1, H/pool, W/pool)."""
    luma = image.new_tensor(_LUMA).view(1, 3, 1, 1)
    y = (image * luma).sum(dim=1, keepdim=True)
    if pool > 1:
        y = torch.nn.functional.avg_pool2d(y, pool, ceil_mode=True)
    kernel = image.new_tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)
    return torch.nn.functional.conv2d(torch.nn.functional.pad(y, (1, 1, 1, 1), mode="replicate"), kernel)


def masked_gram(features: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Per-position Gram matrix of one region: sum_p w_p F_p F_p^T / sum_p w_p, shape (1, C, C).

    ``weights`` is (H, W), the region's soft mask at this layer's resolution (Gatys et al. 2017's
    guided Gram matrices). With all weights 1 this is ``gram_matrix(features) / (H * W)``.
    """
    _, c, h, w = features.shape
    flat = features.reshape(1, c, h * w).float()
    weight = weights.reshape(1, 1, h * w).to(flat)
    return (flat * weight) @ flat.transpose(1, 2) / weight.sum().clamp(min=1e-6)


def style_loss_per_position(gram: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The paper's E_l written with per-position Grams g = G / (H*W): 1/(4C^2) * sum (g - a)^2."""
    c = gram.shape[-1]
    return (gram - target).pow(2).sum(dim=(-2, -1)).mean() / (4.0 * c * c)
