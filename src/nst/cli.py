"""The `nst` command line. The only module that prints. It calls the public API and nothing deeper.

Exit codes: 0 success, 1 unexpected failure, 2 bad input or usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import nst
from nst.config import StyleConfig

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULTS = StyleConfig()


class UsageError(Exception):
    """Raised by the parser instead of argparse's own exit, so every error looks the same."""


class _Parser(argparse.ArgumentParser):
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
            raise argparse.ArgumentTypeError(f"not a {kind.__name__}: {text!r}") from None

    return parse


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
        help=f"most iterations; stops earlier on convergence (default: {d.iterations})",
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
        help=f"total-variation smoothing weight (default: {d.tv_weight:g}, the paper has none)",
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
    g.add_argument("--patience", type=_number(int), default=d.patience, help=f"(default: {d.patience})")
    g.add_argument(
        "--weights",
        default=d.weights,
        help="vgg19-caffe (built in), vgg19-torchvision (downloaded once) or a .pth/"
        f".safetensors path (default: {d.weights})",
    )
    g = parser.add_argument_group("beyond the paper")
    g.add_argument(
        "--scales",
        type=_number(int),
        default=d.scales,
        help=f"coarse-to-fine pyramid levels ending at --size (default: {d.scales}, the paper's single scale)",
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
        help="iterations per level, coarsest first (default: --iterations at each)",
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
    parser.add_argument(
        "--device",
        default="auto",
        choices=("auto", "cpu", "cuda", "mps"),
        help="where to compute (default: auto: cuda, then mps, then cpu)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def config_from_args(args: argparse.Namespace) -> StyleConfig:
    """The `StyleConfig` named by parsed options (validated)."""
    names = {f.name for f in dataclasses.fields(StyleConfig)}
    return StyleConfig(**{k: v for k, v in vars(args).items() if k in names})


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
    if path.exists() and not overwrite:
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
            self.bar.update(1)
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


def cmd_stylize(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    output = Path(args.output)
    check_output(output, args.overwrite)
    report = Path(args.report) if args.report else None
    if report is not None:
        if not report.parent.is_dir():
            raise nst.InputError(f"report folder '{report.parent}' does not exist")
        if report.exists() and not args.overwrite:
            raise nst.InputError(f"report '{report}' already exists (use --overwrite to replace it)")
    if args.save_every < 0:
        raise nst.InputError(f"--save-every must be >= 0, got {args.save_every}")
    # Read the inputs before any slow work, so a bad file fails in a second, not after loading VGG.
    content = nst.image.load_pil(args.content)
    styles = [nst.image.load_pil(s) for s in args.style]
    device = resolve_device(args.device)
    metadata = {
        "settings": config.to_dict(),
        "version": nst.__version__,
        "content": str(args.content),
        "style": [str(s) for s in args.style],
        "device": device,
    }
    total = sum(iterations for _, iterations in config.scale_plan(config.resolve_size(device)))
    printer = ProgressPrinter(total, args.quiet, args.save_every, output, metadata)
    try:
        result = nst.transfer_style(content, styles, config, callback=printer, device=device)
    finally:
        printer.close()
    size = result.image.size
    metadata.update(
        size=list(size),
        iterations=result.iterations,
        stop_reason=result.stop_reason,
        final_losses=result.losses.to_dict(),
    )
    nst.save_image(result.image, output, metadata)
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
        print(
            f"wrote {output} ({size[0]}x{size[1]}) after {result.iterations} iterations in "
            f"{result.elapsed:.1f} s: {result.stop_reason}; final loss {result.losses.total:.4g} "
            f"(content {result.losses.content:.4g}, style {result.losses.style:.4g})",
            file=sys.stderr,
        )
    return EXIT_OK


def _write_text_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text)
    os.replace(tmp, path)


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
    parser = _Parser(prog="nst", description="Neural style transfer (Gatys et al. 2015), offline.")
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
    add_style_options(p)
    p.set_defaults(run=cmd_stylize)

    p = sub.add_parser("info", help="print the settings stored in an image nst made")
    p.add_argument("image")
    p.set_defaults(run=cmd_info)

    p = sub.add_parser("layers", help="list VGG-19 layer names")
    p.set_defaults(run=cmd_layers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
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
    except MemoryError:
        print("error: out of memory; try a smaller --size", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
