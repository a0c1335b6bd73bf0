"""One stylization, end to end: inputs, the pyramid of sizes, colour and masks, the result.

`transfer_style` is the whole pipeline; `stylize` returns just the picture. It prepares each
pyramid level (content and style at that size, colour control, the start image) and hands it to
the loop in `nst.optimise.loop`. The library never prints: each iteration is reported to ``callback``
as a frozen `Progress`, and a callback that returns True stops the run (the result keeps the best
image so far).

Long runs survive: with a checkpoint file the loop saves its whole state atomically every so
often and when interrupted, and ``resume=True`` continues it (see `nst.optimise.checkpoint`). A
KeyboardInterrupt becomes `Interrupted`, which carries the best image so far.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from nst import color
from nst.errors import InputError, ResourceError
from nst.image import ImageSource, load_image, load_pil, scaled_size, tensor_to_pil
from nst.optimise import masks, memory, validation
from nst.optimise import start as starts
from nst.optimise.checkpoint import run_identity
from nst.optimise.config import StyleConfig
from nst.optimise.loop import optimise, optimise_tiled, tile_count
from nst.optimise.objective import LossBreakdown, Objective
from nst.optimise.run_state import Callback, Checkpointer, Outcome, RunState, initial_lr, resumed_state
from nst.vgg.features import VGG19Features
from nst.vgg.weights import load_weights


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
    ``checkpoint_iterations`` is how many iterations that file has finished, and ``stale`` says why
    it is behind the result when it could not be brought up to date (None when it is current).
    """

    def __init__(
        self,
        result: StyleResult | None,
        checkpoint: Path | None,
        checkpoint_iterations: int | None = None,
        stale: str | None = None,
    ) -> None:
        super().__init__(
            result.stop_reason if result is not None else "interrupted before the first iteration"
        )
        self.result = result
        self.checkpoint = checkpoint
        self.checkpoint_iterations = checkpoint_iterations
        self.stale = stale


StyleSources = ImageSource | Sequence[ImageSource]


def build_extractor(config: StyleConfig, device: torch.device | str = "cpu") -> VGG19Features:
    """The frozen VGG-19 trunk for ``config``'s weights, pooling and layers, on ``device``
    (what `StyleConfig.extractor_key` names, so callers that keep networks can share them)."""
    weights = load_weights(config.weights)
    layers = config.feature_layers
    return VGG19Features(weights, layers, pooling=config.pooling).to(device)


def _as_list(style: StyleSources) -> list[ImageSource]:
    if isinstance(style, (list, tuple)):
        if not style:
            raise InputError("at least one style image is needed")
        return list(style)
    return [style]  # type: ignore[list-item]


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
        config: settings; None: nst's defaults, `StyleConfig()` (coarse to fine, with the deviations
            docs/method.md lists); `StyleConfig.preset("paper")` is the paper's.
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
    dimensions = validation.dimensions(content_full)
    regions = None
    if config.init_model is not None:  # an unknown model fails now, not after loading VGG
        from nst.models.registry import resolve_model

        resolve_model(config.init_model)
    if config.mask is not None:
        regions = masks.mask_regions(load_pil(config.mask), len(styles), dimensions)
    validation.check_checkpoint_options(checkpoint, checkpoint_every, checkpoint_seconds, resume)

    tiles = [tile_count(config, size, dimensions) for size, _ in plan]
    total_iterations = sum(iterations * count for (_, iterations), count in zip(plan, tiles, strict=True))
    run = RunState(lr=initial_lr(config))
    saver: Checkpointer | None = None
    if checkpoint is not None:
        init = load_pil(config.init) if config.init_is_image else None
        identity = run_identity(config.to_dict(), plan, content_full, styles_full, blend, init)
        saver = Checkpointer(Path(checkpoint), identity, checkpoint_every, checkpoint_seconds)
        if resume:
            run = resumed_state(saver, plan, tiles, device)
        else:
            saver.discard()  # a file from another run must not be taken for this one's
    extractor = extractor or build_extractor(config, device)
    prepared = time.perf_counter()

    outcome: Outcome | None = None
    content_t: torch.Tensor | None = None
    stop_reason = ""
    try:
        for index, (size, iterations) in enumerate(plan, start=1):
            if index < run.scale:
                continue  # finished before the checkpoint we resume from
            content_t = load_image(content_full, size).to(device)
            style_side = config.style_longest_side(size, plan[-1][0])
            style_ts = [load_image(s, style_side).to(device) for s in styles_full]
            # The objective of this level (alpha and the style layer weights may differ at coarse
            # levels); the loop's other settings are the run's.
            level_config = config.at_level(index, len(plan))
            target_content, style_ts = _colour_inputs(config, content_t, style_ts)
            if index != run.scale:  # a new scale, not the one a checkpoint stopped in
                if outcome is None and run.image is None:
                    painted = starts.painted_start(config, content_full, styles_full, blend, plan[-1][0], device)
                    start = starts.initial_image(config, target_content, painted)
                else:
                    previous = outcome.image if outcome is not None else run.best_image
                    assert previous is not None
                    start = starts.next_level_start(previous, target_content)
                run.begin_scale(index, start, initial_lr(config))
            elif run.image is not None and run.image.shape[-2:] != target_content.shape[-2:]:
                raise InputError("the checkpoint's image does not have this run's size; start again")
            tile = config.tile_for(size)
            if tile is None:
                objective = Objective(extractor, level_config, target_content, style_ts, blend, regions)
                outcome = optimise(
                    objective, config, iterations, callback, started, run, saver,
                    scales=len(plan), total_iterations=total_iterations,
                )  # fmt: skip
            else:
                outcome = optimise_tiled(
                    extractor, level_config, target_content, style_ts, blend, regions, tile, iterations,
                    callback, started, run, saver, scales=len(plan), total_iterations=total_iterations,
                )  # fmt: skip
            stop_reason = (
                outcome.stop_reason if len(plan) == 1 else f"scale {index} ({size} px): {outcome.stop_reason}"
            )
            if outcome.stopped_by_request or outcome.failed:
                break
    except KeyboardInterrupt:
        raise _interrupted(
            run, saver, config, plan, total_iterations, content_full, device, started
        ) from None
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


def _out_of_memory_message(
    run: RunState, plan: list[tuple[int, int]], content: Image.Image | torch.Tensor, device: torch.device
) -> str:
    scale = max(run.scale, 1)
    w, h = scaled_size(*validation.dimensions(content), plan[scale - 1][0])
    where = f"scale {scale} of {len(plan)}, " if len(plan) > 1 else ""
    return f"ran out of memory on {device} ({where}{w}x{h} px); use a smaller size"


def _interrupted(
    run: RunState,
    saver: Checkpointer | None,
    config: StyleConfig,
    plan: list[tuple[int, int]],
    total_iterations: int,
    content: Image.Image | torch.Tensor,
    device: torch.device,
    started: float,
) -> Interrupted:
    """Checkpoint the run if it is at a point it can go on from, and wrap the best image so far.

    Where it is not (the interrupt came in the middle of an optimiser step, or of a tile) or
    the file cannot be written, the previous checkpoint stays valid and the exception says how far
    behind it is, so that nobody is told to resume without knowing what a resume repeats."""
    elapsed = run.elapsed(started)
    stale = None
    if saver is not None and run.image is not None:
        if run.consistent:
            try:
                saver.save(run, elapsed)
            except OSError as exc:  # a full disk must not hide the interrupt
                stale = f"it could not be updated: {exc.strerror or exc}"
        else:
            stale = "the run stopped where it cannot be saved: inside an optimiser step or a tile"
    saved = saver.path if saver is not None and saver.path.is_file() else None
    done = saver.saved_iterations if saved is not None and saver is not None else None
    if done is not None and done >= len(run.history):
        stale = None
    if run.best_losses is None or run.best_image is None:
        return Interrupted(None, saved, done, stale)
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
        stop_reason=f"interrupted at iteration {len(run.history)} of {total_iterations}{where}",
        elapsed=elapsed,
        events=list(run.events),
    )
    return Interrupted(result, saved, done, stale)


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
        # Clamped: a style with colours no image can have (12% of The Scream's pixels after
        # matching to brad_pitt) sets Gram targets the clamped output chases with saturated streaks.
        return content, [color.match_color_histogram(s, content).clamp(0, 1) for s in styles]
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
