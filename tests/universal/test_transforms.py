"""The feature transforms give the photo's features the painting's statistics."""

from __future__ import annotations

import numpy as np
import torch

from nst.universal.paint import Moments
from nst.universal.transforms import adain, moments, sqrt_and_inverse_sqrt, wct, wct_from_moments


def _features(seed: int, channels: int = 8, positions: int = 400) -> np.ndarray:
    gen = np.random.default_rng(seed)
    mixing = gen.standard_normal((channels, channels))
    return (mixing @ gen.standard_normal((channels, positions)) + gen.standard_normal((channels, 1))).astype(np.float32)


def test_wct_gives_the_painting_s_mean_and_covariance():
    photo, painting = _features(0), _features(1, positions=300)
    moved = wct(photo, painting)
    mean, cov = moments(moved)
    target_mean, target_cov = moments(painting)
    assert np.allclose(mean, target_mean, atol=1e-4)
    assert np.allclose(cov, target_cov, rtol=1e-2, atol=1e-2)  # the ridge on the photo's smallest directions
    assert moved.shape == photo.shape


def test_wct_to_the_photo_s_own_statistics_gives_the_photo_back():
    photo = _features(2)
    assert np.allclose(wct(photo, photo), photo, atol=1e-3)
    assert not np.allclose(wct(photo, _features(3)), photo, atol=1e-1)


def test_adain_gives_the_painting_s_per_channel_mean_and_spread():
    photo, painting = _features(4), _features(5)
    moved = adain(photo, painting)
    assert np.allclose(moved.mean(1), painting.mean(1), atol=1e-4)
    assert np.allclose(moved.std(1, ddof=1), painting.std(1, ddof=1), rtol=1e-3)


def test_a_tile_transformed_with_the_whole_photo_s_moments_matches_the_whole():
    photo, painting = _features(6), _features(7)
    whole = wct(photo, painting)
    mean, cov = moments(painting)
    tile = wct_from_moments(photo[:, :100], mean, sqrt_and_inverse_sqrt(cov)[0], moments(photo))
    assert np.allclose(tile, whole[:, :100], atol=1e-4)


def test_a_blend_of_paintings_has_the_statistics_of_their_mixture():
    a, b = _features(8, positions=600), _features(9, positions=600)
    stats = [Moments.of(*moments(x)) for x in (a, b)]
    mixed = Moments.blend(stats, (1.0, 1.0))
    mean, cov = moments(np.concatenate([a, b], 1))
    assert np.allclose(mixed.mean, mean, atol=1e-6)
    assert np.allclose(mixed.cov, cov, rtol=1e-2, atol=1e-2)
    only_first = Moments.blend(stats, (1.0, 0.0))
    assert np.allclose(only_first.cov, stats[0].cov)


def test_the_detail_bands_add_up_to_the_photo_s_luminance():
    import torch.nn.functional as F

    from nst.universal.network import detail_bands

    photo = torch.rand(1, 3, 32, 48, generator=torch.Generator().manual_seed(10))
    bands = detail_bands(photo)
    assert [b.shape[-2:] for b in bands] == [(8, 12), (16, 24), (32, 48)]
    luminance = (photo * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    rebuilt = F.avg_pool2d(luminance, 8)
    for band in bands:
        rebuilt = F.interpolate(rebuilt, scale_factor=2, mode="bilinear", align_corners=False) + band
    assert torch.allclose(rebuilt, luminance, atol=1e-5)
