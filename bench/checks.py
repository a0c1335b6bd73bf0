"""Self-checks of the benchmarks' own measures (bench/grain.py, bench/measures.py) on made-up
pictures: bench is not the package, so tests/ does not test it; run this after changing a measure.

    python bench/checks.py          # prints each check; exit status 1 if one fails
"""

from __future__ import annotations

import math
import sys
import traceback
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))


def check_grid_measure_finds_a_pixel_locked_grid():
    from grain import grid_pattern

    gen = np.random.default_rng(0)
    flat = np.full((64, 96), 128.0) + gen.normal(0, 2, (64, 96))  # flat, with some texture
    grid = flat.copy()
    grid[::4, ::4] += 12  # a dot every 4 px, as pooling leaves it
    photo = Image.fromarray(np.full((64, 96, 3), 128, np.uint8))
    clean = grid_pattern(Image.fromarray(flat.astype(np.uint8)).convert("RGB"), photo)
    dotted = grid_pattern(Image.fromarray(grid.astype(np.uint8)).convert("RGB"), photo)
    assert dotted["amplitude"]["4"] > 5 * clean["amplitude"]["4"]
    assert dotted["ratio"]["4"] > 10 and clean["ratio"]["4"] < 3
    assert math.isfinite(dotted["amplitude"]["16"])


def check_structure_in_a_box_sees_a_lost_subject_the_whole_picture_hides():
    from measures import structure

    gen = np.random.default_rng(0)
    photo = np.full((128, 192, 3), 150.0) + gen.normal(0, 3, (128, 192, 3))
    photo[40:80, 120:170] = 40  # a dark subject on a light ground
    photo[55:60, 130:160] = 230  # with a detail in it
    painted = photo.copy()
    painted[40:80, 120:170] = 150  # the subject painted over; the ground kept
    as_image = [Image.fromarray(a.clip(0, 255).astype(np.uint8)) for a in (photo, painted)]
    box = (120 / 192, 40 / 128, 170 / 192, 80 / 128)
    whole, subject = structure(as_image[1], as_image[0]), structure(as_image[1], as_image[0], box)
    assert subject < whole - 0.3  # the ground keeps the whole picture's mean up
    assert math.isclose(structure(as_image[0], as_image[0], box), 1.0, abs_tol=1e-4)


def check_dot_density_counts_dots_but_not_strokes():
    from grain import dot_density

    gen = np.random.default_rng(0)
    flat = np.full((64, 96), 128.0) + gen.normal(0, 1, (64, 96))
    dotted, stroked = flat.copy(), flat.copy()
    for y in range(6, 60, 10):
        for x in range(6, 92, 10):
            y0, x0 = y + int(gen.integers(-2, 3)), x + int(gen.integers(-2, 3))  # a loose lattice
            dotted[y0 - 1 : y0 + 2, x0 - 1 : x0 + 2] += 25  # 3 px dots
    for y in range(6, 60, 9):
        stroked[y : y + 2, 4:92] += 25  # long strokes, 2 px wide: as strong, but not dots
    photo = Image.fromarray(np.full((64, 96, 3), 128, np.uint8))
    clean, dots, strokes = (
        dot_density(Image.fromarray(a.astype(np.uint8)).convert("RGB"), photo) for a in (flat, dotted, stroked)
    )
    assert clean == 0.0
    assert dots > 6.0  # 54 dots in 6144 flat pixels: 8.8 per 1000
    assert strokes < dots / 4


def check_flat_band_energy_sees_dots_off_the_pixel_grid():
    from grain import flat_band_energy

    gen = np.random.default_rng(0)
    flat = np.full((64, 96), 128.0) + gen.normal(0, 1, (64, 96))
    dotted = flat.copy()
    for y, x in zip(gen.integers(2, 62, 60), gen.integers(2, 94, 60), strict=True):
        dotted[y - 1 : y + 2, x - 1 : x + 2] += 25  # 3 px dots at no fixed period
    photo = Image.fromarray(np.full((64, 96, 3), 128, np.uint8))
    rgb = [Image.fromarray(a.clip(0, 255).astype(np.uint8)).convert("RGB") for a in (flat, dotted)]
    clean, dots = (flat_band_energy(picture, photo) for picture in rgb)
    assert dots > 4 * clean and clean < 1.0


CHECKS = [check_grid_measure_finds_a_pixel_locked_grid,
          check_structure_in_a_box_sees_a_lost_subject_the_whole_picture_hides,
          check_dot_density_counts_dots_but_not_strokes, check_flat_band_energy_sees_dots_off_the_pixel_grid]


def main() -> int:
    failed = 0
    for check in CHECKS:
        try:
            check()
        except Exception:
            failed += 1
            print(f"FAIL {check.__name__}")
            traceback.print_exc()
        else:
            print(f"ok   {check.__name__}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
