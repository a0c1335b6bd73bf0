"""One optimisation from the command line (`nst stylize PHOTO PAINTING`, `nst demo --optimise`):
the checks before any slow work, a progress bar, checkpoints, and a partial image when stopped."""

from __future__ import annotations

import argparse
import glob
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nst
from nst.atomic import remove_quietly
from nst.cli.options import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    check_output,
    peak_memory_mb,
    resolve_device,
    write_text_atomically,
)
from nst.cli.settings import config_from_args


class ProgressPrinter:
    """A tqdm bar with the loss and ETA; also writes intermediate images every N iterations."""

    def __init__(self, total: int, quiet: bool, save_every: int, output: Path, metadata: dict[str, Any]):
        from tqdm import tqdm

        self.bar = None if quiet else tqdm(total=total, unit="it", dynamic_ncols=True, file=sys.stderr)
        self.save_every = save_every
        self.output = output
        self.metadata = metadata

    def __call__(self, progress: nst.Progress) -> None:
        if self.bar is not None:
            if self.bar.total != progress.max_iterations:  # tiled levels add iterations
                self.bar.total = progress.max_iterations
            self.bar.update(progress.iteration - self.bar.n)  # a resumed run starts mid-way
            loss = progress.losses
            self.bar.set_postfix_str(
                f"loss {loss.total:.4g} (content {loss.content:.3g}, style {loss.style:.3g})", refresh=False
            )
        if self.save_every and progress.iteration % self.save_every == 0:
            step = self.output.with_name(
                f"{self.output.stem}.iter{progress.iteration:05d}{self.output.suffix}"
            )
            nst.save_image(progress.image, step, {**self.metadata, "iteration": progress.iteration})

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def partial_path(output: Path) -> Path:
    """Where an interrupted or failed run leaves its best image so far: OUT.partial.EXT."""
    return output.with_name(f"{output.stem}.partial{output.suffix}")


def checkpoint_path(output: Path) -> Path:
    """Where a run keeps its state while it is unfinished: OUT.ckpt beside the output."""
    return output.with_name(f"{output.stem}.ckpt")


def resume_command(argv: Sequence[str]) -> str:
    """The command line that continues the run started by ``nst argv``."""
    return shlex.join(["nst", *argv] + ([] if "--resume" in argv else ["--resume"]))


def _check_side_files(args: argparse.Namespace, output: Path, replace: bool, resumable: bool) -> None:
    """The files a run writes beside its output follow the output's rule: never replaced unasked."""
    checkpoint, partial = checkpoint_path(output), partial_path(output)
    if getattr(args, "resume", False) and not checkpoint.is_file():
        raise nst.InputError(
            f"nothing to resume: there is no checkpoint '{checkpoint}' (a run deletes it when it finishes)"
        )
    if not replace:
        for leftover in (checkpoint, partial):
            if leftover.exists():
                advice = "add --resume to continue it, or " if resumable and leftover == checkpoint else ""
                raise nst.InputError(
                    f"'{leftover}' is left from an interrupted run: {advice}use --overwrite to start again"
                )
    if args.save_every and not replace:
        pattern = f"{glob.escape(output.stem)}.iter*{glob.escape(output.suffix)}"
        existing = sorted(output.parent.glob(pattern))
        if existing:
            raise nst.InputError(
                f"'{existing[0]}' already exists (use --overwrite to replace the --save-every images)"
            )


def _same_file(a: str | Path, b: Path) -> bool:
    try:
        return Path(a).exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def optimise(args: argparse.Namespace) -> int:
    """Paint ``args.content`` in the style of ``args.style`` (one or more paintings) with the settings
    the options name; save the picture, its report, checkpoints and a partial image when stopped."""
    config = config_from_args(args)
    output = Path(args.output)
    # `nst demo` has no --resume: only `nst stylize` keeps a checkpoint.
    resumable = hasattr(args, "resume")
    resume = bool(getattr(args, "resume", False))
    every, seconds = getattr(args, "checkpoint_every", (0, 0.0))
    # A resume continues this output's own run, so its output, partial image and checkpoint are ours.
    replace = args.overwrite or resume
    check_output(output, replace)
    _check_side_files(args, output, replace, resumable)
    report = Path(args.report) if args.report else None
    if report is not None:
        if not report.parent.is_dir():
            raise nst.InputError(f"report folder '{report.parent}' does not exist")
        if report.is_dir():
            raise nst.InputError(f"report '{report}' is a directory")
        if report.resolve() == output.resolve():
            raise nst.InputError(f"the report and the output are the same file '{report}'")
        if report.exists() and not args.overwrite:
            raise nst.InputError(f"report '{report}' already exists (use --overwrite to replace it)")
    if args.save_every < 0:
        raise nst.InputError(f"--save-every must be >= 0, got {args.save_every}")
    for source in [args.content, *args.style]:
        if _same_file(source, output):
            raise nst.InputError(f"the output '{output}' is one of the input images")
    # Read the inputs before any slow work, so a bad file fails in a second, not after loading VGG.
    content = nst.image.load_pil(args.content)
    styles = [nst.image.load_pil(s) for s in args.style]
    device = resolve_device(args.device)
    try:
        nst.check_fits(config, content.size, device, styles=len(styles))
    except nst.ResourceError as exc:
        raise nst.InputError(str(exc)) from None
    metadata = {
        "settings": config.to_dict(),
        "version": nst.__version__,
        "content": str(args.content),
        "style": [str(s) for s in args.style],
        "device": device,
    }
    checkpoint, partial = checkpoint_path(output), partial_path(output)
    total = sum(iterations for _, iterations in config.scale_plan(config.resolve_size(device)))
    printer = ProgressPrinter(total, args.quiet, args.save_every, output, metadata)
    try:
        result = nst.transfer_style(
            content, styles, config, callback=printer, device=device,
            checkpoint=checkpoint if resumable else None, checkpoint_every=every,
            checkpoint_seconds=seconds, resume=resume,
        )  # fmt: skip
    except nst.Interrupted as stop:
        printer.close()
        return _report_interrupt(stop, getattr(args, "argv", None), partial, metadata)
    finally:
        printer.close()
    if result.failed:
        # Never pass off a run that gave up as finished: its last good image is kept as partial.
        nst.save_image(
            result.image, partial, {**metadata, "partial": True, "stop_reason": result.stop_reason}
        )
        remove_quietly(checkpoint)  # resuming would meet the same fault
        print(f"error: {result.stop_reason}; the last good image is in {partial}", file=sys.stderr)
        return EXIT_FAILURE
    size = result.image.size
    metadata.update(
        size=list(size),
        iterations=result.iterations,
        stop_reason=result.stop_reason,
        final_losses=result.losses.to_dict(),
    )
    nst.save_image(result.image, output, metadata)
    # The run is complete: its checkpoint, and a resumed run's partial image, are obsolete.
    remove_quietly(checkpoint)
    if resume:
        remove_quietly(partial)
    if report is not None:
        data = result.to_report()
        data.update(
            content=metadata["content"],
            style=metadata["style"],
            device=device,
            version=nst.__version__,
            peak_memory_mb=peak_memory_mb(device),
            output=str(output),
        )
        write_text_atomically(report, json.dumps(data, indent=2))
    if not args.quiet:
        for event in result.events:
            print(f"warning: {event}", file=sys.stderr)
        print(
            f"wrote {output} ({size[0]}x{size[1]}) after {result.iterations} iterations in "
            f"{result.elapsed:.1f} s: {result.stop_reason}; final loss {result.losses.total:.4g} "
            f"(content {result.losses.content:.4g}, style {result.losses.style:.4g})",
            file=sys.stderr,
        )
    return EXIT_OK


def _report_interrupt(
    stop: nst.Interrupted, argv: Sequence[str] | None, partial: Path, metadata: dict[str, Any]
) -> int:
    """Keep the best image so far and say, in one line, how to go on."""
    parts = []
    if stop.result is not None:
        info = {**metadata, "partial": True, "iterations": stop.result.iterations}
        nst.save_image(stop.result.image, partial, {**info, "stop_reason": stop.result.stop_reason})
        parts.append(f"{stop.result.stop_reason}; best image so far in {partial}")
    else:
        parts.append("interrupted before the first iteration")
    if stop.checkpoint is not None and argv is not None:
        if stop.stale is not None and stop.checkpoint_iterations is not None:
            parts.append(f"the checkpoint holds iteration {stop.checkpoint_iterations} ({stop.stale})")
        parts.append(f"resume with: {resume_command(argv)}")
    else:
        parts.append("no checkpoint was kept, so it cannot be resumed")
    print("; ".join(parts), file=sys.stderr)
    return EXIT_INTERRUPTED
