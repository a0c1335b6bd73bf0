"""The objective (`nst.optimise.objective`): the Laplacian term's scale in tiles, the salient cut of
the painting's statistics, the subject weight on the photo; on tiny images."""

import pytest
import torch

import nst
from nst import losses


def _config(**changes):
    return nst.StyleConfig(**{"size": 40, "iterations": 12, "tolerance": 0, **changes})


def test_a_tile_sees_outlines_at_the_whole_pictures_scale(extractor, images, monkeypatch):
    from nst.optimise.objective import Objective

    content, style = images
    monkeypatch.setattr("nst.optimise.config.LAPLACIAN_SIZE", 16)
    config = _config(laplacian_weight=0.01)
    tile = content[..., :16, :20]
    whole = Objective(extractor, config, content, [style])
    tiled = Objective(extractor, config, tile, [style], picture_size=max(content.shape[-2:]))
    alone = Objective(extractor, config, tile, [style])
    # 40 px picture / 16 px grid: 2 px blocks, in the picture and in each of its tiles alike.
    assert whole.laplacian_pool == tiled.laplacian_pool == 2 and alone.laplacian_pool == 1


def _painting_with_a_focal_point() -> torch.Tensor:
    """Noise with one strong blue patch: the positions the salient cut leaves out."""
    style = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    style[..., 24:40, 24:40] = torch.tensor([0.0, 0.0, 1.0]).view(1, 3, 1, 1)
    return style


def test_salient_quantile_changes_the_salient_layers_targets_only(extractor):
    from nst.optimise.objective import compute_style_grams

    style = _painting_with_a_focal_point()
    plain = compute_style_grams(extractor, nst.StyleConfig(salient_quantile=1.0), [style])
    cut = compute_style_grams(extractor, nst.StyleConfig(salient_quantile=0.75), [style])
    for layer in ("conv1_1", "conv2_1", "conv3_1"):
        assert torch.equal(plain[layer][0], cut[layer][0])
    for layer in ("conv4_1", "conv5_1"):
        # Other statistics at the same strength: the trace (energy per position) is kept.
        trace_cut, trace_plain = (g[layer][0].diagonal(dim1=-2, dim2=-1).sum() for g in (cut, plain))
        assert torch.isclose(trace_cut, trace_plain, rtol=1e-4)
        assert (cut[layer][0] - plain[layer][0]).norm() > 0.05 * plain[layer][0].norm()


def test_a_quantile_per_salient_layer_cuts_each_layer_by_its_own(extractor):
    from nst.optimise.objective import compute_style_grams

    style = _painting_with_a_focal_point()
    per_layer = compute_style_grams(extractor, nst.StyleConfig(salient_quantile=(1.0, 0.75)), [style])
    both = compute_style_grams(extractor, nst.StyleConfig(salient_quantile=0.75), [style])
    plain = compute_style_grams(extractor, nst.StyleConfig(salient_quantile=1.0), [style])
    assert torch.equal(per_layer["conv4_1"][0], plain["conv4_1"][0])  # its quantile is 1: untouched
    assert nst.StyleConfig(salient_quantile=0.75).salient_quantile_of("conv3_1") == 1.0  # not a salient layer
    assert torch.equal(per_layer["conv5_1"][0], both["conv5_1"][0])
    assert not torch.equal(both["conv4_1"][0], plain["conv4_1"][0])
    assert not torch.equal(per_layer["conv5_1"][0], plain["conv5_1"][0])


def test_the_subject_weight_keeps_more_of_the_photo_where_it_is_salient(images):
    from nst.optimise.objective import Objective

    _, style = images
    # A flat grey photo with a subject: a patch of fine detail in its top-left corner.
    content = torch.full((1, 3, 48, 64), 0.5)
    content[..., 4:24, 4:24] = torch.rand(1, 3, 20, 20, generator=torch.Generator().manual_seed(1))
    config = _config(style_layers=("conv1_1",), salient_quantile=1.0, subject_weight=10.0)
    # The subject layer is read even when no content or style layer asks for it.
    assert config.feature_layers[-1] == "conv5_1" and "conv5_1" in str(config.extractor_key())
    extractor = nst.build_extractor(config)
    weighted = Objective(extractor, config, content, [style])
    uniform = Objective(extractor, config.with_changes(subject_weight=1.0), content, [style])
    assert not uniform.content_position_weights
    weights = weighted.content_position_weights["conv4_2"]
    assert weights.mean().item() == pytest.approx(1.0, rel=1e-5) and weights.max() > 3 * weights.min()
    assert weights[..., :3, :3].mean() > 2 * weights[..., 3:, 4:].mean()  # the subject, not the grey
    # The same error costs more where the photo is salient than where it is not.
    features = extractor(content)["conv4_2"]
    flat = weights.flatten()
    for position, more in ((int(flat.argmax()), True), (int(flat.argmin()), False)):
        changed = features.clone().flatten(2)
        changed[..., position] += 1.0
        changed = changed.view_as(features)
        w_loss = losses.content_loss(changed, weighted.content_targets["conv4_2"], weights)
        u_loss = losses.content_loss(changed, uniform.content_targets["conv4_2"])
        assert bool(w_loss > u_loss) is more
    result = nst.transfer_style(content, style, config, extractor=extractor)
    assert torch.isfinite(result.tensor).all()


def test_a_style_only_run_reads_no_subject_layer(images):
    from nst.optimise.objective import Objective

    content, style = images
    config = _config(content_layers=(), style_layers=("conv1_1",), salient_quantile=1.0, subject_weight=10.0)
    assert not config.weighs_subject and config.feature_layers == ("conv1_1",)
    objective = Objective(nst.build_extractor(config), config, content, [style])
    assert not objective.content_position_weights
