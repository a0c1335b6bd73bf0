"""Memory: the estimate, the largest size that fits, and running out of memory during a run."""

from __future__ import annotations

import pytest
import torch

import nst
from nst.errors import ResourceError
from nst.optimise import memory
from nst.optimise.objective import Objective


def _config(**changes):
    return nst.StyleConfig(**{"size": 40, "iterations": 10, "tolerance": 0, **changes})


def test_memory_estimate_grows_with_size_history_and_layers(monkeypatch):
    config = nst.StyleConfig(size=512)
    base = nst.estimate_memory(config, (512, 384), "cpu")

    def per_run(size):  # what grows with the image: no weights, no runtime allowance
        need = nst.estimate_memory(config.with_changes(size=size), (512, 384), "cpu", include_weights=False)
        return need - memory.RUNTIME_BYTES["cpu"]

    assert 3.9 < per_run(1024) / per_run(512) < 4.1  # twice the side, four times the pixels
    assert nst.estimate_memory(config.with_changes(optimizer="adam"), (512, 384), "cpu") < base
    shallow = config.with_changes(style_layers=("conv1_1",), content_layers=("conv2_2",))
    assert nst.estimate_memory(shallow, (512, 384), "cpu") < base
    # Measured peaks (docs/robustness.md): 882 MiB for 512x384 with a full 10-pair L-BFGS memory,
    # 519 MiB for 256x256 with a full 50-pair one. The estimate must cover them, but not by 2x.
    with monkeypatch.context() as patch:
        patch.setattr(memory, "LBFGS_HISTORY", 10)
        est = nst.estimate_memory(config, (512, 384), "cpu") / 2**20
    assert 882 <= est <= 1.6 * 882
    est = nst.estimate_memory(nst.StyleConfig(size=256), (256, 256), "cpu") / 2**20
    assert 519 <= est <= 1.6 * 519


def test_largest_size_that_fits_is_the_boundary():
    config = nst.StyleConfig()
    budget = 2 * 2**30
    largest = memory.largest_size_that_fits(config, budget, image_size=(4, 3))
    assert 256 < largest < 4096
    assert nst.estimate_memory(config.with_changes(size=largest), (4, 3)) <= budget
    assert nst.estimate_memory(config.with_changes(size=largest + 1), (4, 3)) > budget
    assert memory.largest_size_that_fits(config, 1000) is None


def test_check_fits_names_the_largest_size():
    config = nst.StyleConfig(size=4096)
    with pytest.raises(
        ResourceError, match=r"4096 px run needs about .* the largest size that fits is \d+ px"
    ):
        memory.check_fits(config, (4, 3), "cpu", available_bytes=2**30)
    assert memory.check_fits(config.with_changes(size=64), (4, 3), "cpu", available_bytes=2**30) > 0


def test_available_memory_is_read():
    available = memory.available_memory("cpu")
    assert available is None or available > 16 * 2**20


def test_out_of_memory_during_the_run_is_reported_as_such(extractor, images, monkeypatch):
    content, style = images
    original = Objective.__call__
    count = {"n": 0}

    def exhausted(self, image):
        count["n"] += 1
        if count["n"] == 3:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(self, image)

    monkeypatch.setattr(Objective, "__call__", exhausted)
    with pytest.raises(ResourceError, match=r"ran out of memory on cpu \(40x32 px\)"):
        nst.transfer_style(content, style, _config(), extractor=extractor)
