"""`nst info IMAGE`: the settings, inputs and losses nst stored in a picture it made."""

from __future__ import annotations

import argparse
import json

from nst.cli.options import EXIT_OK


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", help="a picture nst wrote (.png keeps its settings)")


def run(args: argparse.Namespace) -> int:
    import nst

    data = nst.read_metadata(args.image)
    if data is None:
        raise nst.InputError(f"'{args.image}' carries no nst settings")
    print(json.dumps(data, indent=2, sort_keys=True))
    return EXIT_OK
