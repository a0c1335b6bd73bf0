"""`nst sweep PHOTO PAINTING --param NAME=V1,V2 -o DIR`: one picture per combination of settings."""

from __future__ import annotations

import argparse

from nst.cli.experiment import add_experiment_options, run_experiment
from nst.cli.settings import config_from_args

DESCRIPTION = (
    "Stylize PHOTO in the style of PAINTING once per combination of the --param values; write the images, "
    "manifest.json, a contact sheet and a loss plot to DIR."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("content", metavar="PHOTO", help="the photo")
    p.add_argument("style", metavar="PAINTING", help="the painting")
    p.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="NAME=V1,V2,...",
        help="a setting (any of 'nst stylize's, e.g. style_weight) and the values to try; several "
        "--param give every combination; join a list value's items with '+' (style_layers=conv1_1+conv2_1)",
    )
    add_experiment_options(p)


def run(args: argparse.Namespace) -> int:
    base = config_from_args(args)
    from nst.experiments import plan as planning
    from nst.experiments.params import parse_params

    params = parse_params(args.param)
    return run_experiment(args, planning.sweep(args.content, args.style, base, params))
