"""The fast path's temporal consistency: each frame of a style model blended with the previous
painted frame, warped onto it by the optical flow, wherever the flow can be trusted.

``out_t = p_t + c * m_t * (warp(out_{t-1}) - p_t)`` where ``p_t`` is the model's picture of frame
t, ``c`` the consistency strength and ``m_t`` the reliability mask: the flow's forward-backward
check passed and the input itself moved as the flow says (colour check). Where the mask is 0
(occlusions, motion boundaries, new content, lighting changes) the frame is the model's own.
Because ``out_{t-1}`` already carries earlier frames, this is an exponential average along the
motion: strokes stay put on the objects they paint instead of being repainted every frame. When
most of a frame fails the check (a cut), the state starts again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nst.video.config import VideoConfig
from nst.video.flow import FlowEstimator, reliable, repair_flow, require_cv2, warp


@dataclass(frozen=True)
class Motion:
    """How frame t relates to frame t-1: the flow back to it, where that flow holds, and whether
    the two frames are from different shots."""

    back: np.ndarray  # (H, W, 2) flow from frame t to frame t-1
    mask: np.ndarray  # (H, W) float32 in [0, 1]
    share: float  # mean of the reliability check before softening
    cut: bool


@dataclass(frozen=True)
class FrameStats:
    """What the stabiliser did with one frame (reported through the progress callback)."""

    reliable: float  # share of the frame whose flow passed the checks (1 for the first frame)
    cut: bool  # the temporal state was reset here (a new shot)


class MotionEstimator:
    """Flow, reliability mask and cut test between consecutive input frames (`VideoConfig`'s
    flow and check settings). Works on inputs only, so it can run before the frame is painted."""

    def __init__(self, config: VideoConfig):
        self.config = config
        self.flow = FlowEstimator(config.flow_preset, config.flow_scale)

    def motion(self, previous: np.ndarray, current: np.ndarray) -> Motion:
        """``previous`` and ``current``: (H, W, 3) uint8 input frames at the output size.

        The flow and every check run at the flow's scale (a quarter of the pixels at 0.5); only
        the flow back and the mask are brought up to the frame's size."""
        cv2 = require_cv2()
        c = self.config
        h, w = current.shape[:2]
        small_now, small_before = self.flow.small(current), self.flow.small(previous)
        a, b = cv2.cvtColor(small_now, cv2.COLOR_RGB2GRAY), cv2.cvtColor(small_before, cv2.COLOR_RGB2GRAY)
        back, forward = self.flow.dis.calc(a, b, None), self.flow.dis.calc(b, a, None)
        scale = a.shape[1] / w
        # Thresholds are in px^2 of the frame: at the flow's scale, b shrinks by scale^2.
        check = reliable(back, forward, (c.occlusion_alpha, c.occlusion_beta * scale * scale),
                         (c.boundary_alpha, c.boundary_beta))
        moved = warp(small_before, back)
        difference = cv2.absdiff(moved, small_now).mean(axis=-1) / 255.0
        mask = (check.mask * (difference <= c.colour_tolerance)).astype(np.float32)
        share = float(mask.mean())
        if c.repair_tolerance > 0:
            back, mask = repair_flow(back, mask, b, a, c.repair_tolerance)
        # Soft edges: a hard mask leaves visible seams where blended and unblended parts meet.
        mask = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.75)
        if (w, h) != (a.shape[1], a.shape[0]):
            mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
            back = cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32(1.0 / scale)
        return Motion(back, mask, share, share < c.cut_threshold)


def blend(painted: np.ndarray, previous_output: np.ndarray | None, motion: Motion | None,
          strength: float) -> tuple[np.ndarray, FrameStats]:
    """The stable frame: ``painted`` (H, W, 3) float32 in [0, 1], the model's picture of this
    frame, with ``previous_output`` warped by ``motion`` blended in at ``strength``."""
    if previous_output is None or motion is None or strength <= 0:
        return painted, FrameStats(1.0 if motion is None else motion.share, False)
    if motion.cut:
        return painted, FrameStats(motion.share, True)
    # Bilinear: each frame mixes in 30% of the model's sharp picture, so blur does not build up,
    # and bicubic carried more of the model's flicker along (disc clip 0.26 of per-frame, not 0.24).
    warped = warp(previous_output, motion.back)
    weight = (strength * motion.mask)[..., None]
    return painted + weight * (warped - painted), FrameStats(motion.share, False)


def previous_frames(state: dict[str, Any], offsets: Sequence[int]) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """The earlier frames a step needs, from a state dict kept as ``input_k``/``output_k`` (k
    frames back), nearest first; offsets not in the state (the clip's start) are left out."""
    return [(j, state[f"input_{j}"], state[f"output_{j}"]) for j in offsets if f"input_{j}" in state]


def advance(state: dict[str, np.ndarray], rgb: np.ndarray, painted: np.ndarray, memory: int,
            cut: bool) -> dict[str, np.ndarray]:
    """The state after a frame: every kept frame moves one further back; a cut forgets them."""
    new: dict[str, np.ndarray] = {}
    if not cut:
        for key, value in state.items():
            name, _, back = key.rpartition("_")
            if int(back) < memory:
                new[f"{name}_{int(back) + 1}"] = value
    new["input_1"], new["output_1"] = rgb, painted
    return new


class StableModel:
    """The fast path's per-frame step: a style model's picture of the frame, blended with the
    previous painted frame (`blend`) when ``config.consistency`` > 0.

    The flow between input frames does not depend on the painting, so it is computed in a second
    thread while the model paints (both release Python's lock): it costs little time of its own.
    """

    def __init__(self, painter: Any, config: VideoConfig):
        self.painter = painter
        self.config = config
        self.estimator = MotionEstimator(config) if config.consistency > 0 else None
        self._pool: Any = None

    @property
    def memory(self) -> int:
        return 1 if self.estimator is not None else 0

    def step(self, rgb: np.ndarray, previous: Sequence[tuple[int, np.ndarray, np.ndarray]]
             ) -> tuple[np.ndarray, float, bool]:
        """Paint a frame given ``[(1, previous input, previous output)]`` (or nothing)."""
        if self.estimator is None or not previous:
            return self.painter(rgb), 1.0, False
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nst-flow")
        _, old_input, old_output = previous[0]
        pending = self._pool.submit(self.estimator.motion, old_input, rgb)
        painted = self.painter(rgb)
        out, stats = blend(painted, old_output, pending.result(), self.config.consistency)
        return out, stats.reliable, stats.cut

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
