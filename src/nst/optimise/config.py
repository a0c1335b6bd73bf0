"""Every default of a stylization, once.

`StyleConfig` is frozen: derive variants with `dataclasses.replace` or `StyleConfig.with_changes`.
The CLI, the experiments and the web app read their defaults from here, so a default exists in
exactly one place. Each field names its source: the paper (Gatys, Ecker and Bethge 2015,
arXiv 1508.06576) or, where we deviate, the reason (see README "Deviations from the paper").
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from nst.errors import InputError
from nst.fields import setting
from nst.vgg.layers import PADDINGS, POOLINGS

#: The paper's content layer (Fig. 2 and Section 2.2).
PAPER_CONTENT_LAYERS: tuple[str, ...] = ("conv4_2",)
#: The paper's style layers (Fig. 2: "conv1_1, conv2_1, conv3_1, conv4_1 and conv5_1").
PAPER_STYLE_LAYERS: tuple[str, ...] = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")

OPTIMIZERS = ("lbfgs", "adam")
PRESERVE_COLOR_MODES = ("none", "luminance", "histogram")
#: No pyramid level or style image is made smaller than this (VGG's 5 poolings need >= 32 px).
MIN_SCALE_SIZE = 32
#: The automatic pyramid starts near this size: big enough for the photo's layout to hold (from
#: about 90 px, the previous start, a town or a face could be repainted as the painting's objects;
#: issue 12, docs/quality.md). Outputs up to `AUTO_SMALLEST_SIZE` are one level; larger ones have
#: at least two.
AUTO_COARSEST_SIZE = 128
AUTO_SMALLEST_SIZE = 90
#: Automatic iterations per level, coarsest first; later levels get AUTO_LATER_ITERATIONS. Coarse
#: levels are cheap (a level at half the size costs a quarter) and settle the composition; the
#: finer ones refine it. From 128 px, 60 at the third level (the final one at 256 px) kept more of
#: the photo than 40 after 150 and 80 in about the same time (issue 12, docs/quality.md).
AUTO_SCALE_ITERATIONS: tuple[int, ...] = (100, 60, 60)
AUTO_LATER_ITERATIONS = 40
#: Larger levels are tiled by default (a whole 2048 px level needs about 17 GB with L-BFGS).
AUTO_TILE_ABOVE = 2048
AUTO_TILE_SIZE = 1024


def auto_scale_count(final_size: int, ratio: float) -> int:
    """Levels of a ``ratio`` ladder from about `AUTO_COARSEST_SIZE` up to ``final_size``."""
    if final_size <= AUTO_SMALLEST_SIZE:
        return 1
    return max(2, 1 + math.floor(math.log(final_size / AUTO_COARSEST_SIZE) / math.log(ratio) + 1e-9))



#: How the style image is sized at the coarser pyramid levels (see `StyleConfig.coarse_style`).
COARSE_STYLE_MODES = ("level", "final")
#: Style losses: the paper's Gram matrices, or the Wasserstein-2 distance of Gaussian fits.
STYLE_LOSSES = ("gram", "wasserstein")
#: ``init="model:NAME"`` starts the optimisation from a style model's picture (nst.models).
MODEL_INIT_PREFIX = "model:"
#: Longest side when the caller gives no size: 512 px with a GPU, 128 px on the CPU (spec).
DEFAULT_SIZE_GPU = 512
DEFAULT_SIZE_CPU = 128
#: The largest longest side accepted.
MAX_SIZE = 16384


#: Named sets of settings, from fastest to best-looking. Chosen from measurements in
#: docs/performance.md and docs/gallery.md; each is documented in the README.
PRESETS: dict[str, dict[str, Any]] = {
    # Exactly the paper: one scale, up to 1000 L-BFGS iterations, no total variation, unit layer
    # weights, average pooling; every default that deviates from it is set back here.
    "paper": {
        "scales": 1, "iterations": 1000, "tv_weight": 0.0, "laplacian_weight": 0.0, "content_weight": 1.0, "style_weight": 1e4,
        "style_layer_weights": None, "stroke_weight": 1.0, "final_only_style_layers": (), "pooling": "avg",
        "coarse_style": "level", "coarse_content_boost": 1.0, "level_detail": False, "salient_quantile": 1.0,
        "subject_weight": 1.0,
    },  # fmt: skip
    # A quick look: the automatic pyramid with at most 30 iterations per level.
    "draft": {"iterations": 30, "tolerance": 5e-3},
    # The defaults: the automatic pyramid from about 128 px (100, 60, 60, then 40 iterations).
    "standard": {},
    # Slower and finer: a ladder twice as dense (each level 2^(1/4) larger than the last).
    "high": {"scale_ratio": 2**0.25},
}


#: What each preset is for, in a line: the README's presets table and the web page show these.
PRESET_SUMMARIES: dict[str, str] = {
    "paper": "the paper's method: one size, up to 1000 iterations",
    "draft": "a quick look: coarse to fine, at most 30 iterations at each size",
    "standard": "nst's defaults: coarse to fine from about 128 px, 100, 60, 60, then 40 iterations at each size",
    "high": "smoother large shapes: twice as many sizes, about twice the time",
}


@dataclass(frozen=True)
class StyleConfig:
    """Settings of one stylization: nst's defaults. Each default that deviates from the paper says why
    in its comment (README "Deviations from the paper"); `StyleConfig.preset("paper")` is the paper's
    method."""

    # Longest side of the output in pixels. None: 512 on a GPU, 128 on the CPU (resolved by
    # `resolve_size`), because 1000 L-BFGS iterations at 512 px take about 40 minutes on 2 cores.
    size: int | None = setting(
        None, "longest side of the output in px",
        group="basic", metavar="N", shown=f"auto: {DEFAULT_SIZE_CPU} on a CPU, {DEFAULT_SIZE_GPU} on a GPU",
    )
    # alpha and beta of the paper's total loss alpha * L_content + beta * L_style. Deviation:
    # beta 7e4, not 1e4: max pooling (below) needs about three times the paper's beta for as much
    # of the painting (docs/quality.md "The grid, fourth session"); the Laplacian term (below)
    # holds the photo's outlines but takes some of the style, and so does leaving the painting's
    # focal points out (`salient_quantile`): with those, brad_pitt x The Scream needs 7e4 to carry
    # as much of the painting as before issue 12 (docs/quality.md "The defaults chosen (eleventh
    # session)").
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
    content_layers: tuple[str, ...] = setting(
        PAPER_CONTENT_LAYERS,
        "VGG layers whose features the output must match ('nst layers' lists them)",
        metavar="L,..",
    )
    style_layers: tuple[str, ...] = setting(
        PAPER_STYLE_LAYERS,
        "VGG layers whose Gram matrices the output must match",
        metavar="L,..",
    )
    # w_l of the paper, one per layer; None means 1 for every layer (the paper's choice).
    content_layer_weights: tuple[float, ...] | None = setting(
        None,
        "one weight per content layer",
        metavar="W,..", shown="all 1",
    )
    style_layer_weights: tuple[float, ...] | None = setting(
        None,
        "one weight per style layer (see --stroke-weight)",
        metavar="W,..", shown="all 1",
    )
    # Deviation (issue 12, docs/quality.md): the style layers other than the final-only ones
    # (conv1_1-conv4_1: colour, strokes, texture) weigh this many times their w_l; conv5_1, which
    # sees a painting's objects whole, keeps its w_l and acts at the final level only. With the
    # coarse levels' content boost this keeps the photo's layout and carries more brushwork.
    stroke_weight: float = setting(
        3.0,
        "multiplies the weights of the style layers that are not final-only",
        metavar="X",
    )
    # Deviation: total variation is not in the paper (0 restores its objective, as the "paper"
    # preset does). A little of it takes away the pixel-scale speckle the style loss leaves in
    # flat regions (fine-texture energy 0.94 -> 0.56 of the painting's on brad_pitt x the_scream)
    # while the style and content losses move by 1-4% (bench/grain.py, docs/gallery.md).
    tv_weight: float = setting(
        0.01,
        "total-variation smoothing against pixel-scale speckle",
        metavar="W",
    )
    # Deviation: a Laplacian term (Li et al. 2017, "Laplacian-Steered Neural Style Transfer"):
    # the squared difference between the Laplacians of the picture's and the photo's luminance,
    # both averaged down to about `laplacian_size` px on the longest side. It holds outlines (a
    # jaw, a roof line) where the photo has them and leaves colour, tone and brush strokes to the
    # style. Without it the style bent brad_pitt's jaw into Great Wave's crests and kept less of
    # the photo than the paper on 3 of 21 panel pairs; with it (and beta 5e4 then) every pair keeps at
    # least the paper's structure (docs/quality.md "The defaults chosen (sixth session)"). At 32
    # px it held only the largest outlines, and more beta painted Picasso's eye into Tübingen's
    # sky; 64 px does not. 0.02 since the subject weight (below) gives the background less
    # content weight: at 0.01 brad_pitt's plain backdrop took Escher's and Great Wave's texture
    # and kept less of the photo than the paper's method. 0 turns it off (the paper has none).
    laplacian_weight: float = setting(
        0.02,
        "weight of the Laplacian term that keeps the photo's outlines in place",
        metavar="W",
    )
    laplacian_size: int = setting(
        64,
        "px the Laplacian term averages the pictures down to: smaller keeps only large outlines",
        metavar="N",
    )
    # Deviation: VGG's own max pooling, not the paper's average pooling ("improves the gradient
    # flow and one obtains slightly more appealing results", Gatys et al.). Measured on the quality
    # panel, average pooling is what lets conv5_1 paint a lattice of dots over flat areas (a wall,
    # a sky); max pooling leaves them clean and keeps its large strokes (with beta 3e4 and a
    # coarse content boost of 32, more of the photo and of the painting than the third session's
    # average-pooling defaults; beta is 5e4 since the Laplacian term). Issue 12, docs/quality.md
    # "The grid, fourth session".
    pooling: str = setting(
        "max",
        "VGG pooling: max is VGG's own; avg paints dots on flat areas; blur: an anti-aliased avg",
        choices=POOLINGS,
    )
    optimizer: str = setting("lbfgs", "L-BFGS (the paper's) or Adam (see --lr)", choices=OPTIMIZERS)
    # Upper bound; the loop stops earlier on convergence (see `tolerance`).
    iterations: int = setting(
        1000,
        "most iterations at each size; each stops earlier when converged",
        group="basic", metavar="N",
    )
    # Adam's step size, in [0, 1] pixel units. Ignored by L-BFGS.
    lr: float = setting(0.02, "Adam's step size, in [0,1] pixel units", metavar="X")
    # Deviation: the paper starts from white noise. Starting from the content image reaches the
    # same kind of optimum in far fewer iterations and is deterministic; "noise" is still there.
    # "model:NAME" and "instant" start from a style model's or the any-painting engine's picture.
    init: str = setting(
        "content",
        "the starting picture: the photo, noise (the paper's), the --instant picture, a style model's or an image",
        group="basic", metavar="content|noise|instant|model:NAME|PATH",
    )
    seed: int = setting(0, "random seed (of --init noise)", group="basic", metavar="N")
    # Early stop: converged when the total loss fell by less than this fraction over the last
    # `patience` iterations.
    tolerance: float = setting(
        1e-3,
        "converged when the loss fell less than this fraction in --patience iterations; 0: never",
        metavar="X",
    )
    patience: int = setting(20, "iterations over which --tolerance is measured", metavar="N")
    # L-BFGS memory (torch's default is 100; 50 is what most Gatys implementations use).
    history_size: int = setting(50, "L-BFGS memory: how many past steps shape the next", metavar="N")
    # "vgg19-caffe" (embedded original weights), "vgg19-torchvision", or a path to a weights file.
    weights: str = setting(
        "vgg19-caffe",
        "VGG-19 weights: vgg19-caffe (built in), vgg19-torchvision (downloaded once) or a file",
        metavar="NAME|PATH",
    )
    # Coarse-to-fine synthesis (Gatys et al. 2017, "Controlling Perceptual Factors"): optimise at
    # `scales` sizes, each `scale_ratio` times the last, ending at `size`; every result is upsampled
    # as the next start. 1 is the paper's single scale. Deviation: None (the default) chooses a
    # ladder whose coarsest level is about 128 px (`AUTO_COARSEST_SIZE`): coarse to fine lays out
    # large structures better and takes an eighth of the time of a plain 1000-iteration loop
    # (docs/performance.md).
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
    # Iterations at each scale, coarsest first. None: with one scale, `iterations`; with several,
    # AUTO_SCALE_ITERATIONS from the coarsest level up (each capped at `iterations`).
    scale_iterations: tuple[int, ...] | None = setting(
        None,
        "iterations at each level, coarsest first; needs --scales",
        metavar="N,..", shown=f"auto: {', '.join(map(str, AUTO_SCALE_ITERATIONS))}, then {AUTO_LATER_ITERATIONS}",
    )
    # Style image size: `style_size` px on its longest side, else `style_scale` times the output's
    # longest side. Smaller style images give smaller brush strokes.
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
    # Style image size at the coarser pyramid levels. "level": sized like each level's output, so
    # at a 91 px level the deepest layers see the painting's objects (a face) whole and copy them.
    # Deviation, "final": every level sees the painting at the final level's size, so coarse
    # levels match the statistics of strokes, not of objects (issue 12, docs/quality.md).
    coarse_style: str = setting(
        "final",
        "the painting's size at coarser levels: shrinking with them, or the final level's",
        choices=COARSE_STYLE_MODES,
    )
    # Content weight at the coarsest pyramid level, as a multiple of `content_weight`; the
    # multiple falls geometrically to 1 at the final level. Deviation, 32: holds the photo's
    # layout while the composition forms (coarse levels) and leaves the final balance the
    # configured one (4 still let Picasso's eyes into Tübingen; with average pooling and beta 1e4
    # 16 was best and 64 lost style; with max pooling and beta 3e4, 32 keeps brad_pitt's face and
    # no eye in Hoover Tower's sky; docs/quality.md).
    coarse_content_boost: float = setting(
        32.0,
        "content weight at the coarsest level, times --content-weight; falls to 1 at the final level",
        metavar="X",
    )
    # Style layers that act at the final pyramid level only (weight 0 below it). Deviation: the
    # coarse levels settle the layout, and there conv5_1, which sees a painting's objects whole,
    # painted Picasso's face over Tübingen; at the final level it only adds large strokes to a
    # layout that is already the photo's (issue 12, docs/quality.md). () for none.
    final_only_style_layers: tuple[str, ...] = setting(
        ("conv5_1",),
        "style layers used at the final level only",
        metavar="L,..|none", empty="none",
    )
    # Deviation: each pyramid level starts from the last one's picture upsampled; True adds the photo's
    # detail that the smaller level could not hold (its Laplacian band), so the finer level
    # starts from the photo's edges and windows, not from a blur the style fills with its own.
    level_detail: bool = setting(
        True,
        "start each level with the photo's detail the smaller level could not hold",
    )
    # "gram" (the paper's) or "wasserstein": the squared Wasserstein-2 distance between Gaussian
    # fits of the features (mean and covariance; crowsonkb's style-transfer-pytorch), which
    # matches statistics rather than exact Gram matrices.
    style_loss: str = setting(
        "gram",
        "gram (the paper's) or wasserstein (W2 distance of Gaussian fits; not with --mask)",
        choices=STYLE_LOSSES,
    )
    # Deviation: style statistics without the painting's focal points. In `salient_layers`, the
    # painting's positions whose feature norm is above this quantile of the layer's norms are
    # left out of its Gram matrix (the rest scaled to the painting's full strength). A portrait's
    # eyes are the strongest conv4_1/conv5_1 responses of the painting; matched whole, they are
    # what the style painted into the photo (Hoover Tower's night sky, over brad_pitt's eye, a
    # bear on snow). One number for every salient layer, or one per layer in
    # `salient_layers`' order; 1 keeps every position (the paper's). (0.9, 0.8): conv5_1, which
    # sees the painting's objects whole, loses its strongest fifth, conv4_1 its strongest tenth;
    # at 0.8 on conv4_1 too every pair lost more of the painting's style, at 0.9 on both the
    # belfry read as a face again (docs/quality.md "The defaults chosen (eighth session)").
    salient_quantile: float | tuple[float, ...] = setting(
        (0.9, 0.8),
        "leave the painting's strongest positions above this quantile (a portrait's eyes) out of its "
        "style: one, or one per --salient-layers; 1 keeps all",
        metavar="Q[,Q]",
    )
    salient_layers: tuple[str, ...] = setting(
        ("conv4_1", "conv5_1"),
        "style layers --salient-quantile acts on",
        metavar="L,..|none", empty="none",
    )
    # Deviation: the content loss weighs each position of the photo by the photo's own salience,
    # so its subject holds against the painting while the rest takes the painting's strokes. The
    # salience is the norm of the photo's `subject_layer` features (which respond most to a face,
    # an animal, a building) against their 99th percentile, squared; a position weighs between 1
    # and `subject_weight` times the least salient, the map scaled to mean 1, so alpha over the
    # whole photo is unchanged. At 10, brad_pitt's eyes and the bear's head in the grass come back
    # from under The Scream's and Picasso's strokes at the same style distance; 3 keeps less of
    # them, 30 a little more by the measure and the same to the eye, with less of the backdrop
    # (issue 12, docs/quality.md "The defaults chosen (eleventh session)").
    # 1: every position alike (the paper's).
    subject_weight: float = setting(
        10.0,
        "the content loss weighs the photo's subject (its most salient positions) up to X times the rest",
        metavar="X",
    )
    subject_layer: str = setting(
        "conv5_1",
        "VGG layer whose response strength is the photo's salience",
        metavar="L",
    )
    # Padding of the network's convolutions: "zeros" (VGG's, the paper's) or "reflect"/"replicate",
    # which give the border no dark frame to react to.
    padding: str = setting("zeros", "padding of VGG's convolutions (zeros is VGG's own)", choices=PADDINGS)
    # One weight per style image when several are given (normalised to sum 1); None: equal.
    style_blend: tuple[float, ...] | None = setting(
        None,
        "weights of several paintings, e.g. 0.7,0.3",
        group="basic", metavar="W,..", shown="equal",
    )
    # "none", "luminance" (transfer luminance only, keep the photo's colours) or "histogram"
    # (give the style image the photo's colour statistics first); Gatys et al. 2016.
    preserve_color: str = setting(
        "none",
        "keep the photo's colours: paint luminance only, or give the painting the photo's colours first",
        group="basic", choices=PRESERVE_COLOR_MODES,
    )
    # Spatial control (Gatys et al. 2017): a mask image the photo's shape whose white, red, green,
    # blue, yellow, cyan and magenta parts take the 1st, 2nd, ... style; black keeps the photo.
    mask: str | None = setting(
        None,
        "spatial control: white, red, green, blue, yellow, cyan, magenta parts take the 1st, 2nd, ... "
        "painting; black keeps the photo",
        metavar="MASK.png", shown="",
    )
    # Levels whose longest side exceeds `tile_size` are optimised in overlapping tiles of that
    # size, so memory stays bounded at any size. None: tile only above AUTO_TILE_ABOVE px (a
    # whole 2048 px level needs about 17 GB), in 1024 px tiles.
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
        if layer not in self.salient_layers:
            return 1.0
        if isinstance(self.salient_quantile, tuple):
            return self.salient_quantile[self.salient_layers.index(layer)]
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
        return DEFAULT_SIZE_CPU if device_type == "cpu" else DEFAULT_SIZE_GPU

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
        return (self.weights, self.pooling, self.padding, tuple(sorted(set(self.feature_layers))))

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
        if self.weighs_subject and self.subject_layer not in layers:
            layers += (self.subject_layer,)
        return layers

    def laplacian_pool(self, level_size: int) -> int:
        """Block size of the Laplacian term's averaging at a level of this longest side."""
        return max(1, round(level_size / self.laplacian_size))

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
        """Inverse of `to_dict`; unknown keys are an error, not silently dropped."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(f"unknown setting(s): {', '.join(unknown)}")
        values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items()}
        return cls(**values)


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
    _positive_int("laplacian_size", config.laplacian_size, maximum=100_000)
    _finite_number("lr", config.lr, allow_equal=False)
    _finite_number("tolerance", config.tolerance)
    _positive_int("iterations", config.iterations, maximum=1_000_000)
    _positive_int("patience", config.patience, maximum=1_000_000)
    _positive_int("history_size", config.history_size, maximum=10_000)
    if isinstance(config.seed, bool) or not isinstance(config.seed, int) or config.seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {config.seed!r}")
    if config.optimizer not in OPTIMIZERS:
        raise InputError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {config.optimizer!r}")
    if config.coarse_style not in COARSE_STYLE_MODES:
        raise InputError(
            f"coarse_style must be one of {', '.join(COARSE_STYLE_MODES)}, got {config.coarse_style!r}"
        )
    _finite_number("coarse_content_boost", config.coarse_content_boost, allow_equal=False)
    if config.style_loss not in STYLE_LOSSES:
        raise InputError(f"style_loss must be one of {', '.join(STYLE_LOSSES)}, got {config.style_loss!r}")
    if config.style_loss == "wasserstein" and config.mask is not None:
        raise InputError("style_loss 'wasserstein' does not support masks yet; use 'gram'")
    check_layer_names(config.salient_layers, "salient layer")  # before the quantiles that follow them
    quantiles = config.salient_quantile
    if isinstance(quantiles, tuple):
        if config.salient_layers and len(quantiles) != len(config.salient_layers):
            raise InputError(
                f"salient_quantile has {len(quantiles)} values ({', '.join(f'{q:g}' for q in quantiles)}) for "
                f"{len(config.salient_layers)} salient layers ({', '.join(config.salient_layers)}): "
                "give one value for all, or one per layer"
            )
    else:
        quantiles = (quantiles,)
    for quantile in quantiles:
        _finite_number("salient_quantile", quantile, allow_equal=False)
        if quantile > 1:
            raise InputError(f"salient_quantile must be <= 1, got {quantile:g}")
    if config.padding not in PADDINGS:
        raise InputError(f"padding must be one of {', '.join(PADDINGS)}, got {config.padding!r}")
    if config.pooling not in POOLINGS:
        raise InputError(f"pooling must be one of {', '.join(POOLINGS)}, got {config.pooling!r}")
    if not isinstance(config.init, str) or not config.init or config.init == MODEL_INIT_PREFIX:
        raise InputError("init must be 'content', 'noise', 'instant', 'model:NAME' or an image path")
    if not config.content_layers and not config.style_layers:
        raise InputError("at least one content or style layer is needed")
    check_layer_names(config.content_layers, "content layer")
    check_layer_names((config.subject_layer,), "subject layer")
    check_layer_names(config.style_layers, "style layer")
    _layer_weights("content_layer_weights", config.content_layer_weights, config.content_layers)
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


__all__ = ["StyleConfig", "PAPER_CONTENT_LAYERS", "PAPER_STYLE_LAYERS"]
