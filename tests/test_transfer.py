"""The optimisation loop on tiny images with the real (embedded) weights: fast and honest."""

import pytest
import torch

import nst
from nst import color
from nst.errors import InputError


def _config(**changes):
    return nst.StyleConfig(**{"size": 40, "iterations": 12, "tolerance": 0, **changes})


def test_loss_falls_and_history_is_recorded(extractor, images):
    content, style = images
    seen = []
    result = nst.transfer_style(content, style, _config(), callback=seen.append, extractor=extractor)
    assert result.image.size == (40, 32)
    assert result.iterations == 12 == len(result.history) == len(seen)
    assert [p.iteration for p in seen] == list(range(1, 13))
    assert result.history[-1].total < 0.5 * result.history[0].total
    assert result.losses.total <= min(h.total for h in result.history) + 1e-12
    assert set(result.losses.style_layers) == set(nst.StyleConfig().style_layers)
    assert result.stop_reason == "reached 12 iterations"


def test_weighted_terms_add_up(extractor, images):
    content, style = images
    result = nst.transfer_style(content, style, _config(iterations=3, tv_weight=0.5), extractor=extractor)
    losses = result.losses
    assert losses.total == pytest.approx(losses.content + losses.style + losses.tv, rel=1e-4)
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
    config = _config(iterations=100, tolerance=0.99, patience=5)
    result = nst.transfer_style(content, style, config, extractor=extractor)
    assert result.iterations == 6 and result.stop_reason.startswith("converged")


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


def test_histogram_matching_matches_mean_and_covariance(images):
    content, style = images
    matched = color.match_color_histogram(style, content)

    def stats(t):
        p = t[0].reshape(3, -1).double()
        m = p.mean(1, keepdim=True)
        return m, (p - m) @ (p - m).T / p.shape[1]

    (cm, cc), (mm, mc) = stats(content), stats(matched)
    assert torch.allclose(cm, mm, atol=1e-5) and torch.allclose(cc, mc, atol=1e-5)


def test_style_size_and_scale(extractor, images):
    config = _config(style_scale=0.5)
    assert config.style_longest_side(256) == 128
    assert config.with_changes(style_size=300).style_longest_side(256) == 300


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"size": 0}, "size"),
        ({"style_weight": float("nan")}, "finite"),
        ({"content_weight": -1.0}, ">= 0"),
        ({"iterations": 0}, "iterations"),
        ({"style_layers": ("conv9_9",)}, "unknown style layer"),
        ({"style_layer_weights": (1.0, 2.0)}, "5 layer"),
        ({"optimizer": "sgd"}, "optimizer"),
        ({"scales": 2, "scale_iterations": (1,)}, "scale_iterations"),
        ({"preserve_color": "sepia"}, "preserve_color"),
        ({"style_blend": (0.0, 0.0)}, "zero"),
    ],
)
def test_bad_settings_are_refused(changes, message):
    with pytest.raises(InputError, match=message):
        nst.StyleConfig(**changes)


def test_blend_count_must_match_styles(extractor, images):
    content, style = images
    with pytest.raises(InputError, match="2 weight"):
        nst.transfer_style(content, style, _config(style_blend=(0.5, 0.5)), extractor=extractor)


def test_config_dict_round_trip():
    config = nst.StyleConfig(size=200, style_layers=("conv1_1", "conv2_1"), style_blend=(0.7, 0.3))
    assert nst.StyleConfig.from_dict(config.to_dict()) == config
    with pytest.raises(InputError, match="unknown setting"):
        nst.StyleConfig.from_dict({"bogus": 1})
