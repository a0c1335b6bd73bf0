"""The automatic schedule of a run: the output size when none is given, the pyramid's levels and
iterations, and when a level is optimised in tiles. `StyleConfig.scale_plan` and
`StyleConfig.tile_for` apply it; settings given explicitly override it."""

from __future__ import annotations

import math

#: Longest side when the caller gives no size: 512 px with a GPU (the paper's). On a CPU, the
#: largest size whose picture takes about a minute: 256 px with the pyramid (45 s on 2 cores), the
#: paper's 128 px with one scale (1000 L-BFGS iterations at 256 px take 6 minutes there).
DEFAULT_SIZE_GPU = 512
DEFAULT_SIZE_CPU = 256
ONE_SCALE_SIZE_CPU = 128
#: How --help states the default size.
DEFAULT_SIZE_TEXT = (
    f"{DEFAULT_SIZE_CPU} on a CPU ({ONE_SCALE_SIZE_CPU} with --scales 1), {DEFAULT_SIZE_GPU} on a GPU"
)

#: The automatic pyramid starts near this size: big enough for the photo's layout to hold (from
#: about 90 px a town or a face could be repainted as the painting's objects). Outputs up to
#: `AUTO_SMALLEST_SIZE` are one level; larger ones have at least two.
AUTO_COARSEST_SIZE = 128
AUTO_SMALLEST_SIZE = 90
#: Automatic iterations per level, coarsest first; later levels get AUTO_LATER_ITERATIONS. Coarse
#: levels are cheap (a level at half the size costs a quarter) and settle the composition; the
#: finer ones refine it. From 128 px, 60 at the third level (the final one at 256 px) kept more of
#: the photo than 40 after 150 and 80 in about the same time.
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
