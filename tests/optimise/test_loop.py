"""The optimisation loop itself (`nst.optimise.loop`): on a toy objective (no network, milliseconds),
and its numerical faults (NaN, jumps of the loss) injected into real runs on tiny images."""

import math
import time

import pytest
import torch

import nst
from nst.errors import InputError
from nst.optimise import loop as optimise
from nst.optimise.objective import Objective
from nst.optimise.run_state import RunState, initial_lr


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
    run = RunState(lr=initial_lr(nst.StyleConfig(optimizer=optimizer)))
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


def _nan_on(calls):
    """Objective.__call__ that returns a NaN loss on the given call numbers (1 = the loss scale)."""
    original = Objective.__call__
    count = {"n": 0}

    def call(self, image):
        count["n"] += 1
        total, terms = original(self, image)
        return (total * math.nan, terms) if count["n"] in calls else (total, terms)

    return call


def _config(**changes):
    return nst.StyleConfig(**{"size": 40, "iterations": 10, "tolerance": 0, **changes})


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_one_nan_rolls_back_and_the_run_finishes(extractor, images, monkeypatch, optimizer):
    content, style = images
    monkeypatch.setattr(Objective, "__call__", _nan_on({4}))
    result = nst.transfer_style(
        content, style, _config(optimizer=optimizer, iterations=8), extractor=extractor
    )
    assert not result.failed and result.iterations == 8
    assert len(result.events) == 1 and "numerical fault at iteration 3 (loss nan)" in result.events[0]
    assert "step 0.5" in result.events[0] if optimizer == "lbfgs" else "step 0.01" in result.events[0]
    assert all(math.isfinite(h.total) for h in result.history)
    assert torch.isfinite(result.tensor).all()
    assert result.history[-1].total < result.history[0].total  # it kept optimising after the fault
    assert result.to_report()["events"] == result.events


def test_persistent_nan_gives_up_with_the_last_good_image(extractor, images, monkeypatch):
    content, style = images
    monkeypatch.setattr(Objective, "__call__", _nan_on(set(range(4, 10_000))))
    result = nst.transfer_style(content, style, _config(iterations=8), extractor=extractor)
    assert result.failed and result.stop_reason.startswith("gave up after 4 numerical faults")
    assert result.iterations == 2 and len(result.events) == 3
    assert torch.isfinite(result.tensor).all()
    assert result.tensor.amax() > 0.1  # not a black picture: the best image of iteration 2
    assert math.isfinite(result.losses.total)


def _jump_on(calls, factor=1000.0):
    """Objective.__call__ whose loss is ``factor`` times too large on the given call numbers."""
    original = Objective.__call__
    count = {"n": 0}

    def call(self, image):
        count["n"] += 1
        total, terms = original(self, image)
        return (total * factor, terms) if count["n"] in calls else (total, terms)

    return call


def test_a_loss_that_jumps_up_is_rolled_back_like_a_fault(extractor, images, monkeypatch):
    # L-BFGS without a line search can throw the loss up a hundredfold (seen at a pyramid level
    # whose style layer weights changed); the loop must not wander on from there.
    content, style = images
    monkeypatch.setattr(Objective, "__call__", _jump_on({4}))
    result = nst.transfer_style(content, style, _config(iterations=8), extractor=extractor)
    assert not result.failed and result.iterations == 8
    assert len(result.events) == 1 and result.events[0].startswith("diverged at iteration 3 (loss ")
    assert max(h.total for h in result.history) <= 10 * result.history[0].total
    assert result.history[-1].total < result.history[0].total


def test_a_loss_that_keeps_jumping_stops_with_the_best_image_not_a_failure(extractor, images, monkeypatch):
    content, style = images
    monkeypatch.setattr(Objective, "__call__", _jump_on(set(range(4, 10_000))))
    result = nst.transfer_style(content, style, _config(iterations=8), extractor=extractor)
    assert not result.failed and result.stop_reason.startswith("gave up after 4 jumps of the loss")
    assert result.iterations == 2 and result.losses.total == min(h.total for h in result.history)


def test_a_nan_pixel_from_the_optimiser_is_rolled_back(extractor, images, monkeypatch):
    content, style = images
    real_step = torch.optim.LBFGS.step
    steps = {"n": 0}

    def step_then_poison(self, closure):
        loss = real_step(self, closure)
        steps["n"] += 1
        if steps["n"] == 2:  # the optimiser's move leaves a NaN pixel behind
            with torch.no_grad():
                self.param_groups[0]["params"][0][..., 3, 5] = math.nan
        return loss

    monkeypatch.setattr(torch.optim.LBFGS, "step", step_then_poison)
    result = nst.transfer_style(content, style, _config(iterations=5), extractor=extractor)
    assert len(result.events) == 1 and "numerical fault at iteration 3" in result.events[0]
    assert torch.isfinite(result.tensor).all() and result.iterations == 5 and not result.failed


def test_a_loss_too_large_for_float32_is_refused_up_front(extractor, images):
    content, style = images
    with pytest.raises(InputError, match="a weight is too large"):
        nst.transfer_style(content, style, _config(style_weight=1e300), extractor=extractor)
