"""Inputs the network cannot see are refused before any work, with the smallest side each layer needs."""

from __future__ import annotations

import time

import pytest
import torch

import nst
from nst.errors import InputError
from nst.optimise import memory


@pytest.mark.parametrize(
    "content_shape, style_shape, changes, message",
    [
        ((1, 3, 10, 400), (1, 3, 36, 36), {}, "aspect ratio of 40:1"),
        ((1, 3, 32, 40), (1, 3, 900, 30), {}, "style image is 30x900 px"),
        ((1, 3, 40, 200), (1, 3, 36, 36), {"size": 48}, r"content image would be 48x10 px .* conv5_1"),
        ((1, 3, 32, 40), (1, 3, 20, 60), {"style_size": 30}, "style image would be 30x10"),
        ((1, 3, 30, 40), (1, 3, 36, 36), {"size": 64, "scales": 3}, "fewer scales"),
        ((1, 3, 40, 40), (1, 3, 36, 36), {"size": 40, "init": "noise", "seed": 2**70}, "seed"),
    ],
    ids=["aspect", "style-aspect", "too-small", "style-too-small", "pyramid-too-small", "huge-seed"],
)
def test_images_the_network_cannot_see_are_refused_before_any_work(
    content_shape, style_shape, changes, message
):
    config = nst.StyleConfig(**{"iterations": 1, **changes})
    if changes.get("scales"):
        config = config.with_changes(style_layers=("pool5",))  # pool5 needs 32 px: the 3rd scale is 32x24
    started = time.perf_counter()
    with pytest.raises(InputError, match=message):
        nst.transfer_style(torch.rand(*content_shape), torch.rand(*style_shape), config)
    assert time.perf_counter() - started < 1.0  # refused before VGG is even loaded


def test_the_smallest_side_follows_the_deepest_layer():
    assert memory.min_side(nst.StyleConfig()) == 16  # conv5_1: after four poolings
    shallow = nst.StyleConfig(style_layers=("conv1_1",), content_layers=("conv2_2",), subject_weight=1.0)
    assert memory.min_side(shallow) == 2
    # The photo's salience is read at the subject layer, so it counts when the subject weight is on.
    assert memory.min_side(shallow.with_changes(subject_weight=10.0)) == 16
    assert memory.min_side(nst.StyleConfig(style_layers=("pool5",))) == 32
