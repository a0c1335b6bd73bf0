"""The optimisation loop itself (`nst.optimise.loop`), on a toy objective: no network, milliseconds."""

import time

import pytest
import torch

import nst
from nst.optimise import loop as optimise


class PixelTarget:
    """Squared distance of the shown image to a fixed target: the loop's contract, nothing more."""

    def __init__(self, target: torch.Tensor) -> None:
        self.target = target

    def __call__(self, image):
        loss = (image - self.target).pow(2).mean()
        return loss, {"content:pixels": loss}

    def breakdown(self, total, terms):
        value = float(total)
        return nst.LossBreakdown(value, 0.0, 0.0, value, {"pixels": value}, {})


def _run(start: torch.Tensor, target: torch.Tensor, optimizer: str, iterations: int = 200):
    run = optimise.RunState(lr=optimise.initial_lr(nst.StyleConfig(optimizer=optimizer)))
    run.begin_scale(1, start, run.lr)
    config = nst.StyleConfig(optimizer=optimizer, lr=0.05, tolerance=0)
    return optimise.optimise(
        PixelTarget(target), config, iterations, None, time.perf_counter(), run, None,
        scales=1, total_iterations=iterations,
    )  # fmt: skip


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_pixels_pushed_out_of_range_come_back(optimizer):
    # Pixels that start beyond [0, 1] get no gradient through the clamp; without the range
    # penalty they would stay saturated at 1 or 0 however far the target is.
    target = torch.full((1, 3, 8, 8), 0.3)
    start = torch.full((1, 3, 8, 8), 0.5)
    start[..., :4, :] = 1.6
    start[..., 4:, :4] = -0.7
    # Adam returns more slowly: the penalty's large gradients linger in its second moment.
    outcome = _run(start, target, optimizer, iterations=200 if optimizer == "lbfgs" else 600)
    assert outcome.image.min() >= 0 and outcome.image.max() <= 1
    assert torch.allclose(outcome.image, target, atol=0.05)


def test_without_the_penalty_they_would_stay(monkeypatch):
    # The reason the penalty exists: this is the same run with it switched off.
    monkeypatch.setattr(optimise, "RANGE_PENALTY", 0.0)
    start = torch.full((1, 3, 8, 8), 0.5)
    start[..., :4, :] = 1.6
    outcome = _run(start, torch.full((1, 3, 8, 8), 0.3), "lbfgs")
    assert torch.equal(outcome.image[..., :4, :], torch.ones(1, 3, 4, 8))
    assert torch.allclose(outcome.image[..., 4:, :], torch.full((1, 3, 4, 8), 0.3), atol=0.01)
