"""Optical flow for temporal consistency: OpenCV's DIS flow, warping, and the forward-backward
check that finds where a warped frame cannot be trusted (occlusions, motion boundaries).

Conventions: frames are (H, W, 3) arrays; a flow is (H, W, 2) float32 in pixels, and
``flow(a, b)[y, x]`` is where pixel (x, y) of ``a`` is found in ``b``. So `warp`\\ (``b``,
``flow(a, b)``) lines ``b`` up with ``a``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from nst.errors import InputError


def require_cv2() -> Any:
    try:
        import cv2
    except ImportError:
        raise InputError("video needs PyAV and OpenCV: pip install -e '.[video]'") from None
    return cv2


class FlowEstimator:
    """DIS optical flow (Kroeger et al. 2016) at a fraction of the frame size, upsampled after.

    ``preset`` is one of "ultrafast", "fast", "medium" (OpenCV's presets); ``scale`` the fraction
    of the frame's size at which the flow is computed.
    """

    def __init__(self, preset: str = "fast", scale: float = 0.5):
        cv2 = require_cv2()
        presets = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
                   "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
        if preset not in presets:
            raise InputError(f"flow preset must be one of {', '.join(presets)}, got {preset!r}")
        self.dis = cv2.DISOpticalFlow_create(presets[preset])
        self.scale = scale

    def small(self, rgb: np.ndarray) -> np.ndarray:
        """The frame at the flow's scale (area-averaged)."""
        cv2 = require_cv2()
        if self.scale == 1.0:
            return rgb
        h, w = rgb.shape[:2]
        return cv2.resize(rgb, (max(8, round(w * self.scale)), max(8, round(h * self.scale))),
                          interpolation=cv2.INTER_AREA)

    def flow(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Flow from ``a`` to ``b`` ((H, W, 3) uint8 at the same size), in pixels of that size."""
        cv2 = require_cv2()
        grey_a, grey_b = (cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) for x in (a, b))
        return self.dis.calc(grey_a, grey_b, None)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` sampled at (x, y) + ``flow`` (bilinear, edges repeated): ``image`` moved onto
    the frame the flow starts from."""
    cv2 = require_cv2()
    h, w = flow.shape[:2]
    grid_x, grid_y = _grid(w, h)
    return cv2.remap(image, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def warp_painting(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """`warp` for the optimisation path's painted frames, (H, W, 3) float in [0, 1]: bicubic,
    clipped to [0, 1].

    Each frame starts from the previous one warped and is held to it, so a frame is warped again
    and again as it is carried along the motion, and bilinear sampling blurs a little each time:
    the mean absolute Laplacian of the pan's frames fell from 23.5 to 10.7 in five frames
    (bicubic: 21.0), and the strokes went soft."""
    cv2 = require_cv2()
    h, w = flow.shape[:2]
    grid_x, grid_y = _grid(w, h)
    moved = cv2.remap(image, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_CUBIC,
                      borderMode=cv2.BORDER_REPLICATE)
    return np.clip(moved, 0.0, 1.0, out=moved)


@functools.lru_cache(maxsize=4)
def _grid(w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (read-only constants, memoised: a 720p grid takes milliseconds)."""
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    gx.setflags(write=False)
    gy.setflags(write=False)
    return gx, gy


@dataclass(frozen=True)
class Reliability:
    """Where the flow ``back`` (from the new frame to the old one) can be trusted: ``mask`` is 1
    there and 0 at occlusions and motion boundaries; ``share`` is its mean."""

    mask: np.ndarray  # (H, W) float32
    share: float


def reliable(back: np.ndarray, forward: np.ndarray, occlusion: tuple[float, float] = (0.01, 0.5),
             boundary: tuple[float, float] = (0.01, 0.05)) -> Reliability:
    """The forward-backward check of Sundaram, Brox and Keutzer (2010), as Ruder et al. use it.

    ``back`` is the flow from the new frame to the old, ``forward`` from the old to the new. A pixel
    of the new frame is occluded when going back and then forward does not return near it:
    |w + w'|^2 > a (|w|^2 + |w'|^2) + b, where w' is ``forward`` warped by ``back``; it is on a
    motion boundary when |grad w|^2 > c |w|^2 + d. (Ruder et al.'s d = 0.002 marks most of
    a DIS flow as boundary: its gradients are noisier than those of the flow they used.)
    """
    cv2 = require_cv2()
    returned = warp(forward, back)
    total = back + returned
    error = (total**2).sum(-1)
    bound = occlusion[0] * ((back**2).sum(-1) + (returned**2).sum(-1)) + occlusion[1]
    ok = error <= bound
    gradient = np.zeros(back.shape[:2], np.float32)
    for channel in (back[..., 0], back[..., 1]):
        for dx, dy in ((1, 0), (0, 1)):  # central differences, as np.gradient, in OpenCV's speed
            g = cv2.Sobel(channel, cv2.CV_32F, dx, dy, ksize=1, scale=0.5)
            gradient += g * g
    ok &= gradient <= boundary[0] * (back**2).sum(-1) + boundary[1]
    mask = ok.astype(np.float32)
    # Pixels next to a failed one are rarely right either; a small erosion keeps seams away.
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
    return Reliability(mask, float(mask.mean()))


#: `repair_flow`'s candidate flows come from this far away (px at the flow's scale), in the four
#: directions: at half size 4, 8 and 16 px of the frame, about the width of the band that DIS
#: smooths across a moving edge.
REPAIR_REACH = (2, 4, 8)
#: Side of the square patch (px at the flow's scale) whose mean colour difference judges a candidate.
REPAIR_PATCH = 3


def repair_flow(back: np.ndarray, mask: np.ndarray, before: np.ndarray, now: np.ndarray,
                tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Where ``mask`` failed, try other motions and keep one the pictures agree with.

    A variational flow such as DIS is smooth across a moving object's edge, so on both sides of it
    the flow is a blend of the two motions and the checks fail, in a band a few pixels wide.
    The true motion of a pixel there is usually that of a neighbour a few pixels away (on the
    object or on the background) or none (a still background). For each failed pixel this tries
    no motion and the flow of the neighbours `REPAIR_REACH` px away in the four directions, warps
    the previous input ``before`` by each, and keeps the candidate whose `REPAIR_PATCH`-px patch
    matches the current input ``now`` best, if its mean difference (in [0, 1]) is at most
    ``tolerance``. ``before`` and ``now`` are the greyscale inputs the flow was computed on.
    Returns the flow and the mask (1 where repaired), at the flow's scale.
    """
    cv2 = require_cv2()
    candidates = [np.zeros_like(back)]
    for reach in REPAIR_REACH:
        candidates += [_shifted(back, dx, dy) for dx, dy in ((reach, 0), (-reach, 0), (0, reach), (0, -reach))]
    # uint8 throughout: OpenCV's fastest paths; the box filter rounds to whole levels.
    errors = np.stack([cv2.blur(cv2.absdiff(warp(before, c), now), (REPAIR_PATCH, REPAIR_PATCH))
                       for c in candidates])
    best = errors.argmin(axis=0)[None]
    repaired = (mask < 0.5) & (np.take_along_axis(errors, best, 0)[0] <= tolerance * 255.0)
    chosen = np.take_along_axis(np.stack(candidates), best[..., None], 0)[0]
    flow = np.where(repaired[..., None], chosen, back)
    return flow, np.maximum(mask, repaired.astype(np.float32))


def _shifted(flow: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """``flow`` moved so that each pixel holds the flow of the pixel (dx, dy) away (edges repeated)."""
    h, w = flow.shape[:2]
    pad = max(abs(dx), abs(dy))
    padded = np.pad(flow, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    return np.ascontiguousarray(padded[pad + dy:pad + dy + h, pad + dx:pad + dx + w])
