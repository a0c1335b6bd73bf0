"""What a `StyleConfig` may hold: the allowed values, and `validate`, which refuses anything else
with one line naming the setting (before any work, from `StyleConfig.__post_init__`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from nst.errors import InputError
from nst.vgg.layers import POOLINGS

if TYPE_CHECKING:
    from nst.optimise.config import StyleConfig

OPTIMIZERS = ("lbfgs", "adam")
PRESERVE_COLOR_MODES = ("none", "luminance", "histogram")
#: No pyramid level or style image is made smaller than this (VGG's 5 poolings need >= 32 px).
MIN_SCALE_SIZE = 32
#: How the style image is sized at the coarser pyramid levels (see `StyleConfig.coarse_style`).
COARSE_STYLE_MODES = ("level", "final")
#: Style losses: the paper's Gram matrices, or the Wasserstein-2 distance of Gaussian fits.
#: ``init="model:NAME"`` starts the optimisation from a style model's picture (nst.models).
MODEL_INIT_PREFIX = "model:"
#: The largest longest side accepted.
MAX_SIZE = 16384


def _finite_number(name: str, value: Any, *, minimum: float = 0.0, allow_equal: bool = True) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise InputError(f"{name} must be finite, got {value}")
    if value < minimum or (not allow_equal and value == minimum):
        relation = ">=" if allow_equal else ">"
        raise InputError(f"{name} must be {relation} {minimum:g}, got {value:g}")


def _positive_int(name: str, value: Any, *, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be an integer, got {value!r}")
    if value < 1 or value > maximum:
        raise InputError(f"{name} must be between 1 and {maximum}, got {value}")


def _layer_weights(name: str, weights: tuple[float, ...] | None, layers: tuple[str, ...]) -> None:
    if weights is None:
        return
    if len(weights) != len(layers):
        raise InputError(f"{name} has {len(weights)} value(s) but there are {len(layers)} layer(s)")
    for w in weights:
        _finite_number(name, w)


def check_size(size: Any) -> None:
    """Refuse a longest side no picture can have: the one message for a bad size, whichever way the
    picture is painted (the optimisation, a style model, a video)."""
    _positive_int("size", size, maximum=MAX_SIZE)
    if size < 16:
        raise InputError(f"size must be at least 16 px, got {size}")


def validate(config: StyleConfig) -> None:
    """Raise `InputError` naming the first setting that makes no sense."""
    from nst.vgg.layers import check_layer_names

    if config.size is not None:
        check_size(config.size)
    _finite_number("content_weight", config.content_weight)
    _finite_number("style_weight", config.style_weight)
    _finite_number("tv_weight", config.tv_weight)
    _finite_number("laplacian_weight", config.laplacian_weight)
    _finite_number("subject_weight", config.subject_weight, minimum=1.0)
    _finite_number("lr", config.lr, allow_equal=False)
    _finite_number("tolerance", config.tolerance)
    _positive_int("iterations", config.iterations, maximum=1_000_000)
    if isinstance(config.seed, bool) or not isinstance(config.seed, int) or config.seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {config.seed!r}")
    if config.optimizer not in OPTIMIZERS:
        raise InputError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {config.optimizer!r}")
    if config.coarse_style not in COARSE_STYLE_MODES:
        raise InputError(
            f"coarse_style must be one of {', '.join(COARSE_STYLE_MODES)}, got {config.coarse_style!r}"
        )
    _finite_number("coarse_content_boost", config.coarse_content_boost, allow_equal=False)
    quantiles = config.salient_quantile
    if isinstance(quantiles, tuple):
        if len(quantiles) != 2:
            raise InputError(
                f"salient_quantile has {len(quantiles)} values ({', '.join(f'{q:g}' for q in quantiles)}): "
                "give one for conv4_1 and conv5_1 together, or one each"
            )
    else:
        quantiles = (quantiles,)
    for quantile in quantiles:
        _finite_number("salient_quantile", quantile, allow_equal=False)
        if quantile > 1:
            raise InputError(f"salient_quantile must be <= 1, got {quantile:g}")
    if config.pooling not in POOLINGS:
        raise InputError(f"pooling must be one of {', '.join(POOLINGS)}, got {config.pooling!r}")
    if not isinstance(config.init, str) or not config.init or config.init == MODEL_INIT_PREFIX:
        raise InputError("init must be 'content', 'noise', 'instant', 'model:NAME' or an image path")
    if not config.content_layers and not config.style_layers:
        raise InputError("at least one content or style layer is needed")
    check_layer_names(config.content_layers, "content layer")
    check_layer_names(config.style_layers, "style layer")
    _layer_weights("style_layer_weights", config.style_layer_weights, config.style_layers)
    check_layer_names(config.final_only_style_layers, "final-only style layer")
    _finite_number("stroke_weight", config.stroke_weight)
    if config.scales is not None:
        _positive_int("scales", config.scales, maximum=12)
    _finite_number("scale_ratio", config.scale_ratio, minimum=1.0, allow_equal=False)
    if config.scale_iterations is not None:
        if config.scales is None:
            raise InputError("scale_iterations needs an explicit number of scales")
        if len(config.scale_iterations) != config.scales:
            raise InputError(
                f"scale_iterations has {len(config.scale_iterations)} value(s) for {config.scales} scale(s)"
            )
        for count in config.scale_iterations:
            _positive_int("scale_iterations", count, maximum=1_000_000)
    _finite_number("style_scale", config.style_scale, allow_equal=False)
    if config.style_size is not None:
        _positive_int("style_size", config.style_size, maximum=16384)
    if config.style_blend is not None:
        for share in config.style_blend:
            _finite_number("style_blend", share)
        if sum(config.style_blend) <= 0:
            raise InputError("style_blend weights must not all be zero")
    if config.preserve_color not in PRESERVE_COLOR_MODES:
        raise InputError(
            f"preserve_color must be one of {', '.join(PRESERVE_COLOR_MODES)}, got {config.preserve_color!r}"
        )
    if config.tile_size is not None:
        _positive_int("tile_size", config.tile_size, maximum=16384)
        if config.tile_size < 64:
            raise InputError(f"tile_size must be at least 64 px, got {config.tile_size}")
    if config.mask is not None and (not isinstance(config.mask, str) or not config.mask):
        raise InputError("mask must be the path of a mask image")
    if not isinstance(config.weights, str) or not config.weights:
        raise InputError("weights must be 'vgg19-caffe', 'vgg19-torchvision' or a file path")
