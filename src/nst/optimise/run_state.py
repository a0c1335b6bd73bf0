"""Where a run is: the state the loop keeps current after every iteration (`RunState`), what it
reports to the caller (`Progress`) and returns (`Outcome`), and its periodic saving
(`Checkpointer`), and the state a resume starts from (`resumed_state`)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from nst.errors import InputError
from nst.optimise.checkpoint import Checkpoint, describe_mismatch, load_checkpoint
from nst.optimise.config import StyleConfig
from nst.optimise.objective import LossBreakdown


@dataclass(frozen=True)
class Progress:
    """What the loop reports after each iteration.

    ``losses`` are those of ``image`` (the image the optimiser just evaluated); ``content`` and
    ``style`` there are already weighted (alpha * L_content, beta * L_style).
    """

    iteration: int
    max_iterations: int
    scale: int
    scales: int
    size: tuple[int, int]
    losses: LossBreakdown
    elapsed: float
    image: torch.Tensor


Callback = Callable[[Progress], bool | None]


def initial_lr(config: StyleConfig) -> float:
    # L-BFGS's step is scaled by its own line model; 1 is torch's and the literature's setting.
    return 1.0 if config.optimizer == "lbfgs" else config.lr


@dataclass
class Outcome:
    image: torch.Tensor
    losses: LossBreakdown
    iterations: int
    stop_reason: str
    stopped_by_request: bool = False
    failed: bool = False


@dataclass
class RunState:
    """Where a run is, kept current by the loop so that an interrupt can report or checkpoint it.

    ``consistent`` is True only while the fields describe one state the loop can continue from:
    between iterations, and while the objective is being evaluated (an optimiser changes nothing
    before its closure returns). ``history`` holds every finished iteration of every scale; the
    last ``iteration`` of them are this scale's. At a tiled scale, ``tiles_done`` tiles are
    finished and pasted into ``image``.
    """

    lr: float
    scale: int = 0
    iteration: int = 0
    image: torch.Tensor | None = None
    best_image: torch.Tensor | None = None
    best_total: float = math.inf
    best_losses: LossBreakdown | None = None
    history: list[LossBreakdown] = field(default_factory=list)
    optimizer: torch.optim.Optimizer | None = None
    optimizer_state: dict[str, Any] | None = None
    loss_scale: float | None = None
    faults: int = 0
    events: list[str] = field(default_factory=list)
    elapsed_before: float = 0.0
    consistent: bool = False
    tiles_done: int = 0

    def elapsed(self, started: float) -> float:
        """Seconds of work on this run: earlier sittings' and this one's since ``started``."""
        return self.elapsed_before + time.perf_counter() - started

    @property
    def offset(self) -> int:
        """Iterations finished at earlier scales."""
        return len(self.history) - self.iteration

    def begin_scale(self, scale: int, start: torch.Tensor, lr: float) -> None:
        self.consistent = False
        self.scale, self.iteration, self.lr, self.tiles_done = scale, 0, lr, 0
        self.image = start.detach().clone()
        self.best_image, self.best_total = self.image, math.inf
        self.optimizer, self.optimizer_state, self.loss_scale = None, None, None
        self.consistent = True


class Checkpointer:
    """Writes the run's state to ``path`` when due; knows the run's identity for a resume."""

    def __init__(self, path: Path, identity: dict[str, Any], every: int | None, seconds: float | None):
        self.path = path
        self.identity = identity
        self.every = every or 0
        self.seconds = seconds or 0.0
        self.last = time.monotonic()
        #: Iterations the file on disk has finished (None: no file of this run's yet).
        self.saved_iterations: int | None = None
        self.failing = False

    def due(self, finished: int) -> bool:
        if self.every and finished % self.every == 0:
            return True
        return bool(self.seconds) and time.monotonic() - self.last >= self.seconds

    def save(self, run: RunState, elapsed: float) -> None:
        assert run.image is not None and run.best_image is not None
        optimizer_state = run.optimizer.state_dict() if run.optimizer is not None else run.optimizer_state
        Checkpoint(
            identity=self.identity,
            scale=run.scale,
            iteration=run.iteration,
            offset=run.offset,
            image=run.image.detach().cpu(),
            best_image=run.best_image.detach().cpu(),
            best_losses=run.best_losses.to_dict() if run.best_losses is not None else None,
            history=[h.to_dict() for h in run.history],
            optimizer=optimizer_state,
            loss_scale=run.loss_scale,
            lr=run.lr,
            faults=run.faults,
            events=list(run.events),
            elapsed=elapsed,
            tiles_done=run.tiles_done,
        ).save(self.path)
        self.last = time.monotonic()
        self.saved_iterations = len(run.history)

    def save_if_due(self, run: RunState, elapsed: float) -> None:
        """The periodic save. A checkpoint is insurance: one that cannot be written (a full disk)
        must not cost the run itself, so the run goes on, says so once in its events, and tries
        again a period later."""
        if not self.due(len(run.history)):
            return
        try:
            self.save(run, elapsed)
        except OSError as exc:
            self.last = time.monotonic()
            if not self.failing:
                run.events.append(
                    f"checkpoint at iteration {len(run.history)} could not be written "
                    f"({exc.strerror or exc}); the run went on without it"
                )
            self.failing = True
        else:
            self.failing = False

    def discard(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise InputError(f"cannot replace the checkpoint '{self.path}': {exc.strerror}") from None


def resumed_state(
    saver: Checkpointer, plan: list[tuple[int, int]], tiles: list[int], device: torch.device
) -> RunState:
    """The run as the checkpoint left it; ``tiles`` is each scale's tile count (1: seen whole)."""
    saved = load_checkpoint(saver.path)
    mismatch = describe_mismatch(saved.identity, saver.identity)
    if mismatch:
        raise InputError(f"cannot resume from '{saver.path}': this run differs from it in {mismatch}")
    if not 1 <= saved.scale <= len(plan):
        raise InputError(f"checkpoint '{saver.path}' does not fit this run's scale plan")
    tiles_here = tiles[saved.scale - 1]
    if (
        # A tiled scale runs its iteration budget once per tile.
        not 0 <= saved.iteration <= min(len(saved.history), plan[saved.scale - 1][1] * tiles_here)
        or saved.offset != len(saved.history) - saved.iteration
        or not 0 <= saved.tiles_done <= (tiles_here if tiles_here > 1 else 0)
    ):
        raise InputError(f"checkpoint '{saver.path}' does not fit this run's scale plan")
    try:
        history = [LossBreakdown.from_dict(h) for h in saved.history]
        best = LossBreakdown.from_dict(saved.best_losses) if saved.best_losses is not None else None
    except (KeyError, TypeError, ValueError):
        raise InputError(f"checkpoint '{saver.path}' has a damaged loss history") from None
    saver.saved_iterations = len(history)  # what an interrupt before the next save leaves behind
    return RunState(
        lr=saved.lr,
        scale=saved.scale,
        iteration=saved.iteration,
        image=saved.image.to(device),
        best_image=saved.best_image.to(device),
        best_total=best.total if best is not None and saved.iteration > 0 else math.inf,
        best_losses=best,
        history=history,
        optimizer_state=saved.optimizer,
        loss_scale=saved.loss_scale,
        faults=saved.faults,
        events=list(saved.events),
        elapsed_before=saved.elapsed,
        consistent=True,
        tiles_done=saved.tiles_done,
    )
