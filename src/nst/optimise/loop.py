"""The optimisation loop of one pyramid level: L-BFGS or Adam, progress, stopping, recovery.

`optimise` runs a level seen whole; `optimise_tiled` a level too large for that, tile by tile.
Both keep a `RunState` current after every iteration, so that an interrupt can report the best
image so far and a `Checkpointer` can save a state the loop can continue from. Every iteration
is reported to the caller's callback as a frozen `Progress`; a callback that returns True stops
the loop. A NaN or infinite loss rolls back to the best image and restarts the optimiser with a
smaller step.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from nst.errors import InputError
from nst.image import scaled_size
from nst.optimise import masks, tiling
from nst.optimise.config import StyleConfig
from nst.optimise.fixed import LBFGS_HISTORY, PATIENCE
from nst.optimise.objective import LossBreakdown, Objective, compute_style_grams
from nst.optimise.run_state import Callback, Checkpointer, Outcome, Progress, RunState, initial_lr
from nst.vgg.features import VGG19Features

MAX_RETRIES = 3
#: Weight of the squared distance of the optimised pixels outside [0, 1], against a loss that
#: starts at 1 (see ``loss_scale``). At 100 it took the pixels with a saturated channel from 11% to
#: 8% and the fine-texture energy from 1.24 to 0.94 of the painting's (brad_pitt x the_scream,
#: 256 px) at the same objective; 1 made no difference.
RANGE_PENALTY = 100.0
#: An iteration whose loss exceeds the best so far by this factor has diverged: it is rolled back
#: like a numerical fault.
DIVERGENCE = 10.0


def make_optimizer(config: StyleConfig, image: torch.Tensor, lr: float) -> torch.optim.Optimizer:
    if config.optimizer == "lbfgs":
        # One iteration per step() call, so progress and stopping are per iteration; torch keeps
        # the curvature history across calls. Tolerances are ours (see `converged`), not torch's.
        return torch.optim.LBFGS(
            [image], lr=lr, max_iter=1, history_size=LBFGS_HISTORY,
            tolerance_grad=0.0, tolerance_change=0.0,
        )  # fmt: skip
    return torch.optim.Adam([image], lr=lr)


def optimise(
    objective: Objective,
    config: StyleConfig,
    iterations: int,
    callback: Callback | None,
    started: float,
    run: RunState,
    saver: Checkpointer | None,
    *,
    scales: int,
    total_iterations: int,
) -> Outcome:
    """Minimise ``objective`` from ``run.image`` (this scale's start, or where a checkpoint left
    off); return the best image seen and why it stopped. ``run`` is kept current throughout."""
    assert run.image is not None and run.best_image is not None
    image = run.image.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
    run.image = image
    optimizer = make_optimizer(config, image, run.lr)
    if run.optimizer_state is not None:
        optimizer.load_state_dict(run.optimizer_state)
        run.optimizer_state = None
    run.optimizer = optimizer

    if run.loss_scale is None:
        # L-BFGS's first step and Adam's steps depend on the loss's magnitude, which depends on the
        # weights and images; dividing by the starting loss makes every run start near 1.
        with torch.no_grad():
            initial_total = float(objective(image.clamp(0, 1))[0])
        if not math.isfinite(initial_total):
            raise InputError(
                f"the loss of the starting image is {initial_total} (content_weight {config.content_weight:g}, "
                f"style_weight {config.style_weight:g}, tv_weight {config.tv_weight:g}): a weight is too large"
            )
        run.loss_scale = 1.0 / initial_total if initial_total > 0 else 1.0
    loss_scale = run.loss_scale
    evaluated: dict[str, Any] = {}

    # The loss is taken on the image clamped to [0, 1], the image that will be saved: an optimum
    # with pixels outside the range loses up to 30% of its quality when clamped afterwards.
    def closure() -> torch.Tensor:
        assert run.optimizer is not None
        run.optimizer.zero_grad(set_to_none=True)
        shown = image.clamp(0, 1)
        total, terms = objective(shown)
        # A channel pushed past 0 or 1 gets no gradient through the clamp and would stay there,
        # a saturated speck; this penalty (zero inside the range) pulls it back where the loss
        # can move it again.
        optimised = total * loss_scale + RANGE_PENALTY * (image - shown).pow(2).mean()
        optimised.backward()
        evaluated["total"], evaluated["terms"] = total.detach(), {k: v.detach() for k, v in terms.items()}
        evaluated["image"] = image.detach().clamp(0, 1)
        # The optimiser now updates its memory and the image: until the iteration is booked, the
        # run is not in a state a checkpoint could continue from.
        run.consistent = False
        return optimised.detach()

    stop_reason, stopped_by_request, failed = "", False, False
    size = (image.shape[-1], image.shape[-2])
    while True:
        if run.iteration >= iterations:
            stop_reason = f"reached {iterations} iterations"
            break
        if converged(run.history[run.offset :], config):
            stop_reason = (
                f"converged at iteration {run.iteration}: loss fell less than "
                f"{config.tolerance:g} in {PATIENCE} iterations"
            )
            break
        run.optimizer.step(closure)
        current = objective.breakdown(evaluated["total"], evaluated["terms"])
        finite_image = bool(torch.isfinite(evaluated["image"]).all())
        finite = math.isfinite(current.total) and finite_image
        # L-BFGS takes its steps without a line search; a step from a poor curvature estimate
        # (seen at a level whose objective differs from the last: conv5_1 coming back) can throw
        # the loss up a hundredfold, and the loop would then wander and stop far from the best.
        diverged = finite and current.total > DIVERGENCE * run.best_total
        if not finite or diverged:
            run.faults += 1
            if diverged:
                what = f"loss {current.total:.3g}, {current.total / run.best_total:.0f}x the best"
            else:
                what = f"loss {current.total}" if finite_image else "NaN or infinite pixels"
            where = f"iteration {run.offset + run.iteration + 1}"
            with torch.no_grad():
                image.copy_(run.best_image)
            if run.faults > MAX_RETRIES:
                # A loss that keeps jumping up leaves a good image behind (the best); only
                # numbers that are not numbers make the run a failure.
                kind = "jumps of the loss" if diverged else "numerical faults"
                stop_reason = f"gave up after {run.faults} {kind} ({what} at {where})"
                failed = not diverged
                run.consistent = True
                break
            # A fresh optimiser forgets the curvature (or moments) that led here; half the step
            # keeps it from walking straight back.
            run.lr /= 2
            run.optimizer = make_optimizer(config, image, run.lr)
            run.events.append(
                f"{'diverged' if diverged else 'numerical fault'} at {where} ({what}): rolled back to the best image and "
                f"restarted {config.optimizer} with step {run.lr:g}"
            )
            run.consistent = True
            continue
        run.history.append(current)
        run.iteration += 1
        if current.total < run.best_total:
            run.best_total, run.best_losses, run.best_image = current.total, current, evaluated["image"]
        run.consistent = True
        if callback is not None:
            progress = Progress(
                iteration=run.offset + run.iteration,
                max_iterations=total_iterations,
                scale=run.scale,
                scales=scales,
                size=size,
                losses=current,
                elapsed=run.elapsed(started),
                image=evaluated["image"],
            )
            if callback(progress):
                stop_reason = f"stopped by request at iteration {run.offset + run.iteration}"
                stopped_by_request = True
                if saver is not None:  # the caller may want to go on later (a server shutting down)
                    saver.save(run, run.elapsed(started))
                break
        if saver is not None:
            saver.save_if_due(run, run.elapsed(started))

    # The optimiser's last step moved the image after its last evaluation; score that move too.
    with torch.no_grad():
        moved = image.detach().clamp(0, 1)
        total, terms = objective(moved)
    final = objective.breakdown(total, terms)
    if math.isfinite(final.total) and final.total < run.best_total and bool(torch.isfinite(moved).all()):
        run.best_image, run.best_total, run.best_losses = moved, final.total, final
    if run.best_total == math.inf or run.best_losses is None:
        # No finite evaluation at this scale (every step faulted): describe the start it kept.
        with torch.no_grad():
            run.best_losses = objective.breakdown(*objective(run.best_image))
    return Outcome(run.best_image, run.best_losses, run.iteration, stop_reason, stopped_by_request, failed)


def optimise_tiled(
    extractor: VGG19Features,
    config: StyleConfig,
    content: torch.Tensor,
    styles: list[torch.Tensor],
    blend: list[float],
    regions: torch.Tensor | None,
    tile: int,
    iterations: int,
    callback: Callback | None,
    started: float,
    run: RunState,
    saver: Checkpointer | None,
    *,
    scales: int,
    total_iterations: int,
) -> Outcome:
    """One level too large to see whole: optimise it tile by tile (see `nst.optimise.tiling`).

    Each tile starts from the picture as its neighbours left it and matches the whole level's
    style statistics; it is pasted back feathered across the overlap. Between tiles the level is
    one resumable state (the picture so far and the next tile), which ``saver`` checkpoints when
    due and an interrupt can save; inside a tile it is not, and an interrupt there keeps the state
    after the tile before. A run resumed mid-level (``run.tiles_done``) skips the finished tiles.
    """
    assert run.image is not None
    canvas = run.image.detach().clone()
    grams = compute_style_grams(extractor, config, styles, tile)
    h, w = canvas.shape[-2:]
    level_regions = masks.resize_regions(regions.to(canvas.device), h, w) if regions is not None else None
    overlap = tiling.overlap_for(tile)
    boxes = tiling.tile_boxes(h, w, tile, overlap)
    before_level = run.offset
    outcome: Outcome | None = None
    for index, (top, left, bottom, right) in enumerate(boxes):
        if index < run.tiles_done:
            continue  # finished before the checkpoint this run resumed from
        run.consistent = False  # the tile's state lives in `part` until it is pasted
        window = (..., slice(top, bottom), slice(left, right))
        part = RunState(lr=initial_lr(config), history=list(run.history))
        part.begin_scale(run.scale, canvas[window], initial_lr(config))
        objective = Objective(
            extractor, config, content[window], [], blend,
            level_regions[window] if level_regions is not None else None, style_grams=grams,
            picture_size=max(content.shape[-2:]),
        )  # fmt: skip
        outcome = optimise(
            objective, config, iterations, callback, started, part, None,
            scales=scales, total_iterations=total_iterations,
        )  # fmt: skip
        if outcome.stopped_by_request:
            # The tile is unfinished: the level stays as the last finished tile left it, which is
            # what a checkpoint saved now continues from.
            run.consistent = True
            if saver is not None:
                saver.save(run, run.elapsed(started))
            return Outcome(canvas, outcome.losses, run.iteration, outcome.stop_reason, True, False)
        tiling.paste(canvas, outcome.image, (top, left, bottom, right), overlap)
        run.history[:] = part.history
        run.iteration = len(run.history) - before_level
        run.image = run.best_image = canvas
        run.best_losses = outcome.losses
        run.optimizer, run.optimizer_state, run.loss_scale = None, None, None  # each tile starts afresh
        run.tiles_done = index + 1
        if outcome.failed:
            break
        run.consistent = True
        if saver is not None and run.tiles_done < len(boxes):
            saver.save_if_due(run, run.elapsed(started))
    if outcome is None:  # resumed after its last tile: the level is already done
        assert run.best_losses is not None
        return Outcome(
            canvas, run.best_losses, run.iteration, f"reached {iterations} iterations", False, False
        )
    return Outcome(canvas, outcome.losses, outcome.iterations, outcome.stop_reason,
                   outcome.stopped_by_request, outcome.failed)  # fmt: skip


def tile_count(config: StyleConfig, size: int, dimensions: tuple[int, int]) -> int:
    """How many tiles a level of this longest side is optimised in (1: whole)."""
    tile = config.tile_for(size)
    if tile is None:
        return 1
    width, height = scaled_size(*dimensions, size)
    return len(tiling.tile_boxes(height, width, tile, tiling.overlap_for(tile)))


def converged(history: list[LossBreakdown], config: StyleConfig) -> bool:
    """True when the total loss fell by less than ``tolerance`` (relative) over `PATIENCE` iterations."""
    if config.tolerance <= 0 or len(history) <= PATIENCE:
        return False
    before, now = history[-1 - PATIENCE].total, history[-1].total
    return before > 0 and (before - now) / before < config.tolerance
