"""The `nst` command line. The only module that prints. It calls the public API and nothing deeper.

Exit codes: 0 success, 1 unexpected failure, 2 bad input or usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import math
import os
import resource
import shlex
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import nst
from nst.config import PRESETS, StyleConfig

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULTS = StyleConfig()
#: `nst demo`'s style scale unless --style-scale or --style-size is given (see `cmd_demo`).
DEMO_STYLE_SCALE = 0.5


class UsageError(Exception):
    """Raised by the parser instead of argparse's own exit, so every error looks the same."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Exact option names only: `given_options` relies on it, and abbreviations surprise.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _csv(kind: Callable[[str], Any], name: str) -> Callable[[str], tuple[Any, ...]]:
    def parse(text: str) -> tuple[Any, ...]:
        items = [item.strip() for item in text.split(",")]
        if not text.strip() or any(not item for item in items):
            raise argparse.ArgumentTypeError(f"{name} needs a comma-separated list, got {text!r}")
        try:
            return tuple(kind(item) for item in items)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} has a value that is not a number: {text!r}") from None

    return parse


def _number(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None

    return parse


def checkpoint_interval(text: str) -> tuple[int, float]:
    """``--checkpoint-every``: '25' -> every 25 iterations, '90s' or '5m' -> every 90 or 300 s;
    '0' -> only when interrupted. Returns (iterations, seconds), 0 meaning "not by this"."""
    value = text.strip().lower()
    try:
        if value.endswith(("s", "m")):
            seconds = float(value[:-1]) * (60.0 if value.endswith("m") else 1.0)
            if not math.isfinite(seconds) or seconds < 0:
                raise ValueError
            return 0, seconds
        iterations = int(value)
        if iterations < 0:
            raise ValueError
        return iterations, 0.0
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"needs iterations (25), seconds (60s) or minutes (5m), got {text!r}"
        ) from None


def add_style_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that stylizes; defaults come from `StyleConfig`."""
    d = DEFAULTS
    g = parser.add_argument_group("style transfer settings (defaults: the paper's)")
    g.add_argument(
        "--size",
        type=_number(int),
        default=d.size,
        help="longest side of the output in px (default: 512 on a GPU, 128 on the CPU)",
    )
    g.add_argument(
        "--iterations",
        type=_number(int),
        default=d.iterations,
        help=f"most iterations per scale; stops earlier on convergence (default: {d.iterations})",
    )
    g.add_argument(
        "--content-weight",
        type=_number(float),
        default=d.content_weight,
        help=f"alpha, weight of the content loss (default: {d.content_weight:g})",
    )
    g.add_argument(
        "--style-weight",
        type=_number(float),
        default=d.style_weight,
        help=f"beta, weight of the style loss (default: {d.style_weight:g})",
    )
    g.add_argument(
        "--content-layers",
        type=_csv(str, "--content-layers"),
        default=d.content_layers,
        help=f"comma-separated (default: {','.join(d.content_layers)}; see 'nst layers')",
    )
    g.add_argument(
        "--style-layers",
        type=_csv(str, "--style-layers"),
        default=d.style_layers,
        help=f"comma-separated (default: {','.join(d.style_layers)})",
    )
    g.add_argument(
        "--content-layer-weights",
        type=_csv(float, "--content-layer-weights"),
        default=d.content_layer_weights,
        help="one per content layer (default: all 1)",
    )
    g.add_argument(
        "--style-layer-weights",
        type=_csv(float, "--style-layer-weights"),
        default=d.style_layer_weights,
        help="one per style layer (default: all 1)",
    )
    g.add_argument(
        "--tv-weight",
        type=_number(float),
        default=d.tv_weight,
        help=f"total-variation smoothing weight against pixel-scale speckle (default: {d.tv_weight:g}; the paper has none: 0)",
    )
    g.add_argument(
        "--pooling",
        choices=("avg", "max"),
        default=d.pooling,
        help=f"VGG pooling (default: {d.pooling}, as the paper recommends)",
    )
    g.add_argument(
        "--optimizer", choices=("lbfgs", "adam"), default=d.optimizer, help=f"(default: {d.optimizer})"
    )
    g.add_argument(
        "--lr",
        type=_number(float),
        default=d.lr,
        help=f"Adam's step size in [0,1] pixel units (default: {d.lr:g})",
    )
    g.add_argument(
        "--init", default=d.init, help=f"start from 'content', 'noise' or an image path (default: {d.init})"
    )
    g.add_argument("--seed", type=_number(int), default=d.seed, help=f"random seed (default: {d.seed})")
    g.add_argument(
        "--tolerance",
        type=_number(float),
        default=d.tolerance,
        help=f"stop when the loss fell less than this fraction in --patience iterations; "
        f"0 never stops early (default: {d.tolerance:g})",
    )
    g.add_argument(
        "--history-size",
        type=_number(int),
        default=d.history_size,
        help=f"L-BFGS memory: how many past steps shape the next (default: {d.history_size})",
    )
    g.add_argument("--patience", type=_number(int), default=d.patience, help=f"(default: {d.patience})")
    g.add_argument(
        "--weights",
        default=d.weights,
        help="vgg19-caffe (built in), vgg19-torchvision (downloaded once) or a .pth/"
        f".safetensors path (default: {d.weights})",
    )
    g = parser.add_argument_group("beyond the paper")
    g.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        help="start from a documented set of settings (README 'Presets'); options you give override it",
    )
    g.add_argument(
        "--scales",
        type=_number(int),
        default=d.scales,
        help="coarse-to-fine pyramid levels ending at --size; 1 is the paper's single scale "
        "(default: auto, a ladder from about 90 px)",
    )
    g.add_argument(
        "--scale-ratio",
        type=_number(float),
        default=d.scale_ratio,
        help=f"size ratio between pyramid levels (default: {d.scale_ratio:.4g})",
    )
    g.add_argument(
        "--scale-iterations",
        type=_csv(int, "--scale-iterations"),
        default=d.scale_iterations,
        help="iterations per level, coarsest first; needs --scales (default: auto: 150, 80, then 40 per level)",
    )
    g.add_argument(
        "--style-scale",
        type=_number(float),
        default=d.style_scale,
        help=f"style image size relative to the output; smaller means finer strokes (default: {d.style_scale:g})",
    )
    g.add_argument(
        "--style-size",
        type=_number(int),
        default=d.style_size,
        help="style image longest side in px (overrides --style-scale)",
    )
    g.add_argument(
        "--style-blend",
        type=_csv(float, "--style-blend"),
        default=d.style_blend,
        help="weights of several style images, e.g. 0.7,0.3 (default: equal)",
    )
    g.add_argument(
        "--preserve-color",
        choices=("none", "luminance", "histogram"),
        default=d.preserve_color,
        help=f"keep the photo's colours (default: {d.preserve_color})",
    )
    g.add_argument(
        "--tile-size",
        type=_number(int),
        default=d.tile_size,
        help="optimise levels larger than this in overlapping tiles, bounding memory "
        "(default: auto: 1024 px tiles above 2048 px)",
    )
    g.add_argument(
        "--mask",
        default=d.mask,
        metavar="MASK.png",
        help="spatial control: white, red, green, blue, yellow, cyan, magenta parts take the "
        "1st, 2nd, ... style; black keeps the photo",
    )
    add_device_option(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def add_device_option(parser: argparse.ArgumentParser, what: str = "where to compute") -> None:
    """``--device auto|cpu|cuda|mps`` (resolved by `resolve_device`)."""
    parser.add_argument(
        "--device",
        default="auto",
        choices=("auto", "cpu", "cuda", "mps"),
        help=f"{what} (default: auto: cuda, then mps, then cpu)",
    )


def config_from_args(args: argparse.Namespace) -> StyleConfig:
    """The `StyleConfig` named by parsed options (validated).

    With ``--preset``, the preset's settings replace the defaults and options given on the
    command line (recorded by `main` in ``args.given``) replace the preset's.
    """
    names = {f.name for f in dataclasses.fields(StyleConfig)}
    given = getattr(args, "given", None)
    preset = getattr(args, "preset", None)
    base = StyleConfig.preset(preset) if preset else StyleConfig()
    changes = {k: v for k, v in vars(args).items() if k in names and (given is None or k in given)}
    return base.with_changes(**changes)


def given_options(argv: Sequence[str]) -> set[str]:
    """Destinations of the long options present in ``argv`` (``--style-weight 5`` -> style_weight)."""
    return {a[2:].split("=", 1)[0].replace("-", "_") for a in argv if a.startswith("--")}


def resolve_device(name: str) -> str:
    """'auto' -> the best device present; an explicit device must exist."""
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise nst.InputError("--device cuda: no CUDA GPU is available here")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise nst.InputError("--device mps: Apple's MPS is not available here")
    return name


def check_output(path: Path, overwrite: bool) -> None:
    """Refuse an output we could not write, or would overwrite without being asked to."""
    nst.image.output_format(path)
    if path.is_dir():
        raise nst.InputError(f"output '{path}' is a directory")
    if not path.parent.is_dir():
        raise nst.InputError(f"output folder '{path.parent}' does not exist")
    if not os.access(path.parent, os.W_OK):
        raise nst.InputError(f"no permission to write in '{path.parent}'")
    # Try for real: permissions say nothing about a read-only file system, and root passes them.
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
        os.close(fd)
        os.unlink(probe)
        exists = path.exists()
    except OSError as exc:
        raise nst.InputError(f"cannot write '{path}': {exc.strerror or exc}") from None
    if exists and not overwrite:
        raise nst.InputError(f"output '{path}' already exists (use --overwrite to replace it)")


def peak_memory_mb(device: str) -> float:
    """Peak memory of this process so far: resident set on the CPU, allocator peak on a GPU."""
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def cmd_stylize(args: argparse.Namespace) -> int:
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
        nst.memory.check_fits(config, content.size, device, styles=len(styles))
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
        _remove_quietly(checkpoint)  # resuming would meet the same fault
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
    _remove_quietly(checkpoint)
    if resume:
        _remove_quietly(partial)
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
        _write_text_atomically(report, json.dumps(data, indent=2))
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


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _write_text_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise


def cmd_demo(args: argparse.Namespace) -> int:
    """`nst stylize` on inputs every install has: matplotlib's sample photo and a painting made here."""
    from nst.demo import demo_content_path, painted_style

    output = Path(args.output)
    style_path = output.with_name(f"{output.stem}-style.png")
    check_output(output, args.overwrite)
    check_output(style_path, args.overwrite)
    nst.save_image(painted_style(), style_path, {"made_by": "nst demo"})
    args.content, args.style = str(demo_content_path()), [str(style_path)]
    given = getattr(args, "given", None)
    if given is not None and not {"style_scale", "style_size"} & given:
        # At the output's size the painted stars are as large as the face and swallow it; at
        # half size they read as stars and the portrait stays recognisable (judged at 128 px).
        args.style_scale = DEMO_STYLE_SCALE
        given.add("style_scale")
    if not args.quiet:
        print(f"painting {args.content} in the style of {style_path}", file=sys.stderr)
    return cmd_stylize(args)


def cmd_info(args: argparse.Namespace) -> int:
    data = nst.read_metadata(args.image)
    if data is None:
        raise nst.InputError(f"'{args.image}' carries no nst settings")
    print(json.dumps(data, indent=2, sort_keys=True))
    return EXIT_OK


def cmd_layers(args: argparse.Namespace) -> int:
    for name in nst.LAYER_NAMES:
        marks = []
        if name in DEFAULTS.content_layers:
            marks.append("content (default)")
        if name in DEFAULTS.style_layers:
            marks.append("style (default)")
        print(f"{name:9s} {', '.join(marks)}".rstrip())
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nst", description="Neural style transfer (Gatys et al. 2015), offline.", allow_abbrev=False
    )
    parser.add_argument("--version", action="version", version=f"nst {nst.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("stylize", help="paint a photo in the style of an artwork")
    p.add_argument("content", help="the photo (any image Pillow reads)")
    p.add_argument("style", nargs="+", help="the artwork")
    p.add_argument("-o", "--output", required=True, help="output file: .png (default), .jpg, .webp, .tif")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument(
        "--save-every",
        type=_number(int),
        default=0,
        metavar="N",
        help="also save the image every N iterations (OUT.iterNNNNN.png)",
    )
    p.add_argument(
        "--report",
        metavar="PATH",
        help="write JSON: settings, loss history, timings, stop reason, peak memory",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run from its checkpoint OUT.ckpt (same inputs and settings)",
    )
    p.add_argument(
        "--checkpoint-every",
        type=checkpoint_interval,
        default=(0, 60.0),
        metavar="N|Ns|Nm",
        help="save the run's state (OUT.ckpt) every N iterations, N seconds or N minutes, and when "
        "interrupted; 0: only when interrupted (default: 60s)",
    )
    add_style_options(p)
    p.set_defaults(run=cmd_stylize)

    p = sub.add_parser("demo", help="stylize a bundled photo with a bundled painting (no files needed)")
    p.add_argument("-o", "--output", default="painted.png", help="output file (default: painted.png)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--save-every", type=_number(int), default=0, metavar="N", help=argparse.SUPPRESS)
    p.add_argument("--report", metavar="PATH", help="write a JSON report (as for stylize)")
    add_style_options(p)
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser("info", help="print the settings stored in an image nst made")
    p.add_argument("image")
    p.set_defaults(run=cmd_info)

    p = sub.add_parser("layers", help="list VGG-19 layer names")
    p.set_defaults(run=cmd_layers)

    from nst.experiments.cli import add_commands as add_experiment_commands  # sweep, grid

    add_experiment_commands(sub)

    from nst.web.serve import add_serve_options, cmd_serve  # argparse only; FastAPI loads on use

    p = sub.add_parser("serve", help="web app and REST API in the browser (needs the 'web' extra)")
    add_serve_options(p)
    p.set_defaults(run=cmd_serve)
    return parser


def _is_out_of_memory(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, MemoryError) or (
        isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)
    )


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _handle_sigterm() -> Any:
    """SIGTERM (kill, a closing session, a scheduler) stops a run like Ctrl-C: cleanly, with a
    partial image and a checkpoint. Returns the previous handler, or None when it was left alone
    (not the main thread, or an embedding program has its own)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None
    return signal.signal(signal.SIGTERM, _raise_interrupt)


def main(argv: Sequence[str] | None = None) -> int:
    previous_sigterm = _handle_sigterm()
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        args = build_parser().parse_args(argv)
        args.given = given_options(argv)
        args.argv = argv
        with warnings.catch_warnings():
            # Pillow warns about odd tags in files it still reads; the user cannot act on that,
            # and it would break the one-line promise of every message.
            warnings.filterwarnings("ignore", category=UserWarning, module="PIL")
            return args.run(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except nst.InputError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except nst.NSTError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_FAILURE
    except (MemoryError, RuntimeError) as exc:
        if not _is_out_of_memory(exc):
            raise
        print("error: out of memory; try a smaller --size", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        # `nst info x.png | head`: the reader left; stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except OSError as exc:
        # A disk that fills up or goes away mid-run: say so in one line, not a traceback.
        where = f" '{exc.filename}'" if exc.filename else ""
        print(f"error: cannot read or write{where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)


if __name__ == "__main__":
    sys.exit(main())
