"""What the `nst` commands share: the parser, option types, StyleConfig's options, checks.

A leaf: it imports no other command module, so every command (stylize, sweep and grid, serve,
train, ...) can import it without a circle.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import resource
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import nst
from nst.atomic import write_atomically
from nst.optimise.config import COARSE_STYLE_MODES, PRESETS, STYLE_LOSSES, StyleConfig
from nst.vgg.layers import PADDINGS, POOLINGS

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULTS = StyleConfig()
#: `nst demo`'s style scale unless --style-scale or --style-size is given (see `cmd_demo`).
DEMO_STYLE_SCALE = 0.5
#: `nst demo` without --optimise: this bundled style model, at this size (seconds on a CPU).
DEMO_MODEL = "starry-night"
DEMO_INSTANT_SIZE = 1024


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


def _layer_list(name: str) -> Callable[[str], tuple[str, ...]]:
    """A parser for option ``name``: 'conv5_1,conv4_1' -> the names; 'none' (or nothing) -> ()."""

    def parse(text: str) -> tuple[str, ...]:
        if text.strip().lower() in ("", "none"):
            return ()
        return _csv(str, name)(text)

    return parse


def _number(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None

    return parse


def _quantiles(text: str) -> float | tuple[float, ...]:
    """``--salient-quantile``: '0.8' -> 0.8 for every salient layer; '0.9,0.8' -> one per layer."""
    values = _csv(float, "--salient-quantile")(text)
    return values[0] if len(values) == 1 else values


def _format_quantiles(value: float | tuple[float, ...]) -> str:
    return ",".join(f"{v:g}" for v in value) if isinstance(value, tuple) else f"{value:g}"


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
        help="one per style layer (default: all 1; see --stroke-weight)",
    )
    g.add_argument(
        "--tv-weight",
        type=_number(float),
        default=d.tv_weight,
        help=f"total-variation smoothing weight against pixel-scale speckle (default: {d.tv_weight:g}; the paper has none: 0)",
    )
    g.add_argument(
        "--laplacian-weight",
        type=_number(float),
        default=d.laplacian_weight,
        help="weight of the Laplacian term that keeps the photo's outlines in place "
        f"(default: {d.laplacian_weight:g}; the paper has none: 0)",
    )
    g.add_argument(
        "--laplacian-size",
        type=_number(int),
        default=d.laplacian_size,
        help="longest side, in px, the Laplacian term averages the picture down to: smaller keeps only "
        f"large outlines (default: {d.laplacian_size})",
    )
    g.add_argument(
        "--subject-weight",
        type=_number(float),
        default=d.subject_weight,
        help="how many times more the content loss weighs the photo's most salient positions (its subject: "
        "a face, an animal, a building) than its least, at the same alpha overall "
        f"(default: {d.subject_weight:g}; the paper weighs all alike: 1)",
    )
    g.add_argument(
        "--subject-layer",
        default=d.subject_layer,
        help=f"VGG layer whose response strength is the photo's salience (default: {d.subject_layer})",
    )
    g.add_argument(
        "--pooling",
        choices=POOLINGS,
        default=d.pooling,
        help=f"VGG pooling (default: {d.pooling}; avg is the paper's choice and paints dots on flat areas)",
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
        "--init", default=d.init, help=f"start from 'content', 'noise', 'model:NAME' (a style model's picture) or an image path (default: {d.init})"
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
        "(default: auto, a ladder from about 128 px)",
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
        help="iterations per level, coarsest first; needs --scales (default: auto: 100, 60, 60, then 40 per level)",
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
        "--coarse-style",
        choices=COARSE_STYLE_MODES,
        default=d.coarse_style,
        help="style image size at coarse pyramid levels: 'level' (shrinks with each level) or "
        f"'final' (the final level's size at every level) (default: {d.coarse_style})",
    )
    g.add_argument(
        "--coarse-content-boost",
        type=_number(float),
        default=d.coarse_content_boost,
        help="content weight at the coarsest level as a multiple of --content-weight, falling to 1 "
        f"at the final level (default: {d.coarse_content_boost:g})",
    )
    g.add_argument(
        "--stroke-weight",
        type=_number(float),
        default=d.stroke_weight,
        help="weight of the style layers other than the final-only ones, times their layer weight "
        f"(default: {d.stroke_weight:g}; the paper: 1)",
    )
    g.add_argument(
        "--final-only-style-layers",
        type=_layer_list("--final-only-style-layers"),
        default=d.final_only_style_layers,
        help="style layers used at the final pyramid level only, comma-separated, or 'none' "
        f"(default: {','.join(d.final_only_style_layers) or 'none'})",
    )
    g.add_argument(
        "--level-detail",
        action=argparse.BooleanOptionalAction,
        default=d.level_detail,
        help="start each pyramid level with the photo's detail the smaller level could not hold "
        f"(default: {'on' if d.level_detail else 'off'})",
    )
    g.add_argument(
        "--style-loss",
        choices=STYLE_LOSSES,
        default=d.style_loss,
        help=f"'gram' (the paper's) or 'wasserstein' (W2 of Gaussian fits) (default: {d.style_loss})",
    )
    g.add_argument(
        "--salient-quantile",
        type=_quantiles,
        default=d.salient_quantile,
        help="leave the painting's strongest deep-layer positions (a portrait's eyes) above this quantile "
        "out of its style statistics, so they are not painted into the photo; one number, or one per "
        f"--salient-layers entry, comma-separated; 1 keeps every position (default: {_format_quantiles(d.salient_quantile)})",
    )
    g.add_argument(
        "--salient-layers",
        type=_layer_list("--salient-layers"),
        default=d.salient_layers,
        help=f"style layers --salient-quantile acts on, comma-separated, or 'none' (default: {','.join(d.salient_layers)})",
    )
    g.add_argument(
        "--padding",
        choices=PADDINGS,
        default=d.padding,
        help=f"padding of VGG's convolutions (default: {d.padding}, VGG's own)",
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


def jobs_count(text: str) -> int:
    """``--jobs N``: at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


#: The options that size Ray tasks (meaningless with the local engine).
RAY_OPTIONS = ("ray_address", "task_cpus", "task_gpus")


def add_engine_options(parser: argparse.ArgumentParser, unit: str = "cell") -> None:
    """``--jobs`` and ``--engine local|ray`` with Ray's options (see `engine_from_args`)."""
    g = parser.add_argument_group("where the work runs (docs/cluster.md)")
    g.add_argument(
        "--jobs",
        type=jobs_count,
        default=1,
        metavar="N",
        help=f"local engine: run N {unit}s at once in separate processes, sharing the CPU threads (default: 1)",
    )
    g.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help=f"local: this machine's process pool (default); ray: one Ray task per {unit} "
        "(pip install 'nst[ray]')",
    )
    g.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="with --engine ray: a running cluster ('auto', or ray://HOST:10001); default: start a local "
        "Ray with this machine's cores. Inputs and -o must be on a filesystem every node sees",
    )
    g.add_argument(
        "--task-cpus",
        type=_number(float),
        default=1.0,
        metavar="N",
        help=f"with --engine ray: CPUs of each {unit}'s task, also its torch threads (default: 1)",
    )
    g.add_argument(
        "--task-gpus",
        type=_number(float),
        default=0.0,
        metavar="N",
        help=f"with --engine ray: GPUs of each {unit}'s task, e.g. 0.5 to share one (default: 0)",
    )


def engine_from_args(args: argparse.Namespace, **ray_options: Any) -> Any:
    """The `nst.engines` engine the options name (``ray_options`` go to a Ray engine); refuses
    options of the other engine."""
    given = getattr(args, "given", None) or set()
    if args.engine == "local":
        foreign = [name for name in RAY_OPTIONS if name in given]
        if foreign:
            raise UsageError(f"--{foreign[0].replace('_', '-')} applies to --engine ray")
        from nst.engines.local import LocalEngine

        return LocalEngine(args.jobs)
    if "jobs" in given:
        raise UsageError("--jobs applies to --engine local; with --engine ray, size tasks with --task-cpus")
    from nst.engines.ray import RayEngine

    return RayEngine(address=args.ray_address, task_cpus=args.task_cpus, task_gpus=args.task_gpus, **ray_options)


def engine_device(args: argparse.Namespace) -> str:
    """The device jobs run on. Local: as `resolve_device`. Ray: decided by the tasks' resources,
    not by this machine (a CPU head node may drive GPU workers): cuda with --task-gpus, else cpu."""
    if args.engine == "local":
        return resolve_device(args.device)
    wanted = "cuda" if args.task_gpus > 0 else "cpu"
    if args.device not in ("auto", wanted):
        raise UsageError(
            f"--device {args.device} with --engine ray: tasks run on "
            + ("cuda (they have --task-gpus)" if wanted == "cuda" else "the CPU unless given --task-gpus")
        )
    return wanted


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
    """Destinations of the long options present in ``argv`` (``--style-weight 5`` -> style_weight,
    ``--no-level-detail`` -> level_detail)."""
    names = {a[2:].split("=", 1)[0].replace("-", "_") for a in argv if a.startswith("--")}
    return names | {n[3:] for n in names if n.startswith("no_")}


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


def write_text_atomically(path: Path, text: str) -> None:
    write_atomically(path, lambda handle: handle.write(text.encode("utf-8")), mode=0o644)
