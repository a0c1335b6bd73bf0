"""Every default of a stylization, once.

`StyleConfig` is frozen: derive variants with `dataclasses.replace` or `StyleConfig.with_changes`.
The CLI, the experiments and the web app read their defaults from here, so a default exists in
exactly one place. Each field names its source: the paper (Gatys, Ecker and Bethge 2015,
arXiv 1508.06576) or, where we deviate, the reason (docs/method.md, "Differences from the paper").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from nst.errors import InputError
from nst.fields import setting
from nst.optimise.checks import (
    COARSE_STYLE_MODES,
    MAX_SIZE,
    MIN_SCALE_SIZE,
    MODEL_INIT_PREFIX,
    OPTIMIZERS,
    PRESERVE_COLOR_MODES,
    check_size,
    validate,
)
from nst.optimise.fixed import LAPLACIAN_SIZE, PATIENCE, SALIENT_LAYERS, SUBJECT_LAYER, refuse_retired
from nst.optimise.presets import PRESETS
from nst.optimise.schedule import (
    AUTO_COARSEST_SIZE,
    AUTO_LATER_ITERATIONS,
    AUTO_SCALE_ITERATIONS,
    AUTO_TILE_ABOVE,
    AUTO_TILE_SIZE,
    DEFAULT_SIZE_CPU,
    DEFAULT_SIZE_GPU,
    DEFAULT_SIZE_TEXT,
    ONE_SCALE_SIZE_CPU,
    auto_scale_count,
)
from nst.vgg.layers import POOLINGS

#: The paper's content layer (Fig. 2 and Section 2.2).
PAPER_CONTENT_LAYERS: tuple[str, ...] = ("conv4_2",)
#: The paper's style layers (Fig. 2: "conv1_1, conv2_1, conv3_1, conv4_1 and conv5_1").
PAPER_STYLE_LAYERS: tuple[str, ...] = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")

@dataclass(frozen=True)
class StyleConfig:
    """Settings of one stylization: nst's defaults. Each default that deviates from the paper says why
    in its comment (docs/method.md, "Differences from the paper"); `StyleConfig.preset("paper")` is the paper's
    method."""

    # --- What to paint: the size, the balance of photo and painting, the start, the colours, the regions.
    # None: a picture in about a minute on a CPU (`nst.optimise.schedule`), the paper's 512 px on a GPU.
    size: int | None = setting(
        None, "longest side of the output in px",
        group="basic", metavar="N", shown=f"auto: {DEFAULT_SIZE_TEXT}",
    )
    # alpha and beta. Deviation: beta 7e4, which max pooling and the outline term need for the paper's share of painting (docs/method.md).
    content_weight: float = setting(
        1.0,
        "alpha, weight of the content loss: more keeps more of the photo",
        group="basic", metavar="A",
    )
    style_weight: float = setting(
        7e4,
        "beta, weight of the style loss: more paints more of the painting",
        group="basic", metavar="B",
    )
    # Upper bound at each level; the loop stops earlier on convergence (`tolerance`).
    iterations: int = setting(
        1000,
        "most iterations at each size; each stops earlier when converged",
        group="basic", metavar="N",
    )
    # Deviation: the photo, not noise: the same kind of optimum in far fewer iterations, deterministic.
    init: str = setting(
        "content",
        "the starting picture: the photo, noise (the paper's), the --instant picture, a style model's or an image",
        group="basic", metavar="content|noise|instant|model:NAME|PATH",
    )
    seed: int = setting(0, "random seed (of --init noise)", group="basic", metavar="N")
    # The painting at `style_size` px, else `style_scale` times the output's side: smaller paints finer strokes.
    style_scale: float = setting(
        1.0,
        "the painting's size relative to the output: smaller paints finer strokes",
        group="basic", metavar="F",
    )
    style_size: int | None = setting(
        None,
        "the painting's longest side in px (instead of --style-scale)",
        metavar="N", shown="from --style-scale",
    )
    # One weight per painting when several are given (normalised to sum 1); None: equal.
    style_blend: tuple[float, ...] | None = setting(
        None,
        "weights of several paintings, e.g. 0.7,0.3",
        group="basic", metavar="W,..", shown="equal",
    )
    # Keep the photo's colours (Gatys et al. 2016): luminance only, or the painting recoloured first.
    preserve_color: str = setting(
        "none",
        "keep the photo's colours: paint luminance only, or give the painting the photo's colours first",
        group="basic", choices=PRESERVE_COLOR_MODES,
    )
    # Spatial control (Gatys et al. 2017): coloured regions of a mask take the 1st, 2nd, ... painting; black keeps the photo.
    mask: str | None = setting(
        None,
        "spatial control: white, red, green, blue, yellow, cyan, magenta parts take the 1st, 2nd, ... "
        "painting; black keeps the photo",
        metavar="MASK.png", shown="",
    )

    # --- The pyramid's schedule: the picture is painted small first, so the layout settles where it is cheap.
    # Deviation: coarse to fine (Gatys et al. 2017) from about 128 px lays out large structures better and faster.
    scales: int | None = setting(
        None,
        "coarse-to-fine levels ending at --size; 1: one size",
        metavar="N", shown=f"auto, a ladder from about {AUTO_COARSEST_SIZE} px",
    )
    scale_ratio: float = setting(
        2**0.5,
        "size ratio between levels",
        metavar="R", shown="1.414, the square root of 2",
    )
    # Iterations per level, coarsest first; None: `iterations` with one level, AUTO_SCALE_ITERATIONS with several.
    scale_iterations: tuple[int, ...] | None = setting(
        None,
        "iterations at each level, coarsest first; needs --scales",
        metavar="N,..", shown=f"auto: {', '.join(map(str, AUTO_SCALE_ITERATIONS))}, then {AUTO_LATER_ITERATIONS}",
    )
    # Deviation: the painting at the final size at every level, so coarse levels match strokes, not objects.
    coarse_style: str = setting(
        "final",
        "the painting's size at coarser levels: shrinking with them, or the final level's",
        choices=COARSE_STYLE_MODES,
    )
    # Deviation: more content weight at the coarse levels holds the photo's layout while the composition forms.
    coarse_content_boost: float = setting(
        32.0,
        "content weight at the coarsest level, times --content-weight; falls to 1 at the final level",
        metavar="X",
    )
    # Deviation: conv5_1, which sees a painting's objects whole, acts at the final level only.
    final_only_style_layers: tuple[str, ...] = setting(
        ("conv5_1",),
        "style layers used at the final level only",
        metavar="L,..|none", empty="none",
    )

    # --- What of the painting is matched: which of its statistics, and how strongly.
    style_layers: tuple[str, ...] = setting(
        PAPER_STYLE_LAYERS,
        "VGG layers whose Gram matrices the output must match",
        metavar="L,..",
    )
    style_layer_weights: tuple[float, ...] | None = setting(
        None,
        "one weight per style layer (see --stroke-weight)",
        metavar="W,..", shown="all 1",
    )
    # Deviation: the style layers that act at every level (colour, strokes, texture) weigh this many times their w_l.
    stroke_weight: float = setting(
        3.0,
        "multiplies the weights of the style layers that are not final-only",
        metavar="X",
    )
    # Deviation: VGG's max pooling; the paper's average pooling lets conv5_1 paint a lattice of dots on flat areas.
    pooling: str = setting(
        "max",
        "VGG pooling: max is VGG's own; avg (the paper's) paints dots on flat areas",
        choices=POOLINGS,
    )
    # Deviation: the painting's focal points (a portrait's eyes) are left out of its deep Gram matrices.
    salient_quantile: float | tuple[float, ...] = setting(
        (0.9, 0.8),
        f"leave the painting's strongest positions above this quantile (a portrait's eyes) out of its "
        f"style at {' and '.join(SALIENT_LAYERS)}: one for both, or one each; 1 keeps all",
        metavar="Q[,Q]",
    )
    # Deviation: a little total variation takes away the pixel-scale speckle of flat regions (docs/method.md); 0: the paper's.
    tv_weight: float = setting(
        0.01,
        "total-variation smoothing against pixel-scale speckle",
        metavar="W",
    )

    # --- What of the photo is kept, beyond the paper's conv4_2 match: its outlines, and its subject more than its backdrop.
    content_layers: tuple[str, ...] = setting(
        PAPER_CONTENT_LAYERS,
        "VGG layers whose features the output must match ('nst layers' lists them)",
        metavar="L,..",
    )
    # Deviation: the outline term (Li et al. 2017) holds the photo's outlines, measured on the quality panel (docs/method.md).
    laplacian_weight: float = setting(
        0.02,
        "weight of the Laplacian term that keeps the photo's outlines in place",
        metavar="W",
    )
    # Deviation: the photo's subject (strong SUBJECT_LAYER response) weighs more in the content loss.
    subject_weight: float = setting(
        10.0,
        "the content loss weighs the photo's subject (its most salient positions) up to X times the rest",
        metavar="X",
    )

    # --- How the optimiser runs.
    optimizer: str = setting("lbfgs", "L-BFGS (the paper's) or Adam (see --lr)", choices=OPTIMIZERS)
    # Adam's step size, in [0, 1] pixel units; L-BFGS ignores it.
    lr: float = setting(0.02, "Adam's step size, in [0,1] pixel units", metavar="X")
    # Converged when the loss fell by less than this fraction over the last `PATIENCE` iterations.
    tolerance: float = setting(
        1e-3,
        f"converged when the loss fell less than this fraction in {PATIENCE} iterations; 0: never",
        metavar="X",
    )
    # "vgg19-caffe" (embedded original weights), "vgg19-torchvision" or a weights file.
    weights: str = setting(
        "vgg19-caffe",
        "VGG-19 weights: vgg19-caffe (built in), vgg19-torchvision (downloaded once) or a file",
        metavar="NAME|PATH",
    )
    # Levels above this side are optimised in tiles (bounded memory); None: above 2048 px, 1024 px tiles.
    tile_size: int | None = setting(
        None,
        "optimise levels larger than N px in overlapping tiles (bounded memory)",
        metavar="N", shown=f"auto, {AUTO_TILE_SIZE} px tiles above {AUTO_TILE_ABOVE} px",
    )

    @property
    def init_model(self) -> str | None:
        """The style model named by ``init="model:NAME"``, else None."""
        return self.init[len(MODEL_INIT_PREFIX):] if self.init.startswith(MODEL_INIT_PREFIX) else None

    @property
    def init_is_image(self) -> bool:
        """True when ``init`` names an image file (not content, noise or a model)."""
        return self.init not in ("content", "noise", "instant") and self.init_model is None

    def salient_quantile_of(self, layer: str) -> float:
        """The quantile above which the painting's positions leave ``layer``'s Gram (1: none)."""
        if layer not in SALIENT_LAYERS:
            return 1.0
        if isinstance(self.salient_quantile, tuple):
            return self.salient_quantile[SALIENT_LAYERS.index(layer)]
        return self.salient_quantile

    def __post_init__(self) -> None:
        validate(self)

    def with_changes(self, **changes: Any) -> StyleConfig:
        """A copy with some fields changed (validated like any new config)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def preset(cls, name: str) -> StyleConfig:
        """The settings of a named preset (see `PRESETS`)."""
        if name not in PRESETS:
            raise InputError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
        return cls(**PRESETS[name])

    def resolve_size(self, device_type: str) -> int:
        """The longest side to use on a device of this type ("cpu", "cuda", "mps")."""
        if self.size is not None:
            return self.size
        if device_type != "cpu":
            return DEFAULT_SIZE_GPU
        return ONE_SCALE_SIZE_CPU if self.scales == 1 else DEFAULT_SIZE_CPU

    def scale_plan(self, final_size: int) -> list[tuple[int, int]]:
        """(longest side, iterations) for each scale, coarsest first, ending at ``final_size``."""
        count = self.scales or auto_scale_count(final_size, self.scale_ratio)
        sizes = [
            max(MIN_SCALE_SIZE, round(final_size / self.scale_ratio**k)) for k in range(count - 1, -1, -1)
        ]
        sizes[-1] = final_size
        if self.scale_iterations is not None:
            iterations = self.scale_iterations
        elif count == 1:
            iterations = (self.iterations,)
        else:
            auto = AUTO_SCALE_ITERATIONS + (AUTO_LATER_ITERATIONS,) * count
            iterations = tuple(min(self.iterations, n) for n in auto[:count])
        return list(zip(sizes, iterations, strict=True))

    def tile_for(self, level_size: int) -> int | None:
        """The tile size for a pyramid level of this longest side, or None to see it whole."""
        if self.tile_size is not None:
            return self.tile_size if level_size > self.tile_size else None
        return AUTO_TILE_SIZE if level_size > AUTO_TILE_ABOVE else None

    def style_longest_side(self, output_size: int, final_size: int | None = None) -> int:
        """Longest side of the style image for a level whose longest side is ``output_size``, in a
        run ending at ``final_size`` (None: this is the final level)."""
        if self.style_size is not None:
            return self.style_size
        if self.coarse_style == "final" and final_size is not None:
            output_size = final_size
        return max(MIN_SCALE_SIZE, round(output_size * self.style_scale))

    def extractor_key(self) -> tuple[Any, ...]:
        """What `nst.build_extractor` builds from these settings: two configs with the same key
        can share one VGG network (the layers as a set: their order changes nothing)."""
        return (self.weights, self.pooling, tuple(sorted(set(self.feature_layers))))

    @property
    def weighs_subject(self) -> bool:
        """Whether the content loss is weighted by the photo's salience (a content layer and a
        subject weight other than 1)."""
        return self.subject_weight != 1 and bool(self.content_layers)

    @property
    def feature_layers(self) -> tuple[str, ...]:
        """The VGG layers a run reads: the content and style layers, and the subject layer when
        the content loss is weighted by the photo's salience."""
        layers = (*self.content_layers, *self.style_layers)
        if self.weighs_subject and SUBJECT_LAYER not in layers:
            layers += (SUBJECT_LAYER,)
        return layers

    def laplacian_pool(self, level_size: int) -> int:
        """Block size of the Laplacian term's averaging at a level of this longest side."""
        return max(1, round(level_size / LAPLACIAN_SIZE))

    def content_weight_at(self, level: int, levels: int) -> float:
        """alpha at pyramid level ``level`` (1 = coarsest) of ``levels``: `content_weight` times a
        boost falling geometrically from `coarse_content_boost` to 1 at the final level."""
        if levels <= 1 or self.coarse_content_boost == 1.0:
            return self.content_weight
        return self.content_weight * self.coarse_content_boost ** ((levels - level) / (levels - 1))

    def effective_style_layer_weights(self) -> tuple[float, ...]:
        """w_l of each style layer as the objective weighs it at the final level:
        `style_layer_weights` (None: 1 each), times `stroke_weight` except for the
        `final_only_style_layers`."""
        weights = self.style_layer_weights or (1.0,) * len(self.style_layers)
        final_only = set(self.final_only_style_layers)
        return tuple(
            w if layer in final_only else w * self.stroke_weight
            for layer, w in zip(self.style_layers, weights, strict=True)
        )

    def at_level(self, level: int, levels: int) -> StyleConfig:
        """The objective's settings at pyramid level ``level`` (1 = coarsest) of ``levels``: alpha
        boosted (`content_weight_at`), the style layer weights made explicit, and below the final
        level the `final_only_style_layers` at 0."""
        final_only = set(self.final_only_style_layers)
        weights = tuple(
            0.0 if level < levels and layer in final_only else w
            for layer, w in zip(self.style_layers, self.effective_style_layer_weights(), strict=True)
        )
        return self.with_changes(
            content_weight=self.content_weight_at(level, levels), style_layer_weights=weights,
            stroke_weight=1.0, final_only_style_layers=(),
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready settings (tuples become lists)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StyleConfig:
        """Inverse of `to_dict`; unknown keys are an error, not silently dropped (retired ones at
        the value nst still paints are read as today's: `RETIRED_SETTINGS`)."""
        data = refuse_retired(data)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(f"unknown setting(s): {', '.join(unknown)}")
        values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items()}
        return cls(**values)


__all__ = ["COARSE_STYLE_MODES", "MAX_SIZE", "MIN_SCALE_SIZE", "MODEL_INIT_PREFIX", "OPTIMIZERS", "PAPER_CONTENT_LAYERS",
           "PAPER_STYLE_LAYERS", "PRESERVE_COLOR_MODES", "StyleConfig", "check_size"]
