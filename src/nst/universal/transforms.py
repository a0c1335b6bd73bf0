"""Feature transforms that give the photo's features the painting's statistics (pure functions).

Each takes (C, N) feature matrices (channels x positions) of the photo and the painting and
returns the photo's with the painting's statistics; the positions keep their photo layout.
"""

from __future__ import annotations

import torch

from nst.universal.config import TRANSFORMS  # noqa: F401  (re-exported)


def adain(content: torch.Tensor, style: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Per-channel mean and spread of the painting (Huang and Belongie 2017)."""
    c_mean, c_std = content.mean(1, keepdim=True), content.std(1, keepdim=True) + eps
    s_mean, s_std = style.mean(1, keepdim=True), style.std(1, keepdim=True)
    return (content - c_mean) / c_std * s_std + s_mean


def moments(features: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (C, 1) and covariance (C, C) of (C, N) features, in float64, ridge-regularised."""
    x = features.double()
    mean = x.mean(1, keepdim=True)
    centred = x - mean
    cov = centred @ centred.T / max(1, x.shape[1] - 1)
    scale = cov.diagonal().mean().clamp(min=1e-12)
    return mean, cov + eps * scale * torch.eye(cov.shape[0], dtype=cov.dtype, device=cov.device)


def sqrt_and_inverse_sqrt(cov: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    values, vectors = torch.linalg.eigh(cov)
    values = values.clamp(min=values.max() * 1e-8)
    root = values.sqrt()
    return (vectors * root) @ vectors.T, (vectors / root) @ vectors.T


def wct_from_moments(content: torch.Tensor, style_mean: torch.Tensor, style_cov_sqrt: torch.Tensor,
                     content_moments: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """Whiten the photo's features, colour them with the painting's covariance (Li et al. 2017).

    ``style_cov_sqrt``: the painting's covariance's square root (taken once per painting);
    ``content_moments``: the photo's mean and covariance when ``content`` is one tile of it."""
    c_mean, c_cov = content_moments if content_moments is not None else moments(content)
    _, c_inv_sqrt = sqrt_and_inverse_sqrt(c_cov)
    out = style_cov_sqrt @ (c_inv_sqrt @ (content.double() - c_mean)) + style_mean
    return out.to(content.dtype)


def wct(content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    style_mean, style_cov = moments(style)
    return wct_from_moments(content, style_mean, sqrt_and_inverse_sqrt(style_cov)[0])


def transform(name: str, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    return wct(content, style) if name == "wct" else adain(content, style)
