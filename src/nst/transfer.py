"""The optimisation loop: targets once, an initial image, L-BFGS or Adam, progress via callback.

`transfer_style` is the whole pipeline for one stylization; `stylize` returns just the picture.
The library never prints: it reports each iteration to ``callback`` as a frozen `Progress`.
A callback that returns True asks the loop to stop (the result keeps the best image so far).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from PIL import Image

from nst import color, losses
from nst.config import StyleConfig
from nst.errors import InputError
from nst.features import VGG19Features
from nst.image import ImageSource, load_image, load_pil, tensor_to_pil
from nst.weights import load_weights


@dataclass(frozen=True)
class LossBreakdown:
    """The terms of the objective for one image. ``total`` is what the optimiser minimises."""

    content: float
    style: float
    tv: float
    total: float
    content_layers: dict[str, float]
    style_layers: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        return {
            "content": self.content,
            "style": self.style,
            "tv": self.tv,
            "total": self.total,
            "content_layers": dict(self.content_layers),
            "style_layers": dict(self.style_layers),
        }


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


@dataclass
class StyleResult:
    """The outcome of `transfer_style`: the picture, how it got there, and why it stopped."""

    image: Image.Image
    tensor: torch.Tensor
    config: StyleConfig
    losses: LossBreakdown
    history: list[LossBreakdown] = field(default_factory=list)
    iterations: int = 0
    stop_reason: str = ""
    elapsed: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def to_report(self) -> dict[str, object]:
        """JSON-ready summary: settings, final losses, loss history, timings, stop reason."""
        return {
            "settings": self.config.to_dict(),
            "size": list(self.image.size),
            "iterations": self.iterations,
            "stop_reason": self.stop_reason,
            "elapsed_seconds": self.elapsed,
            "timings": dict(self.timings),
            "final_losses": self.losses.to_dict(),
            "history": [
                {"iteration": i + 1, "content": h.content, "style": h.style, "tv": h.tv, "total": h.total}
                for i, h in enumerate(self.history)
            ],
        }


Callback = Callable[[Progress], bool | None]
StyleSources = ImageSource | Sequence[ImageSource]


class Objective:
    """The paper's loss for one output size, with targets computed once from content and style.

    Calling it on an image returns (total loss tensor, LossBreakdown-ready tensors).
    """

    def __init__(
        self,
        extractor: VGG19Features,
        config: StyleConfig,
        content: torch.Tensor,
        styles: Sequence[torch.Tensor],
        style_blend: Sequence[float] | None = None,
    ) -> None:
        self.extractor = extractor
        self.config = config
        self.content_weights = config.content_layer_weights or (1.0,) * len(config.content_layers)
        self.style_weights = config.style_layer_weights or (1.0,) * len(config.style_layers)
        blend = list(style_blend) if style_blend is not None else [1.0 / len(styles)] * len(styles)
        with torch.no_grad():
            content_features = extractor(content)
            self.content_targets = {k: content_features[k].detach() for k in config.content_layers}
            self.positions = {k: v.shape[-2] * v.shape[-1] for k, v in content_features.items()}
            self.style_targets: dict[str, torch.Tensor] = {}
            for style, share in zip(styles, blend, strict=False):
                style_features = extractor(style)
                for layer in config.style_layers:
                    gram = losses.gram_target(style_features[layer], self.positions[layer]) * share
                    previous = self.style_targets.get(layer)
                    self.style_targets[layer] = gram if previous is None else previous + gram

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        cfg = self.config
        features = self.extractor(image)
        terms: dict[str, torch.Tensor] = {}
        total = image.new_zeros(())
        for layer, w in zip(cfg.content_layers, self.content_weights, strict=False):
            terms[f"content:{layer}"] = w * losses.content_loss(features[layer], self.content_targets[layer])
            total = total + cfg.content_weight * terms[f"content:{layer}"]
        for layer, w in zip(cfg.style_layers, self.style_weights, strict=False):
            terms[f"style:{layer}"] = w * losses.style_loss(features[layer], self.style_targets[layer])
            total = total + cfg.style_weight * terms[f"style:{layer}"]
        if cfg.tv_weight:
            terms["tv"] = losses.tv_loss(image)
            total = total + cfg.tv_weight * terms["tv"]
        return total, terms

    def breakdown(self, total: torch.Tensor, terms: dict[str, torch.Tensor]) -> LossBreakdown:
        """Python floats of the weighted terms (one host sync)."""
        cfg = self.config
        keys = list(terms)
        values = torch.stack([terms[k].detach().float() for k in keys] + [total.detach().float()]).tolist()
        named = dict(zip(keys, values[:-1], strict=False))
        content_layers = {
            k.split(":", 1)[1]: cfg.content_weight * v for k, v in named.items() if k.startswith("content:")
        }
        style_layers = {
            k.split(":", 1)[1]: cfg.style_weight * v for k, v in named.items() if k.startswith("style:")
        }
        return LossBreakdown(
            content=sum(content_layers.values()),
            style=sum(style_layers.values()),
            tv=cfg.tv_weight * named.get("tv", 0.0),
            total=values[-1],
            content_layers=content_layers,
            style_layers=style_layers,
        )


def build_extractor(config: StyleConfig, device: torch.device | str = "cpu") -> VGG19Features:
    """The frozen VGG-19 trunk for ``config``'s weights, pooling and layers, on ``device``."""
    weights = load_weights(config.weights)
    layers = tuple(config.content_layers) + tuple(config.style_layers)
    return VGG19Features(weights, layers, pooling=config.pooling).to(device)


def _as_list(style: StyleSources) -> list[ImageSource]:
    if isinstance(style, (list, tuple)):
        if not style:
            raise InputError("at least one style image is needed")
        return list(style)
    return [style]  # type: ignore[list-item]


def _initial_image(config: StyleConfig, content: torch.Tensor) -> torch.Tensor:
    if config.init == "content":
        return content.clone()
    if config.init == "noise":
        generator = torch.Generator().manual_seed(config.seed)
        return torch.rand(content.shape, generator=generator).to(content.device)
    h, w = content.shape[-2:]
    start = load_image(config.init).to(content.device)
    return torch.nn.functional.interpolate(start, size=(h, w), mode="bicubic", align_corners=False).clamp(
        0, 1
    )


def transfer_style(
    content: ImageSource,
    style: StyleSources,
    config: StyleConfig | None = None,
    *,
    callback: Callback | None = None,
    device: torch.device | str | None = None,
    extractor: VGG19Features | None = None,
) -> StyleResult:
    """Paint ``content`` in the style of ``style`` (one image or several, blended).

    Args:
        content: path, PIL image or (1, 3, H, W) RGB tensor in [0, 1].
        style: one such source, or a sequence of them (weighted by ``config.style_blend``).
        config: settings; `StyleConfig()` (the paper's) when None.
        callback: called after every iteration with a `Progress`; return True to stop early.
        device: where to compute ("cpu", "cuda", "mps"); the CPU when None.
        extractor: a prebuilt `build_extractor(config, device)` to reuse across many calls.
    """
    config = config or StyleConfig()
    device = torch.device(device or "cpu")
    started = time.perf_counter()
    styles = _as_list(style)
    blend = _normalised_blend(config.style_blend, len(styles))
    content_full = _as_pil_or_tensor(content)
    styles_full = [_as_pil_or_tensor(s) for s in styles]
    extractor = extractor or build_extractor(config, device)
    prepared = time.perf_counter()

    plan = config.scale_plan(config.resolve_size(device.type))
    history: list[LossBreakdown] = []
    image: torch.Tensor | None = None
    outcome: _Outcome | None = None
    stop_reason = ""
    offset = 0
    total_iterations = sum(iterations for _, iterations in plan)
    for index, (size, iterations) in enumerate(plan, start=1):
        content_t = load_image(content_full, size).to(device)
        style_ts = [load_image(s, config.style_longest_side(size)).to(device) for s in styles_full]
        target_content, style_ts = _colour_inputs(config, content_t, style_ts)
        objective = Objective(extractor, config, target_content, style_ts, blend)
        if image is None:
            start = _initial_image(config, target_content)
        else:
            start = torch.nn.functional.interpolate(
                image, size=target_content.shape[-2:], mode="bicubic", align_corners=False
            ).clamp(0, 1)
        outcome = _optimise(
            objective, start, config, iterations, callback, started,
            scale=index, scales=len(plan), offset=offset, total_iterations=total_iterations,
        )  # fmt: skip
        history += outcome.history
        offset += outcome.iterations
        image = outcome.image
        stop_reason = (
            outcome.stop_reason if len(plan) == 1 else f"scale {index} ({size} px): {outcome.stop_reason}"
        )
        if outcome.stopped_by_request:
            break
    assert image is not None and outcome is not None
    if config.preserve_color == "luminance":
        image = color.recombine_chroma(image, content_t)
    finished = time.perf_counter()
    return StyleResult(
        image=tensor_to_pil(image),
        tensor=image.detach().cpu(),
        config=config,
        losses=outcome.losses,
        history=history,
        iterations=len(history),
        stop_reason=stop_reason,
        elapsed=finished - started,
        timings={"prepare_seconds": prepared - started, "optimise_seconds": finished - prepared},
    )


def _as_pil_or_tensor(source: ImageSource) -> Image.Image | torch.Tensor:
    """Decode a path once; every scale then resizes from the full-resolution original."""
    if isinstance(source, (Image.Image, torch.Tensor)):
        return source
    return load_pil(source)


def _colour_inputs(
    config: StyleConfig, content: torch.Tensor, styles: list[torch.Tensor]
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The content and style images the optimiser actually sees under ``preserve_color``."""
    if config.preserve_color == "luminance":
        content_luma = color.luminance(content)
        return content_luma, [color.match_luminance(color.luminance(s), content_luma) for s in styles]
    if config.preserve_color == "histogram":
        return content, [color.match_color_histogram(s, content) for s in styles]
    return content, styles


def stylize(
    content: ImageSource,
    style: StyleSources,
    config: StyleConfig | None = None,
    *,
    callback: Callback | None = None,
    device: torch.device | str | None = None,
) -> Image.Image:
    """Like `transfer_style`, returning only the finished PIL image."""
    return transfer_style(content, style, config, callback=callback, device=device).image


def _normalised_blend(blend: Sequence[float] | None, count: int) -> list[float]:
    if blend is None:
        return [1.0 / count] * count
    if len(blend) != count:
        raise InputError(f"style blend has {len(blend)} weight(s) for {count} style image(s)")
    total = sum(blend)
    return [b / total for b in blend]


@dataclass
class _Outcome:
    image: torch.Tensor
    losses: LossBreakdown
    history: list[LossBreakdown]
    iterations: int
    stop_reason: str
    stopped_by_request: bool = False


def _optimise(
    objective: Objective,
    start: torch.Tensor,
    config: StyleConfig,
    iterations: int,
    callback: Callback | None,
    started: float,
    *,
    scale: int,
    scales: int,
    offset: int,
    total_iterations: int,
) -> _Outcome:
    """Minimise ``objective`` from ``start``; return the best image seen and why it stopped."""
    image = start.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
    if config.optimizer == "lbfgs":
        # One iteration per step() call, so progress and stopping are per iteration; torch keeps
        # the curvature history across calls. Tolerances are ours (below), not torch's.
        optimizer: torch.optim.Optimizer = torch.optim.LBFGS(
            [image], lr=1.0, max_iter=1, history_size=config.history_size,
            tolerance_grad=0.0, tolerance_change=0.0,
        )  # fmt: skip
    else:
        optimizer = torch.optim.Adam([image], lr=config.lr)

    # L-BFGS's first step and Adam's steps depend on the loss's magnitude, which depends on the
    # weights and images; dividing by the starting loss makes every run start near 1.
    with torch.no_grad():
        initial_total = float(objective(image.clamp(0, 1))[0])
    loss_scale = 1.0 / initial_total if initial_total > 0 and initial_total < float("inf") else 1.0

    history: list[LossBreakdown] = []
    best_total = float("inf")
    best_image = image.detach().clone()
    best_losses: LossBreakdown | None = None
    evaluated: dict[str, object] = {}

    # The loss is taken on the image clamped to [0, 1], the image that will be saved: an optimum
    # with pixels outside the range loses up to 30% of its quality when clamped afterwards.
    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        total, terms = objective(image.clamp(0, 1))
        (total * loss_scale).backward()
        evaluated["total"], evaluated["terms"] = total.detach(), {k: v.detach() for k, v in terms.items()}
        evaluated["image"] = image.detach().clamp(0, 1)
        return total * loss_scale

    stop_reason = f"reached {iterations} iterations"
    stopped_by_request = False
    size = (start.shape[-1], start.shape[-2])
    for iteration in range(1, iterations + 1):
        optimizer.step(closure)
        current = objective.breakdown(evaluated["total"], evaluated["terms"])  # type: ignore[arg-type]
        if not torch.isfinite(torch.tensor(current.total)):
            image.data.copy_(best_image)
            stop_reason = f"loss became {current.total} at iteration {iteration}; kept the last finite image"
            break
        history.append(current)
        if current.total < best_total:
            best_total, best_losses = current.total, current
            best_image = evaluated["image"]  # type: ignore[assignment]
        if callback is not None:
            progress = Progress(
                iteration=offset + iteration,
                max_iterations=total_iterations,
                scale=scale,
                scales=scales,
                size=size,
                losses=current,
                elapsed=time.perf_counter() - started,
                image=evaluated["image"],  # type: ignore[arg-type]
            )
            if callback(progress):
                stop_reason = f"stopped by request at iteration {offset + iteration}"
                stopped_by_request = True
                break
        if _converged(history, config):
            stop_reason = (
                f"converged at iteration {iteration}: loss fell less than "
                f"{config.tolerance:g} in {config.patience} iterations"
            )
            break

    # The optimiser's last step moved the image after its last evaluation; score that move too.
    with torch.no_grad():
        total, terms = objective(image.clamp(0, 1))
    final = objective.breakdown(total, terms)
    if final.total < best_total or best_losses is None:
        best_image, best_losses = image.detach().clamp(0, 1), final
    return _Outcome(
        best_image, best_losses, history, len(history), stop_reason, stopped_by_request
    )


def _converged(history: list[LossBreakdown], config: StyleConfig) -> bool:
    """True when the total loss fell by less than ``tolerance`` (relative) over ``patience`` iterations."""
    if config.tolerance <= 0 or len(history) <= config.patience:
        return False
    before, now = history[-1 - config.patience].total, history[-1].total
    return before > 0 and (before - now) / before < config.tolerance
