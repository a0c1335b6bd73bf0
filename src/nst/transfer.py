"""The optimisation loop: targets once, an initial image, L-BFGS or Adam, progress via callback.

`transfer_style` is the whole pipeline for one stylization; `stylize` returns just the picture.
The library never prints: it reports each iteration to ``callback`` as a frozen `Progress`.
A callback that returns True asks the loop to stop (the result keeps the best image so far).

Long runs survive: with a checkpoint file the loop saves its whole state atomically every so
often and when interrupted, and ``resume=True`` continues it (see `nst.checkpoint`). A
KeyboardInterrupt becomes `Interrupted`, which carries the best image so far. A NaN or infinite
loss rolls back to the best image and restarts the optimiser with a smaller step.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from nst import color, losses, masks, memory, tiling, validation
from nst.checkpoint import Checkpoint, describe_mismatch, load_checkpoint, run_identity
from nst.config import StyleConfig
from nst.errors import InputError, ResourceError
from nst.features import VGG19Features
from nst.image import ImageSource, load_image, load_pil, scaled_size, tensor_to_pil
from nst.weights import load_weights

#: Numerical faults (NaN or infinite loss or pixels) a run recovers from before it gives up.
MAX_RETRIES = 3


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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LossBreakdown:
        """Inverse of `to_dict`."""
        return cls(
            content=float(data["content"]),
            style=float(data["style"]),
            tv=float(data["tv"]),
            total=float(data["total"]),
            content_layers={str(k): float(v) for k, v in data["content_layers"].items()},
            style_layers={str(k): float(v) for k, v in data["style_layers"].items()},
        )


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
    """The outcome of `transfer_style`: the picture, how it got there, and why it stopped.

    ``failed`` is True when the run gave up on repeated numerical faults (``image`` is then the
    last good image); ``events`` lists the faults it recovered from.
    """

    image: Image.Image
    tensor: torch.Tensor
    config: StyleConfig
    losses: LossBreakdown
    history: list[LossBreakdown] = field(default_factory=list)
    iterations: int = 0
    stop_reason: str = ""
    elapsed: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    failed: bool = False
    events: list[str] = field(default_factory=list)

    def to_report(self) -> dict[str, object]:
        """JSON-ready summary: settings, final losses, loss history, timings, stop reason."""
        return {
            "settings": self.config.to_dict(),
            "size": list(self.image.size),
            "iterations": self.iterations,
            "stop_reason": self.stop_reason,
            "failed": self.failed,
            "events": list(self.events),
            "elapsed_seconds": self.elapsed,
            "timings": dict(self.timings),
            "final_losses": self.losses.to_dict(),
            "history": [
                {"iteration": i + 1, "content": h.content, "style": h.style, "tv": h.tv, "total": h.total}
                for i, h in enumerate(self.history)
            ],
        }


class Interrupted(KeyboardInterrupt):
    """`transfer_style` stopped by a KeyboardInterrupt (Ctrl-C, or SIGTERM turned into one).

    Still a KeyboardInterrupt, so code that does not know it stops as before. ``result`` holds the
    best image so far (None when no iteration had finished); ``checkpoint`` is the file from which
    ``transfer_style(..., checkpoint=..., resume=True)`` continues, or None when there is none.
    """

    def __init__(self, result: StyleResult | None, checkpoint: Path | None) -> None:
        super().__init__(
            result.stop_reason if result is not None else "interrupted before the first iteration"
        )
        self.result = result
        self.checkpoint = checkpoint


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
        regions: torch.Tensor | None = None,
        style_grams: dict[str, list[torch.Tensor]] | None = None,
    ) -> None:
        """``regions`` (1 + len(styles), H, W), from `nst.masks.mask_regions`, gives each style
        its own part of the picture (channel 0: no style); None blends the styles everywhere.
        ``style_grams`` ({layer: one per-position Gram per style}, see `style_grams`) replaces
        computing them from ``styles``, for tiles of a picture too large to see whole."""
        self.extractor = extractor
        self.config = config
        self.regions: dict[str, torch.Tensor] = {}
        self.region_targets: dict[str, list[torch.Tensor]] = {}
        self.content_weights = config.content_layer_weights or (1.0,) * len(config.content_layers)
        self.style_weights = config.style_layer_weights or (1.0,) * len(config.style_layers)
        blend = list(style_blend) if style_blend is not None else [1.0 / len(styles)] * len(styles)
        with torch.no_grad():
            content_features = extractor(content)
            self.content_targets = {k: content_features[k].detach() for k in config.content_layers}
            self.positions = {k: v.shape[-2] * v.shape[-1] for k, v in content_features.items()}
            if style_grams is None:
                style_grams = compute_style_grams(extractor, config, styles)
            self.style_targets: dict[str, torch.Tensor] = {}
            for layer in config.style_layers:
                if regions is not None:  # each region matches its own style's Gram, per position
                    self.region_targets[layer] = list(style_grams[layer])
                else:
                    mixed = sum(g * share for g, share in zip(style_grams[layer], blend, strict=True))
                    self.style_targets[layer] = mixed * self.positions[layer]  # type: ignore[operator]
            if regions is not None:
                for layer in config.style_layers:
                    h, w = content_features[layer].shape[-2:]
                    self.regions[layer] = masks.resize_regions(regions.to(content.device), h, w)

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        cfg = self.config
        features = self.extractor(image)
        terms: dict[str, torch.Tensor] = {}
        total = image.new_zeros(())
        for layer, w in zip(cfg.content_layers, self.content_weights, strict=False):
            terms[f"content:{layer}"] = w * losses.content_loss(features[layer], self.content_targets[layer])
            total = total + cfg.content_weight * terms[f"content:{layer}"]
        for layer, w in zip(cfg.style_layers, self.style_weights, strict=False):
            terms[f"style:{layer}"] = w * self._style_term(layer, features[layer])
            total = total + cfg.style_weight * terms[f"style:{layer}"]
        if cfg.tv_weight:
            terms["tv"] = losses.tv_loss(image)
            total = total + cfg.tv_weight * terms["tv"]
        return total, terms

    def _style_term(self, layer: str, features: torch.Tensor) -> torch.Tensor:
        if not self.regions:
            return losses.style_loss(features, self.style_targets[layer])
        # Gatys et al. 2017: a guided Gram per region, weighted by the region's share of the picture.
        weights = self.regions[layer]
        term = features.new_zeros(())
        for region, target in enumerate(self.region_targets[layer], start=1):
            share = weights[region].mean()
            if share > 0:
                gram = losses.masked_gram(features, weights[region])
                term = term + share * losses.style_loss_per_position(gram, target)
        return term

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


def compute_style_grams(
    extractor: VGG19Features, config: StyleConfig, styles: Sequence[torch.Tensor], tile: int | None = None
) -> dict[str, list[torch.Tensor]]:
    """Per-position Gram matrices of each style image at each style layer: {layer: [one per style]}.

    With ``tile``, a large style image is seen in non-overlapping tiles and their Grams summed
    (a Gram matrix is a sum over positions), so memory is bounded by the tile, not the image.
    """
    grams: dict[str, list[torch.Tensor]] = {layer: [] for layer in config.style_layers}
    with torch.no_grad():
        for style in styles:
            h, w = style.shape[-2:]
            step = tile or max(h, w)
            sums: dict[str, torch.Tensor] = {}
            positions: dict[str, int] = {}
            # Each tile is seen with a margin of context around it, so that the deep layers'
            # responses in it are those of the whole image; only the tile's own positions count.
            margin = 0 if step >= max(h, w) else min(128, step // 2)
            for top in range(0, h, step):
                for left in range(0, w, step):
                    y0, x0 = max(0, top - margin), max(0, left - margin)
                    piece = style[..., y0 : min(h, top + step + margin), x0 : min(w, left + step + margin)]
                    if min(piece.shape[-2:]) < 16:
                        continue  # a sliver at the edge: too small for the network, negligible
                    features = extractor(piece)
                    for layer in config.style_layers:
                        stride = piece.shape[-1] / features[layer].shape[-1]
                        inner = (
                            ...,
                            slice(round((top - y0) / stride), round((min(h, top + step) - y0) / stride)),
                            slice(round((left - x0) / stride), round((min(w, left + step) - x0) / stride)),
                        )
                        f = features[layer][inner]
                        if f.numel() == 0:
                            continue
                        gram = losses.gram_matrix(f).mean(dim=0, keepdim=True)
                        sums[layer] = sums[layer] + gram if layer in sums else gram
                        positions[layer] = positions.get(layer, 0) + f.shape[-2] * f.shape[-1]
            for layer in config.style_layers:
                grams[layer].append(sums[layer] / positions[layer])
    return grams


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
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    checkpoint_seconds: float | None = 60.0,
    resume: bool = False,
) -> StyleResult:
    """Paint ``content`` in the style of ``style`` (one image or several, blended).

    Args:
        content: path, PIL image or (1, 3, H, W) RGB tensor in [0, 1].
        style: one such source, or a sequence of them (weighted by ``config.style_blend``).
        config: settings; `StyleConfig()` (the paper's) when None.
        callback: called after every iteration with a `Progress`; return True to stop early.
        device: where to compute ("cpu", "cuda", "mps"); the CPU when None.
        extractor: a prebuilt `build_extractor(config, device)` to reuse across many calls.
        checkpoint: a file in which to keep the run's state so that a killed run can go on
            (``resume=True``). It is written atomically every ``checkpoint_every`` iterations
            and/or ``checkpoint_seconds`` seconds, and when the run is interrupted. A file already
            there is replaced unless resuming. It is left in place when the run ends (and is
            brought up to date when the callback stops the run), so that the caller can save the
            result first and then delete it, or resume later.
        checkpoint_every: iterations between checkpoints; None or 0: not by count.
        checkpoint_seconds: seconds between checkpoints; None or 0: not by time.
        resume: continue the run saved in ``checkpoint``; refused when its settings or input
            images differ from these.

    Raises:
        Interrupted: a KeyboardInterrupt during the run, carrying the best image so far.
        ResourceError: the device ran out of memory.
        InputError: unusable settings, images or checkpoint.

    A NaN or infinite loss or image rolls the run back to its best image and restarts the
    optimiser with half the step; after `MAX_RETRIES` such faults the run stops with
    ``failed`` set and the last good image. A NaN image is never returned.
    """
    config = config or StyleConfig()
    device = torch.device(device or "cpu")
    started = time.perf_counter()
    styles = _as_list(style)
    blend = _normalised_blend(config.style_blend, len(styles))
    content_full = _as_pil_or_tensor(content)
    styles_full = [_as_pil_or_tensor(s) for s in styles]
    plan = config.scale_plan(config.resolve_size(device.type))
    validation.check_inputs(config, plan, content_full, styles_full)
    regions = None
    if config.mask is not None:
        regions = masks.mask_regions(load_pil(config.mask), len(styles), validation.dimensions(content_full))
    validation.check_checkpoint_options(checkpoint, checkpoint_every, checkpoint_seconds, resume)

    run = _RunState(lr=_initial_lr(config))
    saver: _Checkpointer | None = None
    if checkpoint is not None:
        init = load_pil(config.init) if config.init not in ("content", "noise") else None
        identity = run_identity(config.to_dict(), plan, content_full, styles_full, blend, init)
        saver = _Checkpointer(Path(checkpoint), identity, checkpoint_every, checkpoint_seconds)
        if resume:
            run = _resumed_state(saver, plan, device)
        else:
            saver.discard()  # a file from another run must not be taken for this one's
    extractor = extractor or build_extractor(config, device)
    prepared = time.perf_counter()

    outcome: _Outcome | None = None
    content_t: torch.Tensor | None = None
    stop_reason = ""
    total_iterations = sum(
        iterations * _tile_count(config, size, validation.dimensions(content_full))
        for size, iterations in plan
    )
    try:
        for index, (size, iterations) in enumerate(plan, start=1):
            if index < run.scale:
                continue  # finished before the checkpoint we resume from
            content_t = load_image(content_full, size).to(device)
            style_ts = [load_image(s, config.style_longest_side(size)).to(device) for s in styles_full]
            target_content, style_ts = _colour_inputs(config, content_t, style_ts)
            if index != run.scale:  # a new scale, not the one a checkpoint stopped in
                if outcome is None and run.image is None:
                    start = _initial_image(config, target_content)
                else:
                    previous = outcome.image if outcome is not None else run.best_image
                    assert previous is not None
                    start = torch.nn.functional.interpolate(
                        previous, size=target_content.shape[-2:], mode="bicubic", align_corners=False
                    ).clamp(0, 1)
                run.begin_scale(index, start, _initial_lr(config))
            elif run.image is not None and run.image.shape[-2:] != target_content.shape[-2:]:
                raise InputError("the checkpoint's image does not have this run's size; start again")
            tile = config.tile_for(size)
            if tile is None:
                objective = Objective(extractor, config, target_content, style_ts, blend, regions)
                outcome = _optimise(
                    objective, config, iterations, callback, started, run, saver,
                    scales=len(plan), total_iterations=total_iterations,
                )  # fmt: skip
            else:
                outcome = _optimise_tiled(
                    extractor, config, target_content, style_ts, blend, regions, tile, iterations,
                    callback, started, run, scales=len(plan), total_iterations=total_iterations,
                )  # fmt: skip
            stop_reason = (
                outcome.stop_reason if len(plan) == 1 else f"scale {index} ({size} px): {outcome.stop_reason}"
            )
            if outcome.stopped_by_request or outcome.failed:
                break
    except KeyboardInterrupt:
        raise _interrupted(run, saver, config, plan, content_full, device, started) from None
    except Exception as exc:
        if memory.is_out_of_memory(exc):
            raise ResourceError(_out_of_memory_message(run, plan, content_full, device)) from None
        raise
    assert outcome is not None and content_t is not None
    image = _finished_image(config, outcome.image, content_t, regions)
    finished = time.perf_counter()
    return StyleResult(
        image=tensor_to_pil(image),
        tensor=image.detach().cpu(),
        config=config,
        losses=outcome.losses,
        history=list(run.history),
        iterations=len(run.history),
        stop_reason=stop_reason,
        elapsed=run.elapsed_before + finished - started,
        timings={"prepare_seconds": prepared - started, "optimise_seconds": finished - prepared},
        failed=outcome.failed,
        events=list(run.events),
    )


def _finished_image(
    config: StyleConfig, image: torch.Tensor, content: torch.Tensor, regions: torch.Tensor | None
) -> torch.Tensor:
    if config.preserve_color == "luminance":
        image = color.recombine_chroma(image, content)
    if regions is not None:
        # Where the mask is black the photo itself shows, blended over a few pixels at the edges.
        keep = masks.resize_regions(regions.to(image.device), *image.shape[-2:])[:1].unsqueeze(0)
        keep = torch.nn.functional.avg_pool2d(keep, 5, stride=1, padding=2, count_include_pad=False)
        image = image * (1 - keep) + content * keep
    return image


def _initial_lr(config: StyleConfig) -> float:
    # L-BFGS's step is scaled by its own line model; 1 is torch's and the literature's setting.
    return 1.0 if config.optimizer == "lbfgs" else config.lr


def _out_of_memory_message(
    run: _RunState, plan: list[tuple[int, int]], content: Image.Image | torch.Tensor, device: torch.device
) -> str:
    scale = max(run.scale, 1)
    w, h = scaled_size(*validation.dimensions(content), plan[scale - 1][0])
    where = f"scale {scale} of {len(plan)}, " if len(plan) > 1 else ""
    return f"ran out of memory on {device} ({where}{w}x{h} px); use a smaller size"


def _interrupted(
    run: _RunState,
    saver: _Checkpointer | None,
    config: StyleConfig,
    plan: list[tuple[int, int]],
    content: Image.Image | torch.Tensor,
    device: torch.device,
    started: float,
) -> Interrupted:
    """Checkpoint the run if it is at a point it can go on from, and wrap the best image so far."""
    elapsed = run.elapsed_before + time.perf_counter() - started
    if saver is not None and run.consistent and run.image is not None:
        try:
            saver.save(run, elapsed)
        except OSError:
            pass  # a full disk must not hide the interrupt; the previous checkpoint stays valid
    saved = saver.path if saver is not None and saver.path.is_file() else None
    if run.best_losses is None or run.best_image is None:
        return Interrupted(None, saved)
    total = sum(iterations for _, iterations in plan)
    where = f" (scale {run.scale} of {len(plan)})" if len(plan) > 1 else ""
    image = run.best_image.detach().clamp(0, 1)
    if config.preserve_color == "luminance":
        image = _finished_image(config, image, load_image(content, plan[run.scale - 1][0]).to(device))
    result = StyleResult(
        image=tensor_to_pil(image),
        tensor=image.cpu(),
        config=config,
        losses=run.best_losses,
        history=list(run.history),
        iterations=len(run.history),
        stop_reason=f"interrupted at iteration {len(run.history)} of {total}{where}",
        elapsed=elapsed,
        events=list(run.events),
    )
    return Interrupted(result, saved)


def _resumed_state(saver: _Checkpointer, plan: list[tuple[int, int]], device: torch.device) -> _RunState:
    saved = load_checkpoint(saver.path)
    mismatch = describe_mismatch(saved.identity, saver.identity)
    if mismatch:
        raise InputError(f"cannot resume from '{saver.path}': this run differs from it in {mismatch}")
    if (
        not 1 <= saved.scale <= len(plan)
        or not 0 <= saved.iteration <= min(len(saved.history), plan[saved.scale - 1][1])
        or saved.offset != len(saved.history) - saved.iteration
    ):
        raise InputError(f"checkpoint '{saver.path}' does not fit this run's scale plan")
    try:
        history = [LossBreakdown.from_dict(h) for h in saved.history]
        best = LossBreakdown.from_dict(saved.best_losses) if saved.best_losses is not None else None
    except (KeyError, TypeError, ValueError):
        raise InputError(f"checkpoint '{saver.path}' has a damaged loss history") from None
    return _RunState(
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
    iterations: int
    stop_reason: str
    stopped_by_request: bool = False
    failed: bool = False


@dataclass
class _RunState:
    """Where a run is, kept current by the loop so that an interrupt can report or checkpoint it.

    ``consistent`` is True only while the fields describe one state the loop can continue from:
    between iterations, and while the objective is being evaluated (an optimiser changes nothing
    before its closure returns). ``history`` holds every finished iteration of every scale; the
    last ``iteration`` of them are this scale's.
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

    @property
    def offset(self) -> int:
        """Iterations finished at earlier scales."""
        return len(self.history) - self.iteration

    def begin_scale(self, scale: int, start: torch.Tensor, lr: float) -> None:
        self.consistent = False
        self.scale, self.iteration, self.lr = scale, 0, lr
        self.image = start.detach().clone()
        self.best_image, self.best_total = self.image, math.inf
        self.optimizer, self.optimizer_state, self.loss_scale = None, None, None
        self.consistent = True


class _Checkpointer:
    """Writes the run's state to ``path`` when due; knows the run's identity for a resume."""

    def __init__(self, path: Path, identity: dict[str, Any], every: int | None, seconds: float | None):
        self.path = path
        self.identity = identity
        self.every = every or 0
        self.seconds = seconds or 0.0
        self.last = time.monotonic()

    def due(self, finished: int) -> bool:
        if self.every and finished % self.every == 0:
            return True
        return bool(self.seconds) and time.monotonic() - self.last >= self.seconds

    def save(self, run: _RunState, elapsed: float) -> None:
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
        ).save(self.path)
        self.last = time.monotonic()

    def discard(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise InputError(f"cannot replace the checkpoint '{self.path}': {exc.strerror}") from None


def _make_optimizer(config: StyleConfig, image: torch.Tensor, lr: float) -> torch.optim.Optimizer:
    if config.optimizer == "lbfgs":
        # One iteration per step() call, so progress and stopping are per iteration; torch keeps
        # the curvature history across calls. Tolerances are ours (see `_converged`), not torch's.
        return torch.optim.LBFGS(
            [image], lr=lr, max_iter=1, history_size=config.history_size,
            tolerance_grad=0.0, tolerance_change=0.0,
        )  # fmt: skip
    return torch.optim.Adam([image], lr=lr)


def _optimise(
    objective: Objective,
    config: StyleConfig,
    iterations: int,
    callback: Callback | None,
    started: float,
    run: _RunState,
    saver: _Checkpointer | None,
    *,
    scales: int,
    total_iterations: int,
) -> _Outcome:
    """Minimise ``objective`` from ``run.image`` (this scale's start, or where a checkpoint left
    off); return the best image seen and why it stopped. ``run`` is kept current throughout."""
    assert run.image is not None and run.best_image is not None
    image = run.image.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
    run.image = image
    optimizer = _make_optimizer(config, image, run.lr)
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
        total, terms = objective(image.clamp(0, 1))
        (total * loss_scale).backward()
        evaluated["total"], evaluated["terms"] = total.detach(), {k: v.detach() for k, v in terms.items()}
        evaluated["image"] = image.detach().clamp(0, 1)
        # The optimiser now updates its memory and the image: until the iteration is booked, the
        # run is not in a state a checkpoint could continue from.
        run.consistent = False
        return total * loss_scale

    stop_reason, stopped_by_request, failed = "", False, False
    size = (image.shape[-1], image.shape[-2])
    while True:
        if run.iteration >= iterations:
            stop_reason = f"reached {iterations} iterations"
            break
        if _converged(run.history[run.offset :], config):
            stop_reason = (
                f"converged at iteration {run.iteration}: loss fell less than "
                f"{config.tolerance:g} in {config.patience} iterations"
            )
            break
        run.optimizer.step(closure)
        current = objective.breakdown(evaluated["total"], evaluated["terms"])
        finite_image = bool(torch.isfinite(evaluated["image"]).all())
        if not (math.isfinite(current.total) and finite_image):
            run.faults += 1
            what = f"loss {current.total}" if finite_image else "NaN or infinite pixels"
            where = f"iteration {run.offset + run.iteration + 1}"
            with torch.no_grad():
                image.copy_(run.best_image)
            if run.faults > MAX_RETRIES:
                stop_reason = f"gave up after {run.faults} numerical faults ({what} at {where})"
                failed = True
                run.consistent = True
                break
            # A fresh optimiser forgets the curvature (or moments) that led here; half the step
            # keeps it from walking straight back.
            run.lr /= 2
            run.optimizer = _make_optimizer(config, image, run.lr)
            run.events.append(
                f"numerical fault at {where} ({what}): rolled back to the last good image and "
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
                elapsed=run.elapsed_before + time.perf_counter() - started,
                image=evaluated["image"],
            )
            if callback(progress):
                stop_reason = f"stopped by request at iteration {run.offset + run.iteration}"
                stopped_by_request = True
                if saver is not None:  # the caller may want to go on later (a server shutting down)
                    saver.save(run, run.elapsed_before + time.perf_counter() - started)
                break
        if saver is not None and saver.due(len(run.history)):
            saver.save(run, run.elapsed_before + time.perf_counter() - started)

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
    return _Outcome(run.best_image, run.best_losses, run.iteration, stop_reason, stopped_by_request, failed)


def _optimise_tiled(
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
    run: _RunState,
    *,
    scales: int,
    total_iterations: int,
) -> _Outcome:
    """One level too large to see whole: optimise it tile by tile (see `nst.tiling`).

    Each tile starts from the picture as its neighbours left it and matches the whole level's
    style statistics; it is pasted back feathered across the overlap. Tiled levels are not
    checkpointed (an interrupt keeps the previous level's image).
    """
    assert run.image is not None
    canvas = run.image.detach().clone()
    grams = compute_style_grams(extractor, config, styles, tile)
    h, w = canvas.shape[-2:]
    level_regions = masks.resize_regions(regions.to(canvas.device), h, w) if regions is not None else None
    overlap = tiling.overlap_for(tile)
    history = list(run.history)
    outcome: _Outcome | None = None
    run.consistent = False  # the level's state lives in the tiles until the last is pasted
    for top, left, bottom, right in tiling.tile_boxes(h, w, tile, overlap):
        window = (..., slice(top, bottom), slice(left, right))
        part = _RunState(lr=_initial_lr(config), history=history)
        part.begin_scale(run.scale, canvas[window], _initial_lr(config))
        objective = Objective(
            extractor, config, content[window], [], blend,
            level_regions[window] if level_regions is not None else None, style_grams=grams,
        )  # fmt: skip
        outcome = _optimise(
            objective, config, iterations, callback, started, part, None,
            scales=scales, total_iterations=total_iterations,
        )  # fmt: skip
        tiling.paste(canvas, outcome.image, (top, left, bottom, right), overlap)
        history = part.history
        if outcome.stopped_by_request or outcome.failed:
            break
    assert outcome is not None
    run.history[:] = history
    run.iteration = iterations
    run.image = run.best_image = canvas
    run.best_losses = outcome.losses
    return _Outcome(canvas, outcome.losses, outcome.iterations, outcome.stop_reason,
                    outcome.stopped_by_request, outcome.failed)  # fmt: skip


def _tile_count(config: StyleConfig, size: int, dimensions: tuple[int, int]) -> int:
    """How many tiles a level of this longest side is optimised in (1: whole)."""
    tile = config.tile_for(size)
    if tile is None:
        return 1
    width, height = scaled_size(*dimensions, size)
    return len(tiling.tile_boxes(height, width, tile, tiling.overlap_for(tile)))


def _converged(history: list[LossBreakdown], config: StyleConfig) -> bool:
    """True when the total loss fell by less than ``tolerance`` (relative) over ``patience`` iterations."""
    if config.tolerance <= 0 or len(history) <= config.patience:
        return False
    before, now = history[-1 - config.patience].total, history[-1].total
    return before > 0 and (before - now) / before < config.tolerance
