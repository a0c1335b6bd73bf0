"""`VideoConfig`: every default of a video run, once. The CLI reads its defaults from here."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from nst.errors import InputError

#: OpenCV DIS presets by name (values of cv2.DISOPTICAL_FLOW_PRESET_*).
FLOW_PRESETS = ("ultrafast", "fast", "medium")
#: x264 speed presets accepted for the output (slower: smaller files at the same quality).
ENCODER_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


@dataclass(frozen=True)
class VideoConfig:
    """Settings of one video run that are not the stylization's own.

    The style itself comes from a style model (fast path) or a `nst.StyleConfig` (optimisation
    path); this holds what the clip adds: which frames, how stable, how encoded, how chunked.
    """

    # Longest side of the output in px (rounded to even numbers, as H.264's 4:2:0 needs); None:
    # the source's own size.
    size: int | None = None
    # The part of the clip to paint, in seconds from its start; None: to the end.
    start: float = 0.0
    duration: float | None = None
    # Resample to this frame rate (each output time takes the latest source frame); None: keep the
    # source's frames and timestamps as they are.
    fps: float | None = None

    # Fast path: how much of the previous painted frame, warped by the optical flow, is blended
    # into each new frame where the flow is reliable. 0 paints independent frames. Measured by
    # bench/video.py (docs/video.md): 0.7 brought the temporal warping error to 0.13 of the
    # per-frame output's on a pan (0.54 on a disc crossing a still background).
    consistency: float = 0.7
    # Style model options, as for `nst stylize --model` (and --instant, with the stroke scale).
    strength: float = 1.0
    preserve_color: str = "none"
    stroke_scale: float = 1.0

    # Optical flow: OpenCV DIS preset, computed at this fraction of the output size (upsampled
    # after), in a thread beside the model. "fast" left the disc clip's error at 0.82 of
    # per-frame (medium: 0.54, before the repair below). 0.4 of the size instead of 0.5: the disc's
    # error 0.24 of per-frame instead of 0.21 (at 854x480: 0.23, 0.22), throughput at 854x480
    # 0.82 of the model's own instead of 0.76 (docs/video.md).
    flow_preset: str = "medium"
    flow_scale: float = 0.4
    # Forward-backward check (Sundaram et al. 2010, as Ruder et al. 2016): a pixel is occluded when
    # |w + w'|^2 > a (|w|^2 + |w'|^2) + b px^2; a motion boundary when |grad w'|^2 > c |w'|^2 + d (d larger than
    # their 0.002: DIS flow is noisier than the flow they used).
    occlusion_alpha: float = 0.01
    occlusion_beta: float = 0.5
    boundary_alpha: float = 0.01
    boundary_beta: float = 0.05
    # A pixel whose input colour differs from the warped previous input by more than this (mean
    # over RGB, in [0, 1]) is not blended either: lighting changes, flow errors the check misses.
    colour_tolerance: float = 0.08
    # Where the checks fail, try no motion and the flow of pixels 2, 4 and 8 px away (at the
    # flow's scale), and blend with the one whose 3x3 patch of greyscale input matches best if
    # its mean difference (in [0, 1]) is at most this; 0: no repair. DIS smooths the flow across
    # moving edges: with the flow at half size this took the disc clip's error from 0.54 of
    # per-frame to 0.21 (0.05: the same error, frames further from the model's own).
    repair_tolerance: float = 0.04
    # A cut: when less than this share of the frame passes the checks, the temporal state starts
    # again, so one shot is not smeared into the next.
    cut_threshold: float = 0.35

    # Optimisation path (Ruder et al. 2016): weight of the temporal loss (mean squared difference
    # to the warped previous frame where it is reliable) against nst's normalised objective, and
    # the iterations of each frame after the first (the first runs the StyleConfig's own plan).
    temporal_weight: float = 200.0
    frame_iterations: int = 50
    # Long-term terms: also hold each frame to these earlier frames (Ruder et al.: {1, 2, 4}
    # among others), each pixel to the nearest one where it is visible. (1,) is short-term only.
    long_term: tuple[int, ...] = (1,)

    # H.264 output: constant rate factor (0 lossless ... 51; 18 looks lossless to most eyes) and
    # x264's speed preset.
    crf: int = 18
    encoder_preset: str = "veryfast"
    # Frames per chunk of the work folder: a chunk is encoded and kept as soon as it is done, and
    # an interrupted run loses at most one. The optimisation's frames take long: smaller chunks.
    chunk_frames: int = 48
    optimise_chunk_frames: int = 4

    def __post_init__(self) -> None:
        if self.size is not None and self.size < 16:
            raise InputError(f"size must be at least 16 px, got {self.size}")
        if not self.start >= 0:
            raise InputError(f"start must be 0 or more seconds, got {self.start:g}")
        if self.duration is not None and not self.duration > 0:
            raise InputError(f"duration must be more than 0 seconds, got {self.duration:g}")
        if self.fps is not None and not 0 < self.fps <= 240:
            raise InputError(f"fps must be between 0 and 240, got {self.fps:g}")
        if not 0.0 <= self.consistency < 1.0:
            raise InputError(f"consistency must be at least 0 (independent frames) and below 1, got {self.consistency:g}")
        if not 0.0 <= self.strength <= 1.0:
            raise InputError(f"strength must be between 0 and 1, got {self.strength:g}")
        if self.preserve_color not in ("none", "luminance"):
            raise InputError(f"preserve_color must be none or luminance, got {self.preserve_color!r}")
        if self.flow_preset not in FLOW_PRESETS:
            raise InputError(f"flow_preset must be one of {', '.join(FLOW_PRESETS)}, got {self.flow_preset!r}")
        if not 0.1 <= self.flow_scale <= 1.0:
            raise InputError(f"flow_scale must be between 0.1 and 1, got {self.flow_scale:g}")
        if not 0.0 <= self.repair_tolerance <= 1.0:
            raise InputError(f"repair_tolerance must be between 0 and 1, got {self.repair_tolerance:g}")
        if not 0.0 <= self.cut_threshold <= 1.0:
            raise InputError(f"cut_threshold must be between 0 and 1, got {self.cut_threshold:g}")
        if self.temporal_weight < 0:
            raise InputError(f"temporal_weight must be 0 or more, got {self.temporal_weight:g}")
        if self.frame_iterations < 1:
            raise InputError(f"frame_iterations must be at least 1, got {self.frame_iterations}")
        if not self.long_term or any(k < 1 for k in self.long_term) or list(self.long_term) != sorted(set(self.long_term)):
            raise InputError(f"long_term must be increasing frame offsets of 1 or more, got {self.long_term}")
        if not 0 <= self.crf <= 51:
            raise InputError(f"crf must be between 0 and 51, got {self.crf}")
        if self.encoder_preset not in ENCODER_PRESETS:
            raise InputError(f"encoder_preset must be one of {', '.join(ENCODER_PRESETS)}, got {self.encoder_preset!r}")
        if self.chunk_frames < 1 or self.optimise_chunk_frames < 1:
            raise InputError("chunk sizes must be at least 1 frame")

    def with_changes(self, **changes: Any) -> VideoConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["long_term"] = list(self.long_term)
        return data
