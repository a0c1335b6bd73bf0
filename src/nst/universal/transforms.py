"""Feature transforms that give the photo's features the painting's statistics (pure NumPy functions).

Each takes (C, N) feature matrices (channels x positions) of the photo and the painting and
returns the photo's with the painting's statistics; the positions keep their photo layout. NumPy,
so the any-painting engine runs without torch (its networks on onnxruntime).
"""

from __future__ import annotations

import numpy as np

from nst.universal.config import TRANSFORMS  # noqa: F401  (re-exported)


def adain(content: np.ndarray, style: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Per-channel mean and spread of the painting (Huang and Belongie 2017)."""
    c_mean, c_std = content.mean(1, keepdims=True), content.std(1, ddof=1, keepdims=True) + eps
    s_mean, s_std = style.mean(1, keepdims=True), style.std(1, ddof=1, keepdims=True)
    return ((content - c_mean) / c_std * s_std + s_mean).astype(content.dtype)


def moments(features: np.ndarray, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """Mean (C, 1) and covariance (C, C) of (C, N) features, in float64, ridge-regularised."""
    x = features.astype(np.float64)
    mean = x.mean(1, keepdims=True)
    centred = x - mean
    cov = centred @ centred.T / max(1, x.shape[1] - 1)
    scale = max(float(cov.diagonal().mean()), 1e-12)
    return mean, cov + eps * scale * np.eye(cov.shape[0])


def sqrt_and_inverse_sqrt(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, vectors = np.linalg.eigh(cov)
    values = np.maximum(values, values.max() * 1e-8)
    root = np.sqrt(values)
    return (vectors * root) @ vectors.T, (vectors / root) @ vectors.T


def wct_from_moments(content: np.ndarray, style_mean: np.ndarray, style_cov_sqrt: np.ndarray,
                     content_moments: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Whiten the photo's features, colour them with the painting's covariance (Li et al. 2017).

    ``style_cov_sqrt``: the painting's covariance's square root (taken once per painting);
    ``content_moments``: the photo's mean and covariance when ``content`` is one tile of it."""
    c_mean, c_cov = content_moments if content_moments is not None else moments(content)
    _, c_inv_sqrt = sqrt_and_inverse_sqrt(c_cov)
    # One matrix for both steps: (C, C) @ (C, N) once instead of twice.
    out = (style_cov_sqrt @ c_inv_sqrt) @ (content.astype(np.float64) - c_mean) + style_mean
    return out.astype(content.dtype)


def wct(content: np.ndarray, style: np.ndarray) -> np.ndarray:
    style_mean, style_cov = moments(style)
    return wct_from_moments(content, style_mean, sqrt_and_inverse_sqrt(style_cov)[0])


def transform(name: str, content: np.ndarray, style: np.ndarray) -> np.ndarray:
    return wct(content, style) if name == "wct" else adain(content, style)
