"""A running job's progress as a fraction done and an ETA, weighted by pixels across the pyramid."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import nst


class ProgressTracker:
    """Turns the core's per-iteration `Progress` into a fraction done and an ETA.

    Iterations at a coarse scale of a pyramid are much cheaper than at the final size, so work is
    counted in pixels (iterations x side^2) rather than iterations: the bar then moves at a steady
    pace and the ETA holds. A scale that converges early simply hands its share to the next.
    """

    def __init__(self, plan: Sequence[tuple[int, int]]) -> None:
        self.costs = [side * side for side, _ in plan]
        self.planned = [iterations for _, iterations in plan]
        self.finished_work = 0.0
        self.scale = 0  # none seen yet
        self.count = 0

    def update(self, progress: nst.Progress) -> dict[str, Any]:
        snapshot: dict[str, Any] = {
            "iteration": progress.iteration,
            "max_iterations": progress.max_iterations,
            "scale": progress.scale,
            "scales": progress.scales,
            "size": list(progress.size),
            "losses": {
                "content": progress.losses.content,
                "style": progress.losses.style,
                "tv": progress.losses.tv,
                "total": progress.losses.total,
            },
            "elapsed": progress.elapsed,
        }
        if len(self.costs) != progress.scales or not 1 <= progress.scale <= progress.scales:
            # Not the plan we expected: fall back to the core's own iteration count.
            fraction = min(1.0, progress.iteration / max(1, progress.max_iterations))
        else:
            if self.scale == 0:
                # The first report. A resumed run starts mid-way: count the scales before this one
                # as planned, and this one's iterations from the core's running count.
                before = self.planned[: progress.scale - 1]
                self.finished_work = sum(c * n for c, n in zip(self.costs, before, strict=False))
                done_here = progress.iteration - 1 - sum(before)
                self.scale = progress.scale
                self.count = min(max(done_here, 0), self.planned[progress.scale - 1])
            elif progress.scale != self.scale:
                self.finished_work += self.costs[self.scale - 1] * self.count
                self.scale, self.count = progress.scale, 0
            self.count += 1
            index = self.scale - 1
            done = self.finished_work + self.costs[index] * min(self.count, self.planned[index])
            left = self.costs[index] * max(0, self.planned[index] - self.count) + sum(
                c * n for c, n in zip(self.costs[index + 1 :], self.planned[index + 1 :], strict=True)
            )
            fraction = done / (done + left) if done + left > 0 else 1.0
        snapshot["fraction"] = fraction
        snapshot["eta_seconds"] = (
            progress.elapsed * (1 - fraction) / fraction if fraction > 0 and progress.elapsed > 0 else None
        )
        return snapshot
