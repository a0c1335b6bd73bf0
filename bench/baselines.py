"""Fixed settings the benchmarks compare against, independent of today's `StyleConfig` defaults.

* `scoring_config`: the objective every picture is scored by (bench/compare.py, bench/quality.py):
  the paper's (alpha 1, beta 1e4, unit layer weights, average pooling) with nst's total variation
  0.01, as bench/compare.py has scored since its first run, so figures from before and after a
  change of defaults stay comparable.
* `previous_defaults`: nst 0.1.0's defaults (pyramid from about 90 px, 150/80/40
  iterations, unit layer weights, the painting shrunk with each level, average pooling), the
  "default" column of the quality panel and `nst:previous` in bench/compare.py.
"""

from __future__ import annotations

import math

import nst

PREVIOUS_COARSEST = 90
PREVIOUS_ITERATIONS = (150, 80, 40)


def scoring_config(size: int) -> nst.StyleConfig:
    return nst.StyleConfig.preset("paper").with_changes(size=size, tv_weight=0.01)


def previous_defaults(size: int, coarsest: int = PREVIOUS_COARSEST) -> nst.StyleConfig:
    """The previous defaults at ``size``; ``coarsest`` moves where their pyramid starts."""
    ratio = 2**0.5
    levels = 1 + max(0, math.floor(math.log(size / coarsest) / math.log(ratio) + 1e-9))
    iterations = (PREVIOUS_ITERATIONS + (PREVIOUS_ITERATIONS[-1],) * levels)[:levels]
    return nst.StyleConfig.preset("paper").with_changes(
        size=size, tv_weight=0.01, scales=levels, scale_ratio=ratio, scale_iterations=iterations
    )
