"""Named sets of settings (`StyleConfig.preset`), from fastest to best-looking, and what each is for."""

from __future__ import annotations

from typing import Any

#: Named sets of settings, from fastest to best-looking. Chosen from measurements in
#: docs/performance.md and docs/gallery.md; each is documented in the README.
PRESETS: dict[str, dict[str, Any]] = {
    # Exactly the paper: white noise, one scale, up to 1000 L-BFGS iterations, no total variation,
    # unit layer weights, average pooling; every default that deviates from it is set back here.
    "paper": {
        "init": "noise", "scales": 1, "iterations": 1000, "tv_weight": 0.0, "laplacian_weight": 0.0, "content_weight": 1.0, "style_weight": 1e4,
        "style_layer_weights": None, "stroke_weight": 1.0, "final_only_style_layers": (), "pooling": "avg",
        "coarse_style": "level", "coarse_content_boost": 1.0, "salient_quantile": 1.0,
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
    "paper": "the paper's method: from white noise, one size, up to 1000 iterations",
    "draft": "a quick look: coarse to fine, at most 30 iterations at each size",
    "standard": "nst's defaults: coarse to fine from about 128 px, 100, 60, 60, then 40 iterations at each size",
    "high": "smoother large shapes: twice as many sizes, about twice the time",
}
