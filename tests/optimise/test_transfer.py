"""The optimisation loop on tiny images with the real weights (its first two blocks: tests/optimise/conftest.py)."""

from pathlib import Path

import numpy as np
import pytest
import torch

import nst
from nst import color, losses
from nst.errors import InputError
from nst.models.torch_model import StyleModel
from nst.optimise.fixed import PATIENCE
from tests.models.helpers import make_tiny_model, picture
from tests.optimise.helpers import SHALLOW


@pytest.fixture()
def extractor(shallow_extractor):
    return shallow_extractor


def _config(**changes):
    return nst.StyleConfig(**{"size": 40, "iterations": 12, "tolerance": 0, **SHALLOW, **changes})


def test_loss_falls_and_history_is_recorded(extractor, images):
    content, style = images
    seen = []
    result = nst.transfer_style(content, style, _config(), callback=seen.append, extractor=extractor)
    assert result.image.size == (40, 32)
    assert result.iterations == 12 == len(result.history) == len(seen)
    assert [p.iteration for p in seen] == list(range(1, 13))
    assert result.history[-1].total < 0.5 * result.history[0].total
    assert result.losses.total <= min(h.total for h in result.history) + 1e-12
    assert set(result.losses.style_layers) == set(SHALLOW["style_layers"])
    assert result.stop_reason == "reached 12 iterations"


def test_weighted_terms_add_up(extractor, images):
    content, style = images
    result = nst.transfer_style(content, style, _config(iterations=3, tv_weight=0.5), extractor=extractor)
    losses = result.losses
    assert losses.total == pytest.approx(losses.content + losses.style + losses.tv + losses.laplacian, rel=1e-4)
    assert losses.tv > 0


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_same_seed_same_result(extractor, images, optimizer):
    content, style = images
    config = _config(iterations=4, init="noise", seed=7, optimizer=optimizer)
    first = nst.transfer_style(content, style, config, extractor=extractor).tensor
    second = nst.transfer_style(content, style, config, extractor=extractor).tensor
    third = nst.transfer_style(content, style, config.with_changes(seed=8), extractor=extractor).tensor
    assert torch.equal(first, second)
    assert not torch.equal(first, third)


def test_adam_lowers_the_loss(extractor, images):
    content, style = images
    result = nst.transfer_style(
        content, style, _config(optimizer="adam", lr=0.05, iterations=15), extractor=extractor
    )
    assert result.history[-1].total < result.history[0].total


def test_callback_can_stop(extractor, images):
    content, style = images
    result = nst.transfer_style(
        content, style, _config(), callback=lambda p: p.iteration >= 3, extractor=extractor
    )
    assert result.iterations == 3 and "stopped by request" in result.stop_reason


def test_convergence_stops_early(extractor, images):
    content, style = images
    # A huge tolerance means "converged" as soon as the patience window is full.
    config = _config(iterations=100, tolerance=0.99)
    result = nst.transfer_style(content, style, config, extractor=extractor)
    assert result.iterations == PATIENCE + 1 and result.stop_reason.startswith("converged")


def test_content_only_keeps_the_content(extractor, images):
    content, style = images
    result = nst.transfer_style(
        content, style, _config(style_weight=0.0, tv_weight=0.0, iterations=3), extractor=extractor
    )
    assert torch.allclose(result.tensor, content, atol=1 / 255)


def test_pyramid_runs_every_scale_and_ends_at_size(extractor, images):
    content, style = images
    config = _config(scales=3, scale_iterations=(4, 3, 2))
    assert config.scale_plan(40) == [(32, 4), (32, 3), (40, 2)]
    seen = []
    result = nst.transfer_style(content, style, config, callback=seen.append, extractor=extractor)
    assert [p.scale for p in seen] == [1] * 4 + [2] * 3 + [3] * 2
    assert seen[-1].max_iterations == 9 and seen[-1].iteration == 9
    assert result.image.size == (40, 32)


def test_blend_one_zero_equals_first_style_alone(extractor, images):
    content, style = images
    other = torch.rand(1, 3, 30, 30, generator=torch.Generator().manual_seed(5))
    alone = nst.transfer_style(content, style, _config(iterations=5), extractor=extractor).tensor
    blended = nst.transfer_style(
        content, [style, other], _config(iterations=5, style_blend=(1.0, 0.0)), extractor=extractor
    ).tensor
    assert torch.allclose(alone, blended, atol=1e-6)


def test_preserve_luminance_keeps_content_chroma(extractor, images):
    content, style = images
    result = nst.transfer_style(
        content, style, _config(iterations=5, preserve_color="luminance"), extractor=extractor
    )
    out_iq = color.rgb_to_yiq(nst.load_image(result.image))[:, 1:]
    content_iq = color.rgb_to_yiq(content)[:, 1:]
    # Equal up to 8-bit rounding and clamping at the gamut edge.
    assert (out_iq - content_iq).abs().mean() < 0.01
    assert not torch.allclose(
        color.rgb_to_yiq(nst.load_image(result.image))[:, :1], color.rgb_to_yiq(content)[:, :1], atol=0.01
    )


def test_blend_count_must_match_styles(extractor, images):
    content, style = images
    with pytest.raises(InputError, match="2 weight"):
        nst.transfer_style(content, style, _config(style_blend=(0.5, 0.5)), extractor=extractor)


def test_pyramid_levels_get_their_style_size_and_content_weight(deep_extractor, images, monkeypatch):
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
    config = nst.StyleConfig(
        size=64, scales=2, scale_iterations=(2, 2), coarse_style="final", coarse_content_boost=3.0,
        style_layer_weights=(2.0, 1.0, 1.0, 1.0, 1.0), stroke_weight=2.0, final_only_style_layers=("conv5_1",),
    )
    result = nst.transfer_style(content, style, config, extractor=deep_extractor)
    assert seen_sizes == [64, 64]  # the style is seen at the final size at the coarse level too
    assert seen_alphas == pytest.approx([3.0, 1.0])
    # The stroke weight multiplies all but conv5_1, which acts at the final level only.
    assert seen_weights == [(4.0, 2.0, 2.0, 2.0, 0.0), (4.0, 2.0, 2.0, 2.0, 1.0)]
    assert result.image.size == (64, 51)


def test_the_laplacian_term_keeps_the_photos_outlines(extractor, images):
    content, style = images

    def outline_error(weight):
        config = _config(laplacian_weight=weight, scales=1)
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


def test_a_level_starts_from_the_last_levels_picture_enlarged():
    from nst.optimise.start import next_level_start

    gen = torch.Generator().manual_seed(0)
    content = torch.rand(1, 3, 32, 40, generator=gen) * 0.8 + 0.1
    # The last level painted nothing: its picture is the photo at its size.
    previous = torch.nn.functional.interpolate(content, size=(16, 20), mode="bicubic", antialias=True)
    start = next_level_start(previous, content)
    assert start.shape == content.shape
    assert (start - content).abs().mean() > 0.05  # the photo's fine detail is not added back
    bilinear = torch.nn.functional.interpolate(previous, size=(32, 40), mode="bilinear")
    assert (start - bilinear).abs().mean() < 0.03  # the last level's picture, enlarged


@pytest.fixture()
def tiny_model(tmp_path: Path) -> Path:
    return make_tiny_model(tmp_path / "tiny.pt")


def test_optimisation_can_start_from_a_models_picture(tiny_model: Path, tmp_path: Path):
    import nst

    photo = picture(8, (48, 40))
    style = picture(9, (48, 48))
    config = nst.StyleConfig(size=40, scales=1, iterations=1, init=f"model:{tiny_model}")
    seen = []
    result = nst.transfer_style(photo, style, config, callback=lambda p: seen.append(p.image.clone()))
    # After one step the picture is still close to the model's, not to the photo.
    painted = torch.from_numpy(np.asarray(StyleModel.load(tiny_model).paint(photo, size=40), dtype=np.float32) / 255)
    first = seen[0][0].permute(1, 2, 0)
    original = torch.from_numpy(np.asarray(photo.resize((40, 33)), dtype=np.float32) / 255)
    assert (first - painted).abs().mean() < 0.5 * (first - original).abs().mean()
    assert result.image.size == (40, 33)
    with pytest.raises(InputError, match="unknown style model"):
        nst.transfer_style(photo, style, config.with_changes(init="model:no-such-model"))
