"""The `nst` command line: the only package that prints. Its commands call the public API.

`commands.COMMANDS` lists every command; each is a module here (``stylize``, ``demo``, ``info``,
``layers``, ``train``, ``models``, ``export``, ``sweep``, ``grid``, ``batch``, ``video``,
``serve``) with ``add_arguments(parser)`` and ``run(args)``. What several commands share:
``options`` (the parser, option types, checks), ``settings`` (the options made from `StyleConfig`
and `TrainConfig`), ``optimisation`` (one optimisation run with progress and checkpoints),
``style_model`` (painting with a style model) and ``experiment`` (running a sweep or a grid).
Nothing outside this package imports it.

Exit codes: 0 success, 1 unexpected failure, 2 bad input or usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from typing import Any

import nst
from nst.cli.commands import COMMANDS, Command
from nst.cli.demo import DEMO_STYLE_SCALE
from nst.cli.options import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Parser,
    UsageError,
    checkpoint_interval,
    given_options,
    resolve_device,
)
from nst.cli.settings import config_from_args
from nst.optimise.config import check_size

__all__ = [
    "COMMANDS", "DEMO_STYLE_SCALE", "EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "Command",
    "UsageError", "build_parser", "checkpoint_interval", "config_from_args", "entry", "given_options", "main",
    "resolve_device",
]  # fmt: skip


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with ``command`` only that command's part (a faster start: the style
    model path paints a picture in about the time a full parser takes to build)."""
    parser = Parser(prog="nst", description="Neural style transfer (Gatys et al. 2015), offline.")
    parser.add_argument("--version", action="version", version=f"nst {nst.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for listed in COMMANDS:
        if command is None or command == listed.name:
            module = importlib.import_module(f"nst.cli.{listed.module}")
            description = getattr(module, "DESCRIPTION", None) or listed.help[0].upper() + listed.help[1:] + "."
            p = sub.add_parser(listed.name, help=listed.help, description=description)
            module.add_arguments(p)
            p.set_defaults(run=module.run)
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
        command = argv[0] if argv and argv[0] in {c.name for c in COMMANDS} else None
        args = build_parser(command).parse_args(argv)
        args.given = given_options(argv)
        args.argv = argv
        if getattr(args, "size", None) is not None:
            check_size(args.size)  # one message, whichever way the picture would be painted
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


