"""`nst grid --content PHOTO... --style PAINTING... -o DIR`: every photo in every painting's style."""

from __future__ import annotations

import argparse

from nst.cli.experiment import add_experiment_options, run_experiment
from nst.cli.settings import config_from_args

DESCRIPTION = (
    "Stylize each --content photo in the style of each --style painting; write the images, manifest.json, "
    "a contact sheet and a loss plot to DIR."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--content", nargs="+", required=True, metavar="IMAGE", help="photos (the rows)")
    p.add_argument("--style", nargs="+", required=True, metavar="IMAGE", help="paintings (the columns)")
    add_experiment_options(p)


def run(args: argparse.Namespace) -> int:
    from nst.experiments import plan as planning

    return run_experiment(args, planning.grid(args.content, args.style, config_from_args(args)))
