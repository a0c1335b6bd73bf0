"""The `nst` command line: the only package that prints. Its commands call the public API.

One module per command family (`stylize`, `experiments`, `batch`, `video`, `serve`, `instant`) plus `options`,
which they all share; nothing outside this package imports it.

Exit codes: 0 success, 1 unexpected failure, 2 bad input or usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from typing import Any

import nst
from nst.cli.options import (
    DEMO_MODEL,
    DEMO_STYLE_SCALE,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    _number,
    _Parser,
    add_style_options,
    checkpoint_interval,
    config_from_args,
    given_options,
    resolve_device,
)

__all__ = [
    "DEMO_STYLE_SCALE", "EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "build_parser", "checkpoint_interval",
    "config_from_args", "entry", "given_options", "main", "resolve_device",
]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with ``command`` only that command's part (a faster start: the
    instant path paints a picture in about the time a full parser takes to build)."""
    parser = _Parser(
        prog="nst", description="Neural style transfer (Gatys et al. 2015), offline.", allow_abbrev=False
    )
    parser.add_argument("--version", action="version", version=f"nst {nst.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, add in _COMMANDS.items():
        if command is None or command == name:
            add(sub)
    return parser


def _add_stylize(sub: Any) -> None:
    from nst.cli.instant import add_model_options

    p = sub.add_parser("stylize", help="paint a photo in the style of an artwork")
    p.add_argument("content", help="the photo (any image Pillow reads); a folder with --model")
    p.add_argument("style", nargs="*", help="the artwork (several: a blend); none with --model")
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
    add_model_options(p)
    p.set_defaults(run=_stylize)


def _add_demo(sub: Any) -> None:
    p = sub.add_parser("demo", help="paint a bundled photo with a bundled style model (no files needed)")
    p.add_argument("-o", "--output", default="painted.png", help="output file (default: painted.png)")
    p.add_argument("--model", metavar="NAME", help=f"the bundled style model (default: {DEMO_MODEL}; see 'nst models')")
    p.add_argument("--optimise", action="store_true",
                   help="run the optimisation instead (a style painted here, 128 px on a CPU, minutes)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--save-every", type=_number(int), default=0, metavar="N", help=argparse.SUPPRESS)
    p.add_argument("--report", metavar="PATH", help="write a JSON report (as for stylize)")
    add_style_options(p)
    p.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    from nst.cli.instant import MODEL_OPTIONS
    from nst.cli.stylize import cmd_demo

    given = getattr(args, "given", set()) or set()
    if not args.optimise:
        foreign = sorted(given - MODEL_OPTIONS - {"optimise"})
        if foreign:
            raise UsageError(f"--{foreign[0].replace('_', '-')} applies to the optimisation: add --optimise")
    elif args.model:
        raise UsageError("--model paints at once; --optimise runs the optimisation: choose one")
    return cmd_demo(args)


def _add_info(sub: Any) -> None:
    from nst.cli.stylize import cmd_info

    p = sub.add_parser("info", help="print the settings stored in an image nst made")
    p.add_argument("image")
    p.set_defaults(run=cmd_info)


def _add_layers(sub: Any) -> None:
    from nst.cli.stylize import cmd_layers

    p = sub.add_parser("layers", help="list VGG-19 layer names")
    p.set_defaults(run=cmd_layers)


def _add_instant(name: str) -> Any:
    def add(sub: Any) -> None:
        from nst.cli import instant

        getattr(instant, f"add_{name}_command")(sub)

    return add


def _add_experiment(name: str) -> Any:
    def add(sub: Any) -> None:
        from nst.cli.experiments import add_commands  # sweep, grid

        add_commands(sub, only=name)

    return add


def _add_batch(sub: Any) -> None:
    from nst.cli.batch import add_batch_command

    add_batch_command(sub)


def _add_video(sub: Any) -> None:
    from nst.cli.video import add_video_command

    add_video_command(sub)


def _add_serve(sub: Any) -> None:
    from nst.cli.serve import add_serve_options, cmd_serve  # argparse only; FastAPI loads on use

    p = sub.add_parser("serve", help="web app and REST API in the browser (needs the 'web' extra)")
    add_serve_options(p)
    p.set_defaults(run=cmd_serve)


#: Every command, in the order `nst --help` lists them, with the function that adds its parser.
_COMMANDS: dict[str, Any] = {
    "stylize": _add_stylize,
    "demo": _add_demo,
    "info": _add_info,
    "layers": _add_layers,
    "train": _add_instant("train"),
    "models": _add_instant("models"),
    "export": _add_instant("export"),
    "sweep": _add_experiment("sweep"),
    "grid": _add_experiment("grid"),
    "batch": _add_batch,
    "video": _add_video,
    "serve": _add_serve,
}


def _stylize(args: argparse.Namespace) -> int:
    """`nst stylize`: a style model paints at once (--model); style images start the optimisation."""
    if args.model:
        from nst.cli.instant import cmd_paint

        return cmd_paint(args)
    if not args.style:
        raise UsageError("give a style image (the artwork), or --model NAME for a trained style model")
    from nst.cli.stylize import cmd_stylize

    return cmd_stylize(args)


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


def entry() -> None:
    """The `nst` console script (and `python -m nst.cli`)."""
    sys.exit(main(exit_when_done=True))


def _leave_now(status: int) -> None:
    """Exit without tearing the interpreter down. Only after commands whose outputs are complete
    on disk and that hold nothing else (the instant painter): the teardown of onnxruntime, NumPy
    and Pillow costs about 40 ms, a tenth of a whole `nst stylize --model` run."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def main(argv: Sequence[str] | None = None, *, exit_when_done: bool = False) -> int:
    previous_sigterm = _handle_sigterm()
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        command = argv[0] if argv and argv[0] in _COMMANDS else None
        args = build_parser(command).parse_args(argv)
        args.given = given_options(argv)
        args.argv = argv
        with warnings.catch_warnings():
            # Pillow warns about odd tags in files it still reads; the user cannot act on that,
            # and it would break the one-line promise of every message.
            warnings.filterwarnings("ignore", category=UserWarning, module="PIL")
            status = args.run(args)
        if exit_when_done and getattr(args, "nothing_left_to_clean", False):
            _leave_now(status)
        return status
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


