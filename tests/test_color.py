"""Colour: matching a picture's colour histogram to another's (`nst.color`)."""

import torch

from nst import color


def test_histogram_matching_matches_mean_and_covariance(images):
    content, style = images
    matched = color.match_color_histogram(style, content)

    def stats(t):
        p = t[0].reshape(3, -1).double()
        m = p.mean(1, keepdim=True)
        return m, (p - m) @ (p - m).T / p.shape[1]

    (cm, cc), (mm, mc) = stats(content), stats(matched)
    assert torch.allclose(cm, mm, atol=1e-5) and torch.allclose(cc, mc, atol=1e-5)
