"""What the `nst` commands share: the parser, exit codes, option types, the device and engine
options, and the checks of an output. (The settings' options are made in `nst.cli.settings`.)

A leaf: it imports no command module, so every command can import it without a circle.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import nst
from nst.atomic import write_atomically

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: Picture files, by suffix: what a folder of photos is read for.
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


class UsageError(Exception):
    """Raised by the parser instead of argparse's own exit, so every error looks the same."""


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Exact option names only: `given_options` relies on it, and abbreviations surprise.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def comma_list(kind: Callable[[str], Any], name: str) -> Callable[[str], tuple[Any, ...]]:
    """A parser for option ``name``: 'a,b' -> (kind(a), kind(b)); an empty item is refused."""

    def parse(text: str) -> tuple[Any, ...]:
        items = [item.strip() for item in text.split(",")]
        if not text.strip() or any(not item for item in items):
            raise argparse.ArgumentTypeError(f"{name} needs a comma-separated list, got {text!r}")
        try:
            return tuple(kind(item) for item in items)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} has a value that is not a number: {text!r}") from None

    return parse


def number(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """A parser of one number of ``kind`` (int or float) with argparse's one-line message."""

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
        "(pip install -e '.[ray]')",
    )
    g.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="with --engine ray: a running cluster ('auto', or ray://HOST:10001); default: start a local "
        "Ray with this machine's cores. Inputs and -o must be on a filesystem every node sees",
    )
    g.add_argument(
        "--task-cpus",
        type=number(float),
        default=1.0,
        metavar="N",
        help=f"with --engine ray: CPUs of each {unit}'s task, also its torch threads (default: 1)",
    )
    g.add_argument(
        "--task-gpus",
        type=number(float),
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


def given_options(argv: Sequence[str]) -> set[str]:
    """Destinations of the long options present in ``argv`` (``--style-weight 5`` -> style_weight,
    ``--no-palette`` -> palette)."""
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


def check_output_model(output: Path, replace: bool) -> None:
    """Refuse a model file we could not write, or would replace without being asked to."""
    if output.is_dir():
        raise nst.InputError(f"output '{output}' is a directory")
    if not output.parent.is_dir():
        raise nst.InputError(f"output folder '{output.parent}' does not exist")
    if output.exists() and not replace:
        raise nst.InputError(f"model '{output}' already exists (use --overwrite to replace it)")


def peak_memory_mb(device: str) -> float:
    """Peak memory of this process so far: resident set on the CPU, allocator peak on a GPU."""
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_text_atomically(path: Path, text: str) -> None:
    write_atomically(path, lambda handle: handle.write(text.encode("utf-8")), mode=0o644)
