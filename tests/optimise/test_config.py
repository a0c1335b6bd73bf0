"""StyleConfig: its checks, presets, pyramid settings and round trip (no network)."""

import pytest

import nst
from nst.errors import InputError


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
        ({"pooling": "blur"}, "pooling"),
        ({"laplacian_weight": -1.0}, "laplacian_weight"),
        ({"salient_quantile": 0.0}, "salient_quantile"),
        ({"salient_quantile": 1.5}, "salient_quantile"),
        ({"salient_quantile": (0.9,)}, r"1 values \(0.9\): give one for conv4_1 and conv5_1 together, or one each"),
        ({"salient_quantile": (0.9, 1.2)}, "salient_quantile"),
        ({"subject_weight": 0.5}, "subject_weight"),
        ({"subject_weight": float("nan")}, "subject_weight"),
    ],
)
def test_bad_knob_values_are_refused(changes, message):
    with pytest.raises(InputError, match=message):
        nst.StyleConfig(**changes)


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


def _config(**changes):
    return nst.StyleConfig(**{"size": 40, "iterations": 12, "tolerance": 0, **changes})


def test_style_size_and_scale():
    config = _config(style_scale=0.5)
    assert config.style_longest_side(256) == 128
    assert config.with_changes(style_size=300).style_longest_side(256) == 300


def test_config_dict_round_trip():
    config = nst.StyleConfig(size=200, style_layers=("conv1_1", "conv2_1"), style_blend=(0.7, 0.3))
    assert nst.StyleConfig.from_dict(config.to_dict()) == config
    with pytest.raises(InputError, match="unknown setting"):
        nst.StyleConfig.from_dict({"bogus": 1})


def test_the_paper_preset_is_the_paper_whatever_the_defaults():
    paper = nst.StyleConfig.preset("paper")
    assert paper.scale_plan(256) == [(256, 1000)]  # one scale, up to 1000 L-BFGS iterations
    assert paper.init == "noise"  # the paper descends from white noise
    assert (paper.content_weight, paper.style_weight, paper.tv_weight) == (1.0, 1e4, 0.0)
    assert paper.laplacian_weight == 0.0  # the paper's objective has no Laplacian term
    assert paper.salient_quantile == 1.0  # every position of the painting counts in its Grams
    assert paper.style_layer_weights is None
    assert paper.content_layers == ("conv4_2",)
    assert paper.style_layers == ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
    assert (paper.pooling, paper.optimizer) == ("avg", "lbfgs")
    # The pyramid's settings cannot act on one scale, but the preset does not carry them either.
    assert paper.effective_style_layer_weights() == (1.0,) * 5
    assert paper.at_level(1, 1).content_weight == 1.0 and paper.final_only_style_layers == ()


def test_the_paper_preset_weighs_every_position_alike():
    assert nst.StyleConfig.preset("paper").subject_weight == 1.0
    assert nst.StyleConfig().subject_weight > 1.0


def test_the_default_size_is_a_picture_in_about_a_minute_on_a_cpu_and_the_papers_with_one_scale():
    assert nst.StyleConfig().resolve_size("cpu") == 256
    assert nst.StyleConfig.preset("paper").resolve_size("cpu") == 128
    assert nst.StyleConfig().resolve_size("cuda") == nst.StyleConfig.preset("paper").resolve_size("cuda") == 512
    assert nst.StyleConfig(size=300, scales=1).resolve_size("cpu") == 300
