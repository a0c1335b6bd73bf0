import pytest
import torch

from nst import losses


def test_content_loss_is_mean_squared_difference():
    a = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    b = torch.zeros_like(a)
    # (1 + 4 + 9 + 16) / 4
    assert losses.content_loss(a, b).item() == pytest.approx(7.5)


def test_gram_matrix_hand_computed():
    # 2 channels, 1x2 positions: F = [[1, 2], [3, 4]]
    f = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])
    g = losses.gram_matrix(f)
    assert g.shape == (1, 2, 2)
    assert g[0].tolist() == [[5.0, 11.0], [11.0, 25.0]]


def test_style_loss_uses_paper_normalisation():
    f = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # C=2, H*W=2
    target = torch.zeros(1, 2, 2)
    # sum G^2 = 25 + 121 + 121 + 625 = 892; 1 / (2 * 2 * 2)^2 = 1/64
    assert losses.style_loss(f, target).item() == pytest.approx(892 / 64)
    assert losses.style_loss(f, losses.gram_target(f, 2)).item() == 0


def test_relative_style_loss_measures_the_gram_difference_against_the_targets_size():
    f = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])
    own = losses.gram_matrix(f)
    assert losses.relative_style_loss(f, own).item() == 0
    # ||G - 2G||^2 / ||2G||^2 = 1/4, whatever the scale of the features
    assert losses.relative_style_loss(f, 2 * own).item() == pytest.approx(0.25)
    assert losses.relative_style_loss(10 * f, 200 * own).item() == pytest.approx(0.25)


def test_gram_target_rescales_to_output_positions():
    torch.manual_seed(0)
    small = torch.rand(1, 4, 5, 5)
    big = small.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)  # same statistics, 4x positions
    target = losses.gram_target(small, positions=100)
    assert torch.allclose(target, losses.gram_matrix(big), rtol=1e-5)


def test_gram_target_averages_a_batch():
    a, b = torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 4)
    both = losses.gram_target(torch.cat([a, b]), 16)
    assert torch.allclose(both, (losses.gram_matrix(a) + losses.gram_matrix(b)) / 2)


def test_tv_loss_zero_for_flat_and_positive_for_edges():
    flat = torch.full((1, 3, 8, 8), 0.5)
    assert losses.tv_loss(flat).item() == 0
    edge = flat.clone()
    edge[..., 4:] = 1.0
    # One vertical edge of height 0.5 in 8 of the 8*7 horizontal neighbour pairs per channel.
    assert losses.tv_loss(edge).item() == pytest.approx(0.25 * 8 / 56)


def test_laplacian_loss_sees_moved_outlines_not_tones():
    photo = torch.full((1, 3, 32, 32), 0.3)
    photo[..., 8:24, 8:24] = 0.8  # a bright square
    target = losses.laplacian_target(photo, pool=2)
    assert losses.laplacian_loss(photo, target, pool=2).item() == 0
    # A uniform brightness change or a colour cast leaves the outlines where they are.
    brighter = (photo + 0.1).clamp(0, 1)
    tinted = photo * torch.tensor([1.0, 0.9, 0.5]).view(1, 3, 1, 1)
    moved = torch.roll(photo, shifts=4, dims=-1)
    assert losses.laplacian_loss(brighter, target, pool=2).item() == pytest.approx(0, abs=1e-10)
    moved_error = losses.laplacian_loss(moved, target, pool=2).item()
    assert moved_error > 1e-3
    # The colour cast lowers the square's contrast (a smaller Laplacian), far less than moving it.
    assert losses.laplacian_loss(tinted, target, pool=2).item() < 0.2 * moved_error


def test_laplacian_target_averages_blocks_first():
    stripes = torch.zeros(1, 3, 16, 16)
    stripes[..., ::2] = 1.0  # brush-scale texture: gone after 2x2 averaging
    assert losses.laplacian_target(stripes, pool=2).abs().max().item() == pytest.approx(0, abs=1e-6)
    assert losses.laplacian_target(stripes, pool=1).abs().max().item() > 1


def test_masked_gram_with_full_mask_is_the_per_position_gram():
    torch.manual_seed(1)
    f = torch.rand(1, 4, 5, 6)
    assert torch.allclose(losses.masked_gram(f, torch.ones(5, 6)), losses.gram_matrix(f) / 30, atol=1e-6)


def test_masked_gram_only_sees_its_region():
    f = torch.zeros(1, 2, 2, 2)
    f[0, :, 0, 0] = torch.tensor([1.0, 2.0])  # only the top-left position is non-zero
    outside = torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    assert losses.masked_gram(f, outside).abs().sum() == 0
    inside = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    assert losses.masked_gram(f, inside)[0].tolist() == [[1.0, 2.0], [2.0, 4.0]]


def test_per_position_style_loss_equals_the_paper_form():
    torch.manual_seed(2)
    f, target = torch.rand(1, 3, 4, 4), torch.rand(1, 3, 3) * 16
    paper = losses.style_loss(f, target)
    per_position = losses.style_loss_per_position(losses.gram_matrix(f) / 16, target / 16)
    assert paper.item() == pytest.approx(per_position.item(), rel=1e-5)


def test_without_salient_leaves_out_the_strongest_positions_and_keeps_the_strength():
    features = torch.ones(1, 2, 4, 5)
    features[0, :, 1, 2] = 10.0  # one position far stronger than the rest: a portrait's eye
    kept = losses.without_salient(features, 0.9)
    assert kept.shape == (1, 2, 1, 19)
    assert torch.allclose(kept, kept[0, 0, 0, 0].expand_as(kept))  # the eye is gone, the rest alike
    energy = features.pow(2).sum(dim=1).mean()
    assert torch.isclose(kept.pow(2).sum(dim=1).mean(), energy)  # the painting's full strength
    assert torch.equal(losses.without_salient(features, 1.0), features.reshape(1, 2, 1, 20))


def test_subject_weights_favour_the_photos_strongest_positions():
    features = torch.zeros(1, 4, 4, 6)
    features[..., 1, 2] = 3.0  # one salient position; the rest weak but not empty
    features[..., 0, 0] = 0.1
    weights = losses.subject_weights(features, 10.0, (4, 6))
    assert weights.mean().item() == pytest.approx(1.0, rel=1e-5)
    # The salient position weighs 10x the weakest (and the faint one barely more than it).
    assert weights[0, 0, 1, 2] == weights.max()
    assert (weights.max() / weights.min()).item() == pytest.approx(10.0, rel=1e-3)
    assert weights[0, 0, 0, 0] < 1.05 * weights.min()
    # At a content layer of twice the size the weight follows the salient position there.
    larger = losses.subject_weights(features, 10.0, (8, 12))
    assert larger.shape == (1, 1, 8, 12) and larger[0, 0, 2:4, 4:6].min() == larger.max()
    assert torch.allclose(losses.subject_weights(features, 1.0, (8, 12)), torch.ones(1, 1, 8, 12))


def test_content_loss_with_position_weights():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(1, 3, 2, 2, generator=gen), torch.randn(1, 3, 2, 2, generator=gen)
    weights = torch.tensor([[[[2.0, 0.0], [1.0, 1.0]]]])
    expected = ((a - b).pow(2) * weights).sum() / a.numel()
    assert losses.content_loss(a, b, weights).item() == pytest.approx(expected.item())
    assert losses.content_loss(a, b, torch.ones(1, 1, 2, 2)).item() == pytest.approx(losses.content_loss(a, b).item())
