"""The issue-12 knobs (coarse style size, coarse content boost, Wasserstein-2 style loss, padding)
and the panel's grid measure, on tiny images."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import nst
from nst import losses
from nst.errors import InputError
from nst.vgg.features import VGG19Features


def _config(**changes):
    return nst.StyleConfig(**{"size": 40, "iterations": 12, "tolerance": 0, **changes})


def test_coarse_style_final_keeps_the_final_style_size():
    level = nst.StyleConfig(coarse_style="level")
    final = nst.StyleConfig(coarse_style="final")
    assert level.style_longest_side(91, 256) == 91
    assert final.style_longest_side(91, 256) == 256
    assert final.style_longest_side(256) == 256  # the final level itself
    assert final.with_changes(style_scale=0.5).style_longest_side(91, 256) == 128
    assert final.with_changes(style_size=300).style_longest_side(91, 256) == 300


def test_coarse_content_boost_falls_geometrically_to_one():
    config = nst.StyleConfig(content_weight=2.0, coarse_content_boost=8.0)
    weights = [config.content_weight_at(level, 4) for level in (1, 2, 3, 4)]
    assert weights == pytest.approx([16.0, 8.0, 4.0, 2.0])
    assert config.content_weight_at(1, 1) == 2.0  # one scale: the configured alpha


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"coarse_style": "huge"}, "coarse_style"),
        ({"coarse_content_boost": 0.0}, "coarse_content_boost"),
        ({"final_only_style_layers": ("conv9_1",)}, "final-only style layer"),
        ({"stroke_weight": -1.0}, "stroke_weight"),
        ({"style_loss": "sliced"}, "style_loss"),
        ({"padding": "circular"}, "padding"),
        ({"style_loss": "wasserstein", "mask": "m.png"}, "masks"),
        ({"laplacian_weight": -1.0}, "laplacian_weight"),
        ({"laplacian_size": 0}, "laplacian_size"),
        ({"salient_quantile": 0.0}, "salient_quantile"),
        ({"salient_quantile": 1.5}, "salient_quantile"),
        ({"salient_layers": ("conv9_1",)}, "unknown salient layer 'conv9_1'"),
        ({"salient_quantile": (0.9,)}, r"1 values \(0.9\) for 2 salient layers \(conv4_1, conv5_1\)"),
        ({"salient_layers": ("conv5_1",)}, "give one value for all, or one per layer"),
        ({"salient_quantile": (0.9, 1.2)}, "salient_quantile"),
        ({"subject_weight": 0.5}, "subject_weight"),
        ({"subject_weight": float("nan")}, "subject_weight"),
        ({"subject_layer": "conv9_1"}, "unknown subject layer 'conv9_1'"),
    ],
)
def test_bad_knob_values_are_refused(changes, message):
    with pytest.raises(InputError, match=message):
        nst.StyleConfig(**changes)


def test_pyramid_levels_get_their_style_size_and_content_weight(extractor, images, monkeypatch):
    import nst.optimise.transfer as transfer

    seen_sizes, seen_alphas, seen_weights = [], [], []
    real_load, real_objective = transfer.load_image, transfer.Objective

    def load(source, size=None):
        image = real_load(source, size)
        if source is style:
            seen_sizes.append(max(image.shape[-2:]))
        return image

    def objective(extractor, config, *args, **kwargs):
        seen_alphas.append(config.content_weight)
        seen_weights.append(config.style_layer_weights)
        return real_objective(extractor, config, *args, **kwargs)

    monkeypatch.setattr(transfer, "load_image", load)
    monkeypatch.setattr(transfer, "Objective", objective)
    content, style = images
    config = _config(
        size=64, scales=2, scale_iterations=(2, 2), coarse_style="final", coarse_content_boost=3.0,
        style_layer_weights=(2.0, 1.0, 1.0, 1.0, 1.0), stroke_weight=2.0, final_only_style_layers=("conv5_1",),
    )
    result = nst.transfer_style(content, style, config, extractor=extractor)
    assert seen_sizes == [64, 64]  # the style is seen at the final size at the coarse level too
    assert seen_alphas == pytest.approx([3.0, 1.0])
    # The stroke weight multiplies all but conv5_1, which acts at the final level only.
    assert seen_weights == [(4.0, 2.0, 2.0, 2.0, 0.0), (4.0, 2.0, 2.0, 2.0, 1.0)]
    assert result.image.size == (64, 51)


def test_wasserstein_loss_is_the_gaussian_closed_form():
    # One channel: W2^2 of two Gaussians is (m1 - m2)^2 + (s1 - s2)^2.
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(1, 1, 8, 8, generator=gen) * 2 + 1
    b = torch.randn(1, 1, 8, 8, generator=gen) * 0.5 - 1
    mean_b, second_b = losses.feature_moments(b)
    cov_b = second_b - torch.outer(mean_b, mean_b)
    loss = losses.wasserstein_style_loss(a, mean_b, losses.psd_sqrt(cov_b))
    ma, sa = a.mean(), a.std(unbiased=False)
    mb, sb = b.mean(), b.std(unbiased=False)
    assert loss.item() == pytest.approx(((ma - mb) ** 2 + (sa - sb) ** 2).item(), rel=1e-4)


def test_wasserstein_loss_is_zero_on_its_target_and_has_a_finite_gradient():
    gen = torch.Generator().manual_seed(1)
    target = torch.randn(1, 6, 5, 5, generator=gen)
    mean, second = losses.feature_moments(target)
    root = losses.psd_sqrt(second - torch.outer(mean, mean))
    assert losses.wasserstein_style_loss(target, mean, root).item() == pytest.approx(0.0, abs=1e-5)
    other = torch.randn(1, 6, 5, 5, generator=gen).requires_grad_(True)
    loss = losses.wasserstein_style_loss(other, mean, root)
    loss.backward()
    assert loss.item() > 0.1 and torch.isfinite(other.grad).all() and other.grad.abs().sum() > 0


def test_the_laplacian_term_keeps_the_photos_outlines(extractor, images):
    content, style = images

    def outline_error(weight):
        config = _config(laplacian_weight=weight, laplacian_size=20, scales=1)
        result = nst.transfer_style(content, style, config, extractor=extractor)
        pool = config.laplacian_pool(40)
        target = losses.laplacian_target(content, pool)
        return losses.laplacian_loss(result.tensor, target, pool).item(), result.losses

    free, _ = outline_error(0.0)
    kept, breakdown = outline_error(1.0)
    assert kept < 0.5 * free
    # The term is in the total the optimiser minimised, beside content, style and tv.
    assert breakdown.laplacian > 0
    parts = breakdown.content + breakdown.style + breakdown.tv + breakdown.laplacian
    assert breakdown.total == pytest.approx(parts, rel=1e-5)


def test_a_tile_sees_outlines_at_the_whole_pictures_scale(extractor, images):
    from nst.optimise.objective import Objective

    content, style = images
    config = _config(laplacian_weight=0.01, laplacian_size=16)
    tile = content[..., :16, :20]
    whole = Objective(extractor, config, content, [style])
    tiled = Objective(extractor, config, tile, [style], picture_size=max(content.shape[-2:]))
    alone = Objective(extractor, config, tile, [style])
    # 40 px picture / 16 px grid: 2 px blocks, in the picture and in each of its tiles alike.
    assert whole.laplacian_pool == tiled.laplacian_pool == 2 and alone.laplacian_pool == 1


def test_wasserstein_transfer_lowers_its_loss(extractor, images):
    content, style = images
    result = nst.transfer_style(content, style, _config(style_loss="wasserstein"), extractor=extractor)
    assert result.history[-1].style < 0.5 * result.history[0].style
    assert set(result.losses.style_layers) == set(nst.StyleConfig().style_layers)


def test_padding_changes_only_the_border(random_weights, gradient_image):
    zeros = VGG19Features(random_weights, ["conv1_1"], calibrate=False)
    reflect = VGG19Features(random_weights, ["conv1_1"], calibrate=False, padding="reflect")
    a, b = zeros(gradient_image)["conv1_1"], reflect(gradient_image)["conv1_1"]
    assert torch.equal(a[..., 1:-1, 1:-1], b[..., 1:-1, 1:-1])
    assert not torch.equal(a[..., 0, :], b[..., 0, :])
    with pytest.raises(InputError, match="padding"):
        VGG19Features(random_weights, ["conv1_1"], padding="circular")


def test_reflect_padding_refuses_pictures_too_small_for_its_deepest_layer(random_weights):
    # conv5_1 sees the picture after four pools: reflecting needs 2 px there, 32 px at the input.
    deep = VGG19Features(random_weights, ["conv5_1"], calibrate=False, padding="reflect")
    assert deep(torch.rand(1, 3, 32, 40))["conv5_1"].shape[-2:] == (2, 2)
    with pytest.raises(InputError, match="at least 32 px on their shorter side"):
        deep(torch.rand(1, 3, 31, 64))
    zeros = VGG19Features(random_weights, ["conv5_1"], calibrate=False)
    assert zeros(torch.rand(1, 3, 16, 16))["conv5_1"].shape[-2:] == (1, 1)


def test_build_extractor_uses_the_padding():
    extractor = nst.build_extractor(
        nst.StyleConfig(padding="reflect", style_layers=("conv1_1",), content_layers=())
    )
    assert all(m.padding_mode == "reflect" for m in extractor.body if isinstance(m, torch.nn.Conv2d))


def test_grid_measure_finds_a_pixel_locked_grid():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from grain import grid_pattern

    gen = np.random.default_rng(0)
    flat = np.full((64, 96), 128.0) + gen.normal(0, 2, (64, 96))  # flat, with some texture
    grid = flat.copy()
    grid[::4, ::4] += 12  # a dot every 4 px, as pooling leaves it
    photo = Image.fromarray(np.full((64, 96, 3), 128, np.uint8))
    clean = grid_pattern(Image.fromarray(flat.astype(np.uint8)).convert("RGB"), photo)
    dotted = grid_pattern(Image.fromarray(grid.astype(np.uint8)).convert("RGB"), photo)
    assert dotted["amplitude"]["4"] > 5 * clean["amplitude"]["4"]
    assert dotted["ratio"]["4"] > 10 and clean["ratio"]["4"] < 3
    assert math.isfinite(dotted["amplitude"]["16"])


def test_structure_in_a_box_sees_a_lost_subject_the_whole_picture_hides():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from measures import structure

    gen = np.random.default_rng(0)
    photo = np.full((128, 192, 3), 150.0) + gen.normal(0, 3, (128, 192, 3))
    photo[40:80, 120:170] = 40  # a dark subject on a light ground
    photo[55:60, 130:160] = 230  # with a detail in it
    painted = photo.copy()
    painted[40:80, 120:170] = 150  # the subject painted over; the ground kept
    as_image = [Image.fromarray(a.clip(0, 255).astype(np.uint8)) for a in (photo, painted)]
    box = (120 / 192, 40 / 128, 170 / 192, 80 / 128)
    whole, subject = structure(as_image[1], as_image[0]), structure(as_image[1], as_image[0], box)
    assert subject < whole - 0.3  # the ground keeps the whole picture's mean up
    assert structure(as_image[0], as_image[0], box) == pytest.approx(1.0, abs=1e-4)


def test_dot_density_counts_dots_but_not_strokes():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from grain import dot_density

    gen = np.random.default_rng(0)
    flat = np.full((64, 96), 128.0) + gen.normal(0, 1, (64, 96))
    dotted, stroked = flat.copy(), flat.copy()
    for y in range(6, 60, 10):
        for x in range(6, 92, 10):
            y0, x0 = y + int(gen.integers(-2, 3)), x + int(gen.integers(-2, 3))  # a loose lattice
            dotted[y0 - 1 : y0 + 2, x0 - 1 : x0 + 2] += 25  # 3 px dots
    for y in range(6, 60, 9):
        stroked[y : y + 2, 4:92] += 25  # long strokes, 2 px wide: as strong, but not dots
    photo = Image.fromarray(np.full((64, 96, 3), 128, np.uint8))
    clean, dots, strokes = (
        dot_density(Image.fromarray(a.astype(np.uint8)).convert("RGB"), photo) for a in (flat, dotted, stroked)
    )
    assert clean == 0.0
    assert dots > 6.0  # 54 dots in 6144 flat pixels: 8.8 per 1000
    assert strokes < dots / 4


def test_flat_band_energy_sees_dots_off_the_pixel_grid():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from grain import flat_band_energy

    gen = np.random.default_rng(0)
    flat = np.full((64, 96), 128.0) + gen.normal(0, 1, (64, 96))
    dotted = flat.copy()
    for y, x in zip(gen.integers(2, 62, 60), gen.integers(2, 94, 60), strict=True):
        dotted[y - 1 : y + 2, x - 1 : x + 2] += 25  # 3 px dots at no fixed period
    photo = Image.fromarray(np.full((64, 96, 3), 128, np.uint8))
    rgb = [Image.fromarray(a.clip(0, 255).astype(np.uint8)).convert("RGB") for a in (flat, dotted)]
    clean, dots = (flat_band_energy(picture, photo) for picture in rgb)
    assert dots > 4 * clean and clean < 1.0


def test_a_checkpoint_from_before_the_new_settings_still_resumes():
    from nst.optimise.checkpoint import describe_mismatch

    current = {"settings": nst.StyleConfig().to_dict()}
    older = {
        "settings": {k: v for k, v in current["settings"].items() if k not in ("style_loss", "padding")}
    }
    assert describe_mismatch(older, current) is None
    changed = {"settings": nst.StyleConfig(padding="reflect").to_dict()}
    assert "padding" in describe_mismatch(older, changed)


def test_a_checkpoint_from_before_issue_12_does_not_resume_with_the_new_defaults():
    from nst.optimise.checkpoint import describe_mismatch

    new = {"settings": nst.StyleConfig().to_dict()}
    # Written before the settings existed: it ran without a stroke weight or level detail.
    keys = (
        "stroke_weight", "final_only_style_layers", "level_detail", "coarse_style", "coarse_content_boost",
        "laplacian_weight", "laplacian_size", "subject_weight",
    )  # fmt: skip
    old = {"settings": {k: v for k, v in new["settings"].items() if k not in keys}}
    mismatch = describe_mismatch(old, new)
    assert mismatch and "stroke_weight (1.0 -> 3.0)" in mismatch and "level_detail" in mismatch
    assert f"laplacian_weight (0.0 -> {nst.StyleConfig().laplacian_weight!r})" in mismatch
    assert f"subject_weight (1.0 -> {nst.StyleConfig().subject_weight!r})" in mismatch
    paper = {"settings": nst.StyleConfig.preset("paper").to_dict()}
    old_paper = {"settings": {k: v for k, v in paper["settings"].items() if k not in keys}}
    assert describe_mismatch(old_paper, paper) is None


def test_level_detail_starts_a_level_from_the_photos_edges():
    from nst.optimise.transfer import _next_level_start

    gen = torch.Generator().manual_seed(0)
    content = torch.rand(1, 3, 32, 40, generator=gen) * 0.8 + 0.1
    # The last level painted nothing: its picture is the photo at its size.
    previous = torch.nn.functional.interpolate(content, size=(16, 20), mode="bicubic", antialias=True)
    plain = _next_level_start(nst.StyleConfig(level_detail=False), previous, content)
    detailed = _next_level_start(nst.StyleConfig(level_detail=True), previous, content)
    assert plain.shape == detailed.shape == content.shape
    assert (detailed - content).abs().max() < 1e-5  # the photo's detail is back: the photo itself
    assert (plain - content).abs().mean() > 0.05  # upsampling alone leaves a blur


def test_the_paper_preset_is_the_paper_whatever_the_defaults():
    paper = nst.StyleConfig.preset("paper")
    assert paper.scale_plan(256) == [(256, 1000)]  # one scale, up to 1000 L-BFGS iterations
    assert (paper.content_weight, paper.style_weight, paper.tv_weight) == (1.0, 1e4, 0.0)
    assert paper.laplacian_weight == 0.0  # the paper's objective has no Laplacian term
    assert paper.salient_quantile == 1.0  # every position of the painting counts in its Grams
    assert paper.style_layer_weights is None and paper.content_layer_weights is None
    assert paper.content_layers == ("conv4_2",)
    assert paper.style_layers == ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
    assert (paper.pooling, paper.optimizer, paper.style_loss, paper.padding) == ("avg", "lbfgs", "gram", "zeros")
    # The pyramid's settings cannot act on one scale, but the preset does not carry them either.
    assert paper.effective_style_layer_weights() == (1.0,) * 5
    assert paper.at_level(1, 1).content_weight == 1.0 and paper.final_only_style_layers == ()


def test_cli_flags_for_the_pyramid_settings_override_a_preset():
    from nst import cli

    def config(*flags):
        argv = ["stylize", "c.png", "s.png", "-o", "out.png", *flags]
        args = cli.build_parser().parse_args(argv)
        args.given = cli.given_options(argv)
        return cli.config_from_args(args)

    default = config()
    assert default.level_detail and default.final_only_style_layers == ("conv5_1",)
    assert config("--no-level-detail").level_detail is False
    assert config("--final-only-style-layers", "none").final_only_style_layers == ()
    assert default.salient_quantile == (0.9, 0.8) and config("--salient-quantile", "0.8").salient_quantile == 0.8
    assert config("--salient-quantile", "0.9,0.8").salient_quantile == (0.9, 0.8)
    paper = config("--preset", "paper", "--level-detail", "--final-only-style-layers", "conv4_1,conv5_1")
    assert paper.level_detail and paper.final_only_style_layers == ("conv4_1", "conv5_1")
    assert paper.style_layer_weights is None and paper.scales == 1  # the rest is the paper's


def test_without_salient_leaves_out_the_strongest_positions_and_keeps_the_strength():
    features = torch.ones(1, 2, 4, 5)
    features[0, :, 1, 2] = 10.0  # one position far stronger than the rest: a portrait's eye
    kept = losses.without_salient(features, 0.9)
    assert kept.shape == (1, 2, 1, 19)
    assert torch.allclose(kept, kept[0, 0, 0, 0].expand_as(kept))  # the eye is gone, the rest alike
    energy = features.pow(2).sum(dim=1).mean()
    assert torch.isclose(kept.pow(2).sum(dim=1).mean(), energy)  # the painting's full strength
    assert torch.equal(losses.without_salient(features, 1.0), features.reshape(1, 2, 1, 20))


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
    only_deepest = compute_style_grams(
        extractor, nst.StyleConfig(salient_quantile=0.75, salient_layers=("conv5_1",)), [style]
    )
    plain = compute_style_grams(extractor, nst.StyleConfig(salient_quantile=1.0), [style])
    assert torch.equal(per_layer["conv4_1"][0], plain["conv4_1"][0])  # its quantile is 1: untouched
    assert nst.StyleConfig(salient_layers=()).salient_quantile_of("conv5_1") == 1.0  # 'none': no cut
    assert torch.equal(per_layer["conv5_1"][0], only_deepest["conv5_1"][0])
    assert not torch.equal(per_layer["conv5_1"][0], plain["conv5_1"][0])


def test_the_wasserstein_targets_leave_the_focal_points_out_too(extractor):
    from nst.optimise.objective import wasserstein_targets

    style = _painting_with_a_focal_point()
    config = nst.StyleConfig(style_loss="wasserstein")
    plain = wasserstein_targets(extractor, config.with_changes(salient_quantile=1.0), [style], [1.0])
    cut = wasserstein_targets(extractor, config.with_changes(salient_quantile=0.75), [style], [1.0])
    assert torch.equal(plain["conv3_1"][1], cut["conv3_1"][1])
    assert not torch.allclose(plain["conv5_1"][1], cut["conv5_1"][1])


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


def test_the_subject_weight_keeps_more_of_the_photo_where_it_is_salient(images):
    from nst.optimise.objective import Objective

    _, style = images
    # A flat grey photo with a subject: a patch of fine detail in its top-left corner.
    content = torch.full((1, 3, 48, 64), 0.5)
    content[..., 4:24, 4:24] = torch.rand(1, 3, 20, 20, generator=torch.Generator().manual_seed(1))
    config = _config(style_layers=("conv1_1",), salient_layers=(), subject_weight=10.0)
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
    config = _config(content_layers=(), style_layers=("conv1_1",), salient_layers=(), subject_weight=10.0)
    assert not config.weighs_subject and config.feature_layers == ("conv1_1",)
    objective = Objective(nst.build_extractor(config), config, content, [style])
    assert not objective.content_position_weights


def test_the_paper_preset_weighs_every_position_alike():
    assert nst.StyleConfig.preset("paper").subject_weight == 1.0
    assert nst.StyleConfig().subject_weight > 1.0
