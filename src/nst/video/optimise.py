"""The optimisation path: Ruder, Dosovitskiy and Brox (2016), "Artistic style transfer for videos".

The first frame (and the first after a cut) is painted as a picture on its own, with the
`StyleConfig`'s pyramid. Every later frame starts from the previous painted frame warped by the
optical flow, and its objective adds a temporal term: the mean squared difference to that warped
frame where the forward-backward check trusts the flow. With long-term terms (``long_term``
offsets J, e.g. (1, 2, 4)) it is held to each frame t - j as well, each pixel to the nearest
earlier frame in which it is visible (their c_long weights). Only the first frame pays for the
pyramid; the others need a fraction of its iterations.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch

from nst.errors import InputError
from nst.image import ImageSource, load_image, load_pil
from nst.optimise.config import StyleConfig
from nst.optimise.loop import optimise
from nst.optimise.objective import Objective, compute_style_grams
from nst.optimise.run_state import RunState, initial_lr
from nst.optimise.transfer import build_extractor, transfer_style
from nst.vgg.features import VGG19Features
from nst.video.config import VideoConfig
from nst.video.consistency import MotionEstimator
from nst.video.flow import warp_painting


class TemporalObjective(Objective):
    """nst's objective plus Ruder et al.'s temporal loss: ``weight`` times the mean over pixels of
    ``c (x - w)^2``, summed over the earlier frames ``w`` with their weights ``c``."""

    def __init__(self, extractor: VGG19Features, config: StyleConfig, content: torch.Tensor,
                 style_grams: dict[str, list[torch.Tensor]], blend: Sequence[float],
                 previous: Sequence[torch.Tensor], weights: Sequence[torch.Tensor], weight: float):
        super().__init__(extractor, config, content, [content] * len(blend), blend, style_grams=style_grams)
        self.previous = list(previous)
        self.weights = list(weights)
        self.temporal_weight = weight

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        total, terms = super().__call__(image)
        if self.previous and self.temporal_weight:
            term = image.new_zeros(())
            for warped, c in zip(self.previous, self.weights, strict=True):
                term = term + (c * (image - warped) ** 2).mean()
            terms["temporal"] = term
            total = total + self.temporal_weight * term
        return total, terms


def check_style_config(style_config: StyleConfig) -> None:
    """Refuse the picture settings a clip cannot use yet."""
    if style_config.mask is not None:
        raise InputError("--mask is not available for video")
    if style_config.preserve_color != "none":
        raise InputError("--preserve-color is not available for video with a style image yet")


def _tensor(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    array = rgb.astype(np.float32) / 255.0 if rgb.dtype == np.uint8 else rgb.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))[None].to(device)


def _array(image: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(image[0].detach().clamp(0, 1).cpu().numpy().transpose(1, 2, 0)).astype(np.float32)


class FrameOptimiser:
    """Paints frames by optimisation, each from the warped previous one (see the module's text).

    ``size`` is the frames' (w, h); the style images are read once, the VGG network built once and
    the style's Gram matrices computed once for the whole clip.
    """

    def __init__(self, style: ImageSource | Sequence[ImageSource], style_config: StyleConfig,
                 config: VideoConfig, size: tuple[int, int], device: str | torch.device = "cpu"):
        check_style_config(style_config)
        styles = list(style) if isinstance(style, (list, tuple)) else [style]
        self.device = torch.device(device)
        self.config = config
        self.style_config = style_config.with_changes(size=max(size))
        self.styles = [load_pil(s) if not isinstance(s, torch.Tensor) else s for s in styles]
        blend = style_config.style_blend or (1.0,) * len(styles)
        if len(blend) != len(styles):
            raise InputError(f"--style-blend has {len(blend)} weights for {len(styles)} style images")
        self.blend = [b / sum(blend) for b in blend]
        self.extractor = build_extractor(self.style_config, self.device)
        longest = self.style_config.style_longest_side(max(size))
        style_ts = [load_image(s, longest).to(self.device) for s in self.styles]
        self.grams = compute_style_grams(self.extractor, self.style_config, style_ts)
        self.motion = MotionEstimator(config)

    @property
    def memory(self) -> int:
        """How many earlier frames each frame needs (the largest long-term offset)."""
        return max(self.config.long_term)

    def independent(self, rgb: np.ndarray) -> np.ndarray:
        """A frame painted on its own: the StyleConfig's plan from the frame itself."""
        result = transfer_style(_tensor(rgb, self.device), self.styles, self.style_config,
                                device=self.device, extractor=self.extractor)
        return _array(result.tensor)

    def step(self, rgb: np.ndarray, previous: Sequence[tuple[int, np.ndarray, np.ndarray]]
             ) -> tuple[np.ndarray, float, bool]:
        """Paint frame t given the earlier frames ``(offset j, input t-j, painted t-j)``, nearest
        first. Returns (painted frame, share of it the flow from t-1 explains, is it a cut)."""
        if not previous:
            return self.independent(rgb), 1.0, False
        warped, weights, covered = [], [], None
        share, cut = 1.0, False
        for offset, old_input, old_output in previous:
            motion = self.motion.motion(old_input, rgb)
            if offset == previous[0][0]:
                share, cut = motion.share, motion.cut
                if cut:
                    return self.independent(rgb), share, True
            c = motion.mask if covered is None else np.maximum(motion.mask - covered, 0.0)
            covered = motion.mask if covered is None else np.minimum(covered + motion.mask, 1.0)
            warped.append(warp_painting(old_output, motion.back))
            weights.append(c)
        content = _tensor(rgb, self.device)
        previous_t = [_tensor(w, self.device) for w in warped]
        weights_t = [torch.from_numpy(np.ascontiguousarray(c))[None, None].to(self.device) for c in weights]
        objective = TemporalObjective(self.extractor, self.style_config, content, self.grams, self.blend,
                                      previous_t, weights_t, self.config.temporal_weight)
        run = RunState(lr=initial_lr(self.style_config))
        run.begin_scale(1, previous_t[0], initial_lr(self.style_config))
        iterations = self.config.frame_iterations
        outcome = optimise(objective, self.style_config, iterations, None, time.perf_counter(), run, None,
                           scales=1, total_iterations=iterations)
        return _array(outcome.image), share, False
