"""The quality panel: every photo x painting pair under several settings, measured and drawn.

For each configuration (a named `StyleConfig`: the paper, today's defaults, candidates) and each
content x style pair, runs nst through the public API and records in OUT/<size>/<config>/<pair>.json:

* seconds, iterations and why it stopped;
* the run's own final objective terms, and the *common* objective of the saved picture (the
  paper's loss with alpha 1, beta 1e4, nst's default layers and tv 0.01, as bench/compare.py
  scores it), so configurations whose losses differ can be compared on one scale;
* style_distance and texture_distance to the painting, and structure (SSIM of the blurred
  luminance, sigma 2 px at 256 px) against the photo (bench/measures.py);
* style_distance_max: style_distance in the max-pooling network (the mean of the two is the
  style measure between configurations whose pooling differs: bench/measures.py);
* grid: the amplitude of a periodic pattern at the pooling periods in the photo's flat areas
  (bench/grain.py, `grid_pattern`), and dots: isolated dots per 1000 flat pixels (`dot_density`).

A cell whose JSON exists is skipped, so an interrupted panel resumes where it stopped and a slow
configuration (the paper's 1000 iterations) can be completed later. Contact sheets
(OUT/<size>/sheet-<config>.png: photos in rows, paintings in columns) and a comparison sheet
(OUT/<size>/compare.png: pairs in rows, configurations in columns) are drawn from what exists.

    python bench/quality.py --size 128 --configs default paper           # the whole 3x7 panel
    python bench/quality.py --size 256 --pairs 'tubingen~picasso*' 'tubingen~starry*'
    python bench/quality.py --size 256 --extra-photos 4 --configs default  # + 4 BSDS500 photos
    python bench/quality.py --size 256 --report-only                       # tables and sheets only
    python bench/quality.py --size 256 --remeasure                         # add newer measures to old cells
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baselines import previous_defaults, scoring_config  # noqa: E402
from grain import dot_density, flat_band_energy, grid_pattern  # noqa: E402
from measures import Box, structure, style_distance, texture_distance  # noqa: E402

import nst  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
IMAGES = SHARED / "images"
PHOTOS = SHARED / "photos"
CONTENTS = ("tubingen.jpg", "brad_pitt.jpg", "hoovertowernight.jpg")
PAINTINGS = (
    "starry_night.jpg", "the_scream.jpg", "picasso_selfport1907.jpg", "seated-nude.jpg",
    "escher_sphere.jpg", "great_wave.jpg", "udnie.jpg",
)  # fmt: skip
#: Each panel photo's subject, drawn by hand (left, top, right, bottom as fractions): where the
#: "subject structure" measure looks, since the whole picture's mean is mostly sky, water and grass.
SUBJECT_BOXES: dict[str, Box] = {
    "brad_pitt": (0.22, 0.12, 0.78, 0.72),  # the face
    "tubingen": (0.3, 0.15, 1.0, 0.8),  # the houses and the church tower
    "hoovertowernight": (0.68, 0.0, 0.87, 0.65),  # the tower
    "100075": (0.0, 0.25, 1.0, 0.85),  # the bears
    "100080": (0.05, 0.3, 0.62, 0.85),  # the bear in the grass
    "100098": (0.4, 0.35, 1.0, 0.85),  # the bear on the snow
    "101085": (0.1, 0.0, 1.0, 0.95),  # the statues
    "101087": (0.55, 0.15, 0.85, 0.95),  # the man on the raft
    "102061": (0.05, 0.08, 0.85, 0.5),  # the château (its reflection left out)
    "103041": (0.0, 0.3, 0.95, 0.65),  # the gulls
    "103070": (0.0, 0.15, 0.65, 0.85),  # the boobies
}
#: crowsonkb's style-transfer-pytorch layer weights 256:64:16:4:1, scaled to sum to 5 (the
#: paper's five unit weights) so that beta keeps its meaning.
CROWSON_WEIGHTS = tuple(5 * w / 341 for w in (256, 64, 16, 4, 1))


def _previous(size: int, **changes: object) -> nst.StyleConfig:
    """nst's defaults before issue 12 (bench/baselines.py) with some settings changed: every
    candidate below was measured against those."""
    return previous_defaults(size).with_changes(**changes)


def _start_at(size: int, coarsest: int, **changes: object) -> nst.StyleConfig:
    """The previous pyramid (sqrt 2 ladder, 150/80/40 iterations) but starting near ``coarsest`` px."""
    return previous_defaults(size, coarsest).with_changes(**changes)


def _keep_layout(
    size: int, weight: float, final5: float, boost: float = 4.0, conv1: float | None = None,
    start: int | None = None, **changes: object,
) -> nst.StyleConfig:
    """The painting at its final size at every level, alpha x ``boost`` at the coarsest, conv5_1
    off at the coarse levels (``final5`` at the final one), the other style layers at ``weight``
    (conv1_1 at ``conv1`` if given), the pyramid from near ``start`` px if given."""
    shallow = (weight if conv1 is None else conv1, weight, weight, weight)
    base = _start_at(size, start) if start else _previous(size)
    return base.with_changes(
        coarse_style="final", coarse_content_boost=boost, style_layer_weights=(*shallow, final5),
        final_only_style_layers=("conv5_1",), **changes,
    )  # fmt: skip


#: Issue 12's defaults of the fourth and fifth sessions, where they differ from today's. The
#: Laplacian term is off there; its size is pinned to the 32 px the sixth session's first
#: candidates (`lap0.01` ... `lap0.01-s5-boost64`) were measured with, before 64 px became the default.
FOURTH: dict[str, object] = {
    "pooling": "max", "style_weight": 3e4, "coarse_content_boost": 32.0, "laplacian_weight": 0.0, "laplacian_size": 32,
    "salient_quantile": 1.0, "subject_weight": 1.0,
}  # fmt: skip
#: Issue 12's defaults of the sixth session, where they differ from the fourth's.
SIXTH: dict[str, object] = {"laplacian_weight": 0.01, "laplacian_size": 64, "style_weight": 5e4}


def _third(**changes: object) -> nst.StyleConfig:
    """Issue 12's defaults of the third session (average pooling, beta 1e4, content boost 16),
    with ``changes``: pinned, so a rerun means what docs/quality.md reports."""
    return _fourth(**{"pooling": "avg", "style_weight": 1e4, "coarse_content_boost": 16.0, **changes})


def _fourth(**changes: object) -> nst.StyleConfig:
    """The fourth session's defaults with ``changes`` (pinned like `_third`)."""
    return nst.StyleConfig(**{**FOURTH, **changes})


def _sixth(**changes: object) -> nst.StyleConfig:
    """The sixth session's defaults with ``changes`` (pinned like `_third`)."""
    return _fourth(**{**SIXTH, **changes})


def _eighth(**changes: object) -> nst.StyleConfig:
    """The eighth session's defaults with ``changes`` (pinned like `_third`)."""
    return _sixth(**{"salient_quantile": (0.9, 0.8), "style_weight": 6e4, **changes})


#: Named configurations, each a function of the output size. "default" is today's StyleConfig();
#: "previous" the defaults before issue 12; the first candidates are changes to "previous", the
#: later ones to the defaults of their session, pinned (`_third`, `_fourth`, `_sixth`, `_eighth`).
CONFIGS: dict[str, Callable[[int], nst.StyleConfig]] = {
    "paper": lambda size: nst.StyleConfig.preset("paper"),
    "default": lambda size: nst.StyleConfig(),
    # The sixth and seventh sessions' defaults (beta 5e4, no salient cut).
    "sixth": lambda size: _sixth(),
    "previous": previous_defaults,
    "final-style": lambda size: _previous(size, coarse_style="final"),
    "boost4": lambda size: _previous(size, coarse_content_boost=4.0),
    "final-boost4": lambda size: _previous(size, coarse_style="final", coarse_content_boost=4.0),
    "crowson": lambda size: _previous(size, style_layer_weights=CROWSON_WEIGHTS),
    "w2": lambda size: _previous(size, style_loss="wasserstein"),
    "start128": lambda size: _start_at(size, 128),
    "reflect": lambda size: _previous(size, padding="reflect"),
    "max-pool": lambda size: _previous(size, pooling="max"),
    # conv5_1 sees objects whole (its Gram term was 58% of the style loss on Tübingen x Picasso
    # at the previous defaults' end); these weaken the deepest layers only.
    "deep-light": lambda size: _previous(size, style_layer_weights=(1.0, 1.0, 1.0, 0.5, 0.1)),
    "no5": lambda size: _previous(size, style_layer_weights=(1.0, 1.0, 1.0, 1.0, 0.0)),
    # The style models' last fine-tuning (docs/instant.md): strokes (conv2_1, conv3_1) up, the
    # painting's objects (conv4_1, conv5_1) down; it took the moons out of starry-night's model.
    "brush": lambda size: _previous(size, style_layer_weights=(1.0, 3.0, 3.0, 0.5, 0.5)),
    # no5 removed Picasso's face but most of the style with it: win the style back at the other
    # layers, with the coarse levels holding the layout (docs/quality.md).
    "final-no5-boost4-x3": lambda size: _keep_layout(size, 3.0, final5=0.0),
    "final-no5-boost4-x6": lambda size: _keep_layout(size, 6.0, final5=0.0),
    # conv5_1 off at the coarse levels only: the final level gets it back (weight ``final5``), to
    # win back the large strokes once the layout is the photo's.
    "x6-final5-1": lambda size: _keep_layout(size, 6.0, final5=1.0),
    "x6-final5-6": lambda size: _keep_layout(size, 6.0, final5=6.0),
    "x8-final5-2": lambda size: _keep_layout(size, 8.0, final5=2.0),
    "x6-final5-1-boost16": lambda size: _keep_layout(size, 6.0, final5=1.0, boost=16.0),
    "x6-final5-1-blur": lambda size: _keep_layout(size, 6.0, final5=1.0, pooling="blur"),
    "x3-final5-1": lambda size: _keep_layout(size, 3.0, final5=1.0),
    "x3-final5-1-boost16": lambda size: _keep_layout(size, 3.0, final5=1.0, boost=16.0),
    "x3-final5-1-boost64": lambda size: _keep_layout(size, 3.0, final5=1.0, boost=64.0),
    "x2-final5-1-boost16": lambda size: _keep_layout(size, 2.0, final5=1.0, boost=16.0),
    "x3-final5-1-boost16-start128": lambda size: _keep_layout(size, 3.0, final5=1.0, boost=16.0, start=128),
    "x4-s128": lambda size: _keep_layout(size, 4.0, final5=1.0, boost=16.0, start=128),
    "x4c1-s128": lambda size: _keep_layout(size, 4.0, final5=1.0, boost=16.0, conv1=1.0, start=128),
    "x5c1-s128": lambda size: _keep_layout(size, 5.0, final5=1.0, boost=16.0, conv1=1.0, start=128),
    "x3-s128-detail": lambda size: _keep_layout(size, 3.0, final5=1.0, boost=16.0, start=128, level_detail=True),
    "x4-s128-detail": lambda size: _keep_layout(size, 4.0, final5=1.0, boost=16.0, start=128, level_detail=True),
    "x3-fine-detail": lambda size: _keep_layout(
        size, 3.0, final5=1.0, boost=16.0, start=128, level_detail=True
    ).with_changes(scale_iterations=(100, 60, 60, 40, 40, 40)[: _start_at(size, 128).scales]),
    "x3.5-s128-detail": lambda size: _keep_layout(size, 3.5, final5=1.0, boost=16.0, start=128, level_detail=True),
    "x3c6-s128-detail": lambda size: _keep_layout(size, 3.0, final5=1.0, boost=16.0, conv1=6.0, start=128, level_detail=True),
    # Against the dots in flat areas (docs/quality.md, "The grid"): conv1_1 without the stroke
    # weight, or more total variation.
    "default-conv1": lambda size: _third(style_layer_weights=(1 / 3, 1.0, 1.0, 1.0, 1.0)),
    "default-tv0.03": lambda size: _third(tv_weight=0.03),
    # Issue 12's defaults of the third session: average pooling, beta 1e4. conv5_1 at the final
    # level paints dots on flat areas through average pooling; VGG's own max pooling does not,
    # and needs a larger beta for the same style (docs/quality.md, "The grid, fourth session").
    "default-avg": lambda size: _third(),
    "default-avg-no5": lambda size: _third(
        style_layers=("conv1_1", "conv2_1", "conv3_1", "conv4_1"), final_only_style_layers=()
    ),
    # Measured when the default boost was 16; pinned so that a rerun means what the docs report.
    "max-s2": lambda size: _fourth(style_weight=2e4, coarse_content_boost=16.0),
    "max-s3": lambda size: _fourth(coarse_content_boost=16.0),
    "max-s2.5": lambda size: _fourth(style_weight=2.5e4, coarse_content_boost=16.0),
    "max-s3-boost32": lambda size: _fourth(),
    "max-s3-x2.5": lambda size: _fourth(stroke_weight=2.5, coarse_content_boost=16.0),
    # Issue 12's defaults of the fourth and fifth sessions: max pooling, beta 3e4, no Laplacian term.
    "fourth": lambda size: _fourth(),
    # Fifth session: the pairs where the fourth session's defaults kept less of the photo than the
    # paper (brad_pitt x Great Wave, Escher, Starry Night).
    "c5-half": lambda size: _fourth(style_layer_weights=(1.0, 1.0, 1.0, 1.0, 0.5)),
    "boost64": lambda size: _fourth(coarse_content_boost=64.0),
    "s2.5": lambda size: _fourth(style_weight=2.5e4),
    "alpha1.5": lambda size: _fourth(content_weight=1.5, coarse_content_boost=32.0 / 1.5),
    # Sixth session: a Laplacian term (Li et al. 2017) on the photo's outlines, averaged down to
    # 32 px (or 64), and a larger beta to win back the style it costs. lap64-0.01-s5 became the
    # defaults (docs/quality.md, "The defaults chosen (sixth session)"); the ones after it are
    # changes to it, against the eyes on the bear and on Hoover Tower ("What is left").
    "lap0.005": lambda size: _fourth(laplacian_weight=0.005),
    "lap0.01": lambda size: _fourth(laplacian_weight=0.01),
    "lap0.02": lambda size: _fourth(laplacian_weight=0.02),
    "lap0.04": lambda size: _fourth(laplacian_weight=0.04),
    "lap64-0.01": lambda size: _fourth(laplacian_weight=0.01, laplacian_size=64),
    "lap0.01-s4": lambda size: _fourth(laplacian_weight=0.01, style_weight=4e4),
    "lap0.02-s4": lambda size: _fourth(laplacian_weight=0.02, style_weight=4e4),
    "lap0.01-s5": lambda size: _fourth(laplacian_weight=0.01, style_weight=5e4),
    "lap0.01-s4.5": lambda size: _fourth(laplacian_weight=0.01, style_weight=4.5e4),
    "lap0.015-s5": lambda size: _fourth(laplacian_weight=0.015, style_weight=5e4),
    "lap64-0.01-s4.5": lambda size: _fourth(laplacian_weight=0.01, laplacian_size=64, style_weight=4.5e4),
    "lap0.01-s4.5-c5half": lambda size: _fourth(
        laplacian_weight=0.01, style_weight=4.5e4, style_layer_weights=(1.0, 1.0, 1.0, 1.0, 0.5)
    ),
    "lap0.01-x4": lambda size: _fourth(laplacian_weight=0.01, stroke_weight=4.0),
    "lap0.01-x5": lambda size: _fourth(laplacian_weight=0.01, stroke_weight=5.0),
    "lap0.01-s5-boost64": lambda size: _fourth(laplacian_weight=0.01, style_weight=5e4, coarse_content_boost=64.0),
    "lap64-0.01-s5": lambda size: _sixth(),
    "lap128-0.01-s5": lambda size: _sixth(laplacian_size=128),
    "lap64-s5-c5half": lambda size: _sixth(style_layer_weights=(1.0, 1.0, 1.0, 1.0, 0.5)),
    "lap64-s5-c5quarter": lambda size: _sixth(style_layer_weights=(1.0, 1.0, 1.0, 1.0, 0.25)),
    "default-ss0.75": lambda size: _sixth(style_scale=0.75),
    "default-ss0.5": lambda size: _sixth(style_scale=0.5),
    "lap64-0.02-s5": lambda size: _sixth(laplacian_weight=0.02),
    # Seventh session: the painting larger than the output, so its objects (a face, an eye) are
    # larger than what conv4_1 and conv5_1 see whole; and conv4_1 without the stroke multiple.
    "default-ss1.5": lambda size: _sixth(style_scale=1.5),
    "default-ss2": lambda size: _sixth(style_scale=2.0),
    "default-c4one": lambda size: _sixth(style_layer_weights=(1.0, 1.0, 1.0, 1.0 / 3.0, 1.0)),
    # The photo's deepest features as content too: an eye painted into snow moves conv5 far more
    # than conv4_2.
    "content-c52": lambda size: _sixth(content_layers=("conv4_2", "conv5_2")),
    "content-c51": lambda size: _sixth(content_layers=("conv4_2", "conv5_1")),
    # Lighter deep layers: conv4_1 without the stroke multiple, conv5_1 at a half or a quarter.
    "deep-c4one-c5half": lambda size: _sixth(style_layer_weights=(1.0, 1.0, 1.0, 1.0 / 3.0, 0.5)),
    "deep-c4one-c5quarter": lambda size: _sixth(style_layer_weights=(1.0, 1.0, 1.0, 1.0 / 3.0, 0.25)),
    "deep-c4tenth-c5half": lambda size: _sixth(style_layer_weights=(1.0, 1.0, 1.0, 0.1, 0.5)),
    "ss2-c4one-c5half": lambda size: _sixth(style_scale=2.0, style_layer_weights=(1.0, 1.0, 1.0, 1.0 / 3.0, 0.5)),
    "ss2-s8": lambda size: _sixth(style_scale=2.0, style_weight=8e4),
    "lap64-0.05": lambda size: _sixth(laplacian_weight=0.05),
    "lap64-0.1": lambda size: _sixth(laplacian_weight=0.1),
    # conv4_1 final-only too: the coarse levels, where the layout forms, see colour and texture only.
    "fo45": lambda size: _sixth(final_only_style_layers=("conv4_1", "conv5_1")),
    "fo45-c4x3": lambda size: _sixth(
        final_only_style_layers=("conv4_1", "conv5_1"), style_layer_weights=(1.0, 1.0, 1.0, 3.0, 1.0)
    ),
    # The painting's strongest conv4_1/conv5_1 positions (a portrait's eyes) left out of its Grams.
    "salient0.8": lambda size: _sixth(salient_quantile=0.8),
    "salient0.8-s7": lambda size: _sixth(salient_quantile=0.8, style_weight=7e4),
    "salient0.8-s10": lambda size: _sixth(salient_quantile=0.8, style_weight=1e5),
    "salient0.8-c5": lambda size: _sixth(salient_quantile=0.8, salient_layers=("conv5_1",)),
    "salient0.8-c4": lambda size: _sixth(salient_quantile=0.8, salient_layers=("conv4_1",)),
    "salient0.8-c5-s5.5": lambda size: _sixth(salient_quantile=0.8, salient_layers=("conv5_1",), style_weight=5.5e4),
    "salient0.7-c5-s5.5": lambda size: _sixth(salient_quantile=0.7, salient_layers=("conv5_1",), style_weight=5.5e4),
    # Eighth session: a quantile per layer, conv4_1 cut more mildly than conv5_1.
    "salient.9-.8-s5.5": lambda size: _sixth(salient_quantile=(0.9, 0.8), style_weight=5.5e4),
    "salient.85-.8-s5.5": lambda size: _sixth(salient_quantile=(0.85, 0.8), style_weight=5.5e4),
    "salient.9-.7-s5.5": lambda size: _sixth(salient_quantile=(0.9, 0.7), style_weight=5.5e4),
    "salient.9-.8-s7": lambda size: _sixth(salient_quantile=(0.9, 0.8), style_weight=7e4),
    # From here on the kept positions are scaled to the painting's full strength
    # (`losses.without_salient`). The salient configs above were measured before that (the
    # seventh session's at 60bc75a, the four above in this session's working tree before
    # 129114e); rerun now, they measure the scaled cut.
    "salient-e0.8": lambda size: _sixth(salient_quantile=0.8),
    "salient-e.9-.8": lambda size: _sixth(salient_quantile=(0.9, 0.8)),
    "salient-e.9-.8-s6": lambda size: _sixth(salient_quantile=(0.9, 0.8), style_weight=6e4),
    "salient-e-c3.9-s6": lambda size: _sixth(
        salient_quantile=(0.9, 0.9, 0.8), salient_layers=("conv3_1", "conv4_1", "conv5_1"), style_weight=6e4
    ),
    # Probes on the BSDS500 photos Picasso still takes (the château, the gulls): today's defaults
    # with less stroke weight, a deeper cut, a stronger coarse content weight.
    "eighth-stroke2": lambda size: _eighth(stroke_weight=2.0),
    "eighth-cut.8-.7": lambda size: _eighth(salient_quantile=(0.8, 0.7)),
    "eighth-boost128": lambda size: _eighth(coarse_content_boost=128.0),
    # Ninth session (docs/quality.md "What is left (ninth session)"): what keeps the BSDS500
    # photos Picasso takes (the château, the gulls, the bear in grass) and what it costs The
    # Scream: more content weight (on every level, or at the final level only), a stronger
    # outline term, the painting at each level's size or at another scale, less conv1_1 (colour),
    # conv3_2 as a second content layer.
    "ninth-alpha3": lambda size: _eighth(content_weight=3.0),
    "ninth-alpha10": lambda size: _eighth(content_weight=10.0),
    "ninth-lap0.1": lambda size: _eighth(laplacian_weight=0.1),
    "ninth-level": lambda size: _eighth(coarse_style="level"),
    "ninth-c1third": lambda size: _eighth(style_layer_weights=(1 / 3, 1.0, 1.0, 1.0, 1.0)),
    "ninth-c1tenth": lambda size: _eighth(style_layer_weights=(0.1, 1.0, 1.0, 1.0, 1.0)),
    "ninth-content-c32": lambda size: _eighth(content_layers=("conv3_2", "conv4_2")),
    # alpha 2 or 3 at the final level only: the coarsest level keeps 32x alpha 1.
    "ninth-final-alpha3": lambda size: _eighth(content_weight=3.0, coarse_content_boost=32.0 / 3),
    "ninth-final-alpha2": lambda size: _eighth(content_weight=2.0, coarse_content_boost=16.0),
    "ninth-ss0.7": lambda size: _eighth(style_scale=0.7),
    "ninth-ss0.5": lambda size: _eighth(style_scale=0.5),
    "ninth-ss2": lambda size: _eighth(style_scale=2.0),
    # Tenth session (docs/quality.md "Tenth session"): how much content weight the bear in grass
    # and the gulls need, the outline term at 0.3, conv5_1 left out, the Wasserstein-2 loss with
    # today's other settings.
    "tenth-alpha30": lambda size: _eighth(content_weight=30.0),
    "tenth-alpha100": lambda size: _eighth(content_weight=100.0),
    "tenth-lap0.3": lambda size: _eighth(laplacian_weight=0.3),
    "tenth-no-conv5_1": lambda size: _eighth(style_layer_weights=(1.0, 1.0, 1.0, 1.0, 0.0)),
    "tenth-w2": lambda size: _eighth(style_loss="wasserstein"),
    # Does a shallower content layer, or one scale, hold the gulls' heads at alpha 10?
    "tenth-alpha10-c32": lambda size: _eighth(content_weight=10.0, content_layers=("conv3_2", "conv4_2")),
    "tenth-alpha10-c22": lambda size: _eighth(content_weight=10.0, content_layers=("conv2_2", "conv4_2")),
    "tenth-alpha10-one-scale": lambda size: _eighth(content_weight=10.0, scales=1, iterations=200),
    # Eleventh session (docs/quality.md "The defaults chosen (eleventh session)"): the content loss
    # weighted by the photo's own salience (`subject_weight`) on the eighth session's defaults,
    # then with more of the Laplacian term and beta; today's defaults are the last but one.
    "eighth": lambda size: _eighth(),
    "eleventh-subject3": lambda size: _eighth(subject_weight=3.0),
    "eleventh-subject10": lambda size: _eighth(subject_weight=10.0),
    "eleventh-subject30": lambda size: _eighth(subject_weight=30.0),
    "eleventh-lap0.03": lambda size: _eighth(subject_weight=10.0, laplacian_weight=0.03),
    "eleventh-lap0.02-b6.5e4": lambda size: _eighth(subject_weight=10.0, laplacian_weight=0.02, style_weight=6.5e4),
    "eleventh-lap0.03-b7e4": lambda size: _eighth(subject_weight=10.0, laplacian_weight=0.03, style_weight=7e4),
    "eleventh-lap0.02-b7e4": lambda size: _eighth(subject_weight=10.0, laplacian_weight=0.02, style_weight=7e4),
    "eleventh-lap0.015-b6.5e4": lambda size: _eighth(subject_weight=10.0, laplacian_weight=0.015, style_weight=6.5e4),
}


def pairs(extra_photos: int) -> dict[str, tuple[Path, Path]]:
    """{"photo~painting": (photo, painting)} for the shared images, plus ``extra_photos`` BSDS500
    photos (the first ones by name, so the panel is the same on every run)."""
    photos = [IMAGES / name for name in CONTENTS]
    if extra_photos and PHOTOS.is_dir():
        photos += sorted(PHOTOS.glob("*.jpg"))[:extra_photos]
    return {f"{p.stem}~{s.split('.')[0]}": (p, IMAGES / s) for p in photos for s in PAINTINGS}


def selected(names: list[str], patterns: list[str] | None) -> list[str]:
    if not patterns:
        return names
    return [n for n in names if any(fnmatch.fnmatch(n, pattern) for pattern in patterns)]


class CommonObjective:
    """The paper's objective with nst's default settings at one size (bench/compare.py's scale),
    for pictures from configurations whose own objectives differ."""

    def __init__(self, size: int) -> None:
        self.config = scoring_config(size)
        self.extractor = nst.build_extractor(self.config)

    def __call__(self, picture: Image.Image, photo: Path, painting: Path) -> dict[str, float]:
        import torch

        from nst.optimise.objective import Objective

        size = max(picture.size)
        objective = Objective(
            self.extractor, self.config, nst.load_image(photo, size),
            [nst.load_image(painting, self.config.style_longest_side(size))],
        )  # fmt: skip
        with torch.no_grad():
            total, terms = objective(nst.load_image(picture))
        losses = objective.breakdown(total, terms)
        return {"content": losses.content, "style": losses.style, "tv": losses.tv, "total": losses.total}


def run_cell(
    config: nst.StyleConfig, photo: Path, painting: Path, out: Path, common: CommonObjective, extractors: dict
) -> dict:
    """Stylize one pair with one configuration, save the picture, measure it."""
    import torch

    key = config.extractor_key()
    if key not in extractors:
        extractors[key] = nst.build_extractor(config)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = nst.transfer_style(photo, painting, config, extractor=extractors[key])
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    nst.save_image(result.image, out.with_suffix(".png"))
    picture = result.image
    photo_image = Image.open(photo).convert("RGB")
    painting_image = Image.open(painting).convert("RGB")
    return {
        "settings": config.to_dict(),
        "seconds": seconds,
        # On a shared machine the wall time depends on the neighbours; CPU time (all threads)
        # is the work done, comparable between configurations run with the same thread count.
        "cpu_seconds": cpu_seconds,
        "threads": torch.get_num_threads(),
        "iterations": result.iterations,
        "stop_reason": result.stop_reason,
        "losses": result.losses.to_dict(),
        "common_objective": common(picture, photo, painting),
        **measure(picture, photo_image, painting_image, SUBJECT_BOXES.get(photo.stem)),
    }


def measure(picture: Image.Image, photo: Image.Image, painting: Image.Image, subject: Box | None = None) -> dict:
    """The picture measures of a cell (`run_cell`; `--remeasure` recomputes them from the PNG);
    "subject_structure" only for a photo with a ``subject`` box."""
    return {
        **({"subject_structure": structure(picture, photo, subject)} if subject else {}),
        "style_distance": style_distance(picture, painting),
        "style_distance_max": style_distance(picture, painting, "max"),
        "texture_distance": texture_distance(picture, painting),
        "structure": structure(picture, photo),
        "grid": grid_pattern(picture, photo),
        "flat_band": flat_band_energy(picture, photo),
        "dots": dot_density(picture, photo),
    }


def load_cells(root: Path) -> dict[tuple[str, str], dict]:
    cells = {}
    for path in root.glob("*/*.json"):
        cells[(path.parent.name, path.stem)] = json.loads(path.read_text())
    return cells


def _grid_max(cell: dict) -> float:
    return max(cell["grid"]["amplitude"].values())


def _mean(cells: dict[str, dict], key: str, digits: int = 3) -> str:
    """The mean of one measure over cells, blank when a cell predates it (see --remeasure)."""
    values = [_value(c, key) for c in cells.values()]
    return "" if None in values else f"{sum(values) / len(values):.{digits}f}"  # type: ignore[arg-type]


def _value(cell: dict, key: str) -> float | None:
    """A cell's measure; "style_both" is the mean of its style distance in the average- and the
    max-pooling network: a picture optimised through one network scores better in it than the eye
    sees (docs/quality.md, "The grid, fourth session"), so configurations whose pooling differs
    are compared on both."""
    if key == "style_both":
        return (cell["style_distance"] + cell["style_distance_max"]) / 2 if "style_distance_max" in cell else None
    return cell.get(key)


def summary(cells: dict[tuple[str, str], dict], configs: list[str], pair_names: list[str]) -> str:
    """Markdown: one row per configuration (means over the pairs it has), then structure and
    style distance per pair."""
    lines = [
        "| config | cells | seconds | CPU s | structure mean | structure min (pair) | subject structure | style dist "
        "| style (max net) | style (both) | texture dist | grid (1/255) | dots |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in configs:
        mine = {p: cells[(name, p)] for p in pair_names if (name, p) in cells}
        if not mine:
            continue
        n = len(mine)
        worst = min(mine, key=lambda p: mine[p]["structure"])
        lines.append(
            f"| {name} | {n} | {sum(c['seconds'] for c in mine.values()) / n:.1f} "
            f"| {sum(c.get('cpu_seconds', 0) for c in mine.values()) / n:.1f} "
            f"| {sum(c['structure'] for c in mine.values()) / n:.3f} "
            f"| {mine[worst]['structure']:.3f} ({worst}) | {_mean(mine, 'subject_structure')} "
            f"| {sum(c['style_distance'] for c in mine.values()) / n:.3f} "
            f"| {_mean(mine, 'style_distance_max')} | {_mean(mine, 'style_both')} "
            f"| {sum(c['texture_distance'] for c in mine.values()) / n:.3f} "
            f"| {sum(_grid_max(c) for c in mine.values()) / n:.2f} | {_mean(mine, 'dots', 2)} |"
        )
    shown = [c for c in configs if any((c, p) in cells for p in pair_names)]
    lines += ["", "structure (the subject's) / style distance (both networks where measured, else average pooling's) / dots / "
              "CPU seconds per pair:", "",
              "| pair | " + " | ".join(shown) + " |", "| --- |" + " ---: |" * len(shown)]  # fmt: skip
    for pair in pair_names:
        row = []
        for name in shown:
            c = cells.get((name, pair))
            if c is None:
                row.append("")
                continue
            both, dots = _value(c, "style_both"), c.get("dots")
            style = f"{both:.3f}" if both is not None else f"{c['style_distance']:.3f} (avg)"
            dots_text = f"{dots:.1f}" if dots is not None else "-"
            subject = c.get("subject_structure")
            subject_text = f" ({subject:.3f})" if subject is not None else ""
            row.append(f"{c['structure']:.3f}{subject_text} / {style} / {dots_text} / {c.get('cpu_seconds', 0):.0f}")
        if any(row):
            lines.append(f"| {pair} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def _thumb(path: Path, height: int) -> Image.Image:
    image = Image.open(path).convert("RGB")
    return image.resize(
        (max(1, round(image.width * height / image.height)), height), Image.Resampling.LANCZOS
    )


def sheet(
    rows: list[list[tuple[Path | None, str]]], height: int, header: list[str] | None = None
) -> Image.Image:
    """A grid of pictures (None: an empty cell) with a caption under each, and column headers."""
    width = round(height * 1.4)
    caption, top = 14, 14 if header else 0
    canvas = Image.new(
        "RGB", (width * max(len(r) for r in rows), top + (height + caption) * len(rows)), "white"
    )
    draw = ImageDraw.Draw(canvas)
    for col, text in enumerate(header or []):
        draw.text((col * width + 2, 1), text[:28], fill="black")
    for r, row in enumerate(rows):
        for col, (path, text) in enumerate(row):
            x, y = col * width, top + r * (height + caption)
            if path is not None and path.is_file():
                thumb = _thumb(path, height)
                thumb = thumb.crop((0, 0, min(thumb.width, width - 2), height))
                canvas.paste(thumb, (x, y))
            draw.text((x + 2, y + height + 1), text[:30], fill="black")
    return canvas


def draw_sheets(
    root: Path, cells: dict, configs: list[str], pair_names: list[str], compare_pairs: list[str],
    photos_by_pair: dict[str, Path],
) -> None:
    def label(name: str, pair: str) -> str:
        c = cells.get((name, pair))
        both = _value(c, "style_both") if c else None
        style = f"both {both:.2f}" if both is not None else f"sty {c['style_distance']:.2f}" if c else ""
        return f"str {c['structure']:.2f} {style}" if c else "(not run)"

    photos = list(dict.fromkeys(p.split("~")[0] for p in pair_names))
    paintings = list(dict.fromkeys(p.split("~")[1] for p in pair_names))
    for name in configs:
        if not any((name, p) in cells for p in pair_names):
            continue
        rows = [
            [(root / name / f"{photo}~{art}.png", f"{photo[:10]} " + label(name, f"{photo}~{art}"))
             for art in paintings] for photo in photos
        ]  # fmt: skip
        sheet(rows, 128, header=paintings).save(root / f"sheet-{name}.png")
    if compare_pairs:
        shown = [c for c in configs if any((c, p) in cells for p in compare_pairs)]
        rows = [
            [(photos_by_pair[pair], pair.split("~")[1][:20])]
            + [(root / name / f"{pair}.png", label(name, pair)) for name in shown]
            for pair in compare_pairs
        ]
        sheet(rows, 160, header=["photo", *shown]).save(root / "compare.png")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=256)
    # metavar: the ~100 names listed in every usage line made --help unreadable.
    parser.add_argument(
        "--configs", nargs="+", default=["default", "paper"], choices=list(CONFIGS), metavar="NAME",
        help="configurations to run (default: default paper; --list-configs names them all)",
    )
    parser.add_argument("--list-configs", action="store_true", help="print the configuration names and exit")
    parser.add_argument("--pairs", nargs="+", help="glob patterns on 'photo~painting' names")
    parser.add_argument("--extra-photos", type=int, default=0, help="add this many BSDS500 photos")
    parser.add_argument("--out", default="runs/quality")
    parser.add_argument("--report-only", action="store_true", help="no new runs: tables and sheets")
    parser.add_argument("--force", action="store_true", help="rerun cells that already have results")
    parser.add_argument("--remeasure", action="store_true", help="recompute the picture measures of the --configs' existing cells from their PNGs (no runs)")
    parser.add_argument("--threads", type=int, help="torch threads (1 is fastest on a busy machine)")
    parser.add_argument("--sheet-configs", nargs="+", choices=list(CONFIGS), metavar="NAME", help="configurations to draw (default: all)")
    args = parser.parse_args()
    if args.list_configs:
        print("\n".join(CONFIGS))
        return 0
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if not IMAGES.is_dir():
        print(f"skipped: {IMAGES} is absent")
        return 0
    panel = pairs(args.extra_photos)
    pair_names = selected(list(panel), args.pairs)
    root = Path(args.out) / str(args.size)
    if args.remeasure:
        for pair in pair_names:
            photo, painting = (Image.open(p).convert("RGB") for p in panel[pair])
            subject = SUBJECT_BOXES.get(panel[pair][0].stem)
            for path in [root / name / f"{pair}.json" for name in args.configs]:
                if not path.is_file():
                    continue
                cell = json.loads(path.read_text())
                cell.update(measure(Image.open(path.with_suffix(".png")).convert("RGB"), photo, painting, subject))
                path.write_text(json.dumps(cell, indent=1))
    elif not args.report_only:
        common = CommonObjective(args.size)
        extractors: dict = {}
        for pair in pair_names:  # pair-major: each pair's comparison is complete before the next
            for name in args.configs:
                out = root / name / f"{pair}.json"
                if out.is_file() and not args.force:
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                config = CONFIGS[name](args.size).with_changes(size=args.size)
                cell = run_cell(config, *panel[pair], out, common, extractors)
                out.write_text(json.dumps(cell, indent=1))
                print(f"{name:14s} {pair:34s} {cell['seconds']:6.1f} s ({cell['cpu_seconds']:.0f} CPU s)  structure {cell['structure']:.3f}  "
                      f"style {cell['style_distance']:.3f}  texture {cell['texture_distance']:.3f}  "
                      f"grid {_grid_max(cell):.2f}", flush=True)  # fmt: skip
    cells = load_cells(root)
    print(f"\n## {args.size} px\n")
    print(summary(cells, list(CONFIGS), pair_names))
    shown = args.sheet_configs or list(CONFIGS)
    photos_by_pair = {pair: panel[pair][0] for pair in pair_names}
    draw_sheets(root, cells, shown, pair_names, pair_names if len(pair_names) <= 12 else [], photos_by_pair)
    return 0


if __name__ == "__main__":
    sys.exit(main())
