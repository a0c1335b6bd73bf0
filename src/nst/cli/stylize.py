"""`nst stylize`: paint a photo, one of three ways, chosen by the command line (`_way`):

* ``nst stylize PHOTO PAINTING... -o OUT``: the optimisation (`_optimise`; minutes, the finest);
* ``nst stylize PHOTO|FOLDER --model NAME -o OUT|FOLDER``: a trained style model (`_with_model`;
  under a second a picture, one picture per photo of a folder);
* ``nst stylize PHOTO|FOLDER PAINTING... --instant -o OUT|FOLDER``: any painting in seconds
  (`_instant`; nst.universal), one picture per photo of a folder.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from nst.cli.options import UsageError, checkpoint_interval, number
from nst.cli.settings import add_settings, add_style_options
from nst.optimise.schedule import DEFAULT_SIZE_TEXT
from nst.picture import DEFAULT_MAX_SIZE
from nst.universal.config import InstantConfig

#: --size's default, both ways.
SIZE_DEFAULT = (
    f"auto: the optimisation {DEFAULT_SIZE_TEXT}; "
    f"--model and --instant the photo's own, at most {DEFAULT_MAX_SIZE}"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("content", metavar="PHOTO", help="the photo (any image Pillow reads); with --model, also a folder")
    p.add_argument("style", nargs="*", metavar="PAINTING",
                   help="the painting (several: a blend, see --style-blend); none with --model")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file: .png (default), .jpg, .webp, .tif; for a folder of photos, a folder")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--report", metavar="PATH",
                   help="write JSON: settings, loss history, timings, stop reason, peak memory")
    p.add_argument("--save-every", type=number(int), default=0, metavar="N",
                   help="also save the image every N iterations (OUT.iterNNNNN.png)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from its checkpoint OUT.ckpt (same inputs and settings)")
    p.add_argument("--checkpoint-every", type=checkpoint_interval, default=(0, 60.0), metavar="N|Ns|Nm",
                   help="save the run's state (OUT.ckpt) every N iterations, N seconds or N minutes, and when "
                   "interrupted; 0: only when interrupted (default: 60s)")
    add_style_options(p, size=SIZE_DEFAULT, before_expert=_add_model_options)


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("in seconds: a style model (--model) or any painting (--instant); no optimisation")
    g.add_argument("--model", metavar="NAME|PATH",
                   help="paint with a trained style model: a bundled name ('nst models') or a .pt/.onnx file")
    g.add_argument("--instant", action="store_true",
                   help="paint any painting in seconds (no training; the optimisation is finer but takes minutes)")
    g.add_argument("--strength", type=number(float), default=1.0, metavar="S",
                   help="0 gives the photo, 1 the full style (default: 1)")
    add_settings({"basic": g, "expert": g}, InstantConfig)
    g.add_argument("--decoder", metavar="PATH", help="with --instant: a decoder file from bench/train_decoder.py "
                   "(default: the bundled one)")


def run(args: argparse.Namespace) -> int:
    return _WAYS[_way(args)](args)


def _way(args: argparse.Namespace) -> str:
    """Which way this command line paints: 'model', 'instant' or 'optimise'."""
    if args.model and args.instant:
        raise UsageError("--model and --instant are two ways to paint: choose one")
    if args.model:
        return "model"
    if args.instant:
        if not args.style:
            raise UsageError("--instant paints in the style of a painting: give its file after the photo")
        return "instant"
    if not args.style:
        raise UsageError("give a style image (the artwork), or --model NAME for a trained style model")
    return "optimise"


def _optimise(args: argparse.Namespace) -> int:
    from nst.cli.optimisation import optimise

    content = Path(args.content)
    if content.is_dir():
        raise UsageError(
            f"'{content}' is a directory, not a file: the optimisation paints one photo; a folder of photos is "
            f"painted with --instant (any painting) or a style model (--model NAME), one picture per photo into "
            f"the folder -o names, or optimised by 'nst batch {content} --style PAINTING -o DIR'"
        )
    return optimise(args)


def _with_model(args: argparse.Namespace) -> int:
    from nst.cli.style_model import paint

    return paint(args)


def _instant(args: argparse.Namespace) -> int:
    from nst.cli.style_model import paint_instantly

    return paint_instantly(args)


_WAYS: dict[str, Callable[[argparse.Namespace], int]] = {"optimise": _optimise, "model": _with_model,
                                                         "instant": _instant}
