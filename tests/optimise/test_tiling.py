import pytest
import torch

import nst
import nst.optimise.objective
from nst.optimise import tiling
from tests.optimise.helpers import SHALLOW


def test_tiles_cover_everything_with_overlap():
    boxes = tiling.tile_boxes(100, 250, tile=64, overlap=16)
    covered = torch.zeros(100, 250)
    for top, left, bottom, right in boxes:
        assert bottom - top <= 64 and right - left <= 64
        covered[top:bottom, left:right] += 1
    assert covered.min() >= 1
    starts = tiling.tile_starts(250, 64, 16)
    assert all(b - a <= 64 - 16 for a, b in zip(starts, starts[1:], strict=False))
    assert tiling.tile_boxes(50, 60, tile=64, overlap=16) == [(0, 0, 50, 60)]


def test_feather_is_one_at_the_border_and_ramps_inside():
    weights = tiling.feather((0, 0, 64, 64), 100, 200, overlap=16)[0, 0]
    assert weights[0, 0] == 1 and weights[:48, :48].min() == 1  # picture border: full weight
    assert 0 < weights[-1, -1] < weights[-16, -16] <= 1  # shared edges ramp down


def test_pasting_a_constant_tile_blends_smoothly():
    canvas = torch.zeros(1, 3, 40, 80)
    tiling.paste(canvas, torch.ones(1, 3, 40, 48), (0, 32, 40, 80), overlap=16)
    row = canvas[0, 0, 20]
    assert row[:32].max() == 0 and row[48:].min() == 1
    assert (row[32:48].diff() >= 0).all()  # a ramp, no step


def test_tiled_level_runs_and_matches_untiled_size(shallow_extractor, images):
    content, style = images
    content = torch.nn.functional.interpolate(content, size=(64, 96), mode="bilinear")
    config = nst.StyleConfig(size=96, iterations=4, tolerance=0, scales=1, tile_size=64, **SHALLOW)
    assert config.tile_for(96) == 64 and config.tile_for(64) is None
    seen = []
    result = nst.transfer_style(content, style, config, callback=seen.append, extractor=shallow_extractor)
    assert result.image.size == (96, 64)
    # Two tiles of 4 iterations, numbered on from one another.
    assert [p.iteration for p in seen] == list(range(1, 9))
    assert seen[-1].max_iterations == 8
    assert torch.isfinite(result.tensor).all()
    assert (result.tensor - content).abs().mean() > 0.01  # it was painted


@pytest.mark.slow
def test_tiled_style_grams_match_whole_image_grams(extractor):
    style = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(3))
    config = nst.StyleConfig()
    whole = nst.optimise.objective.compute_style_grams(extractor, config, [style])
    tiled = nst.optimise.objective.compute_style_grams(extractor, config, [style], tile=128)
    for layer in config.style_layers:
        a, b = whole[layer][0], tiled[layer][0]
        assert (a - b).norm() / a.norm() < 0.01, layer
