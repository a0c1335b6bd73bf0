"""`nst layers`: VGG-19's layer names, for --content-layers and --style-layers."""

from __future__ import annotations

import argparse

from nst.cli.options import EXIT_OK


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from nst.optimise.config import StyleConfig
    from nst.vgg.layers import LAYER_NAMES

    defaults = StyleConfig()
    for name in LAYER_NAMES:
        marks = []
        if name in defaults.content_layers:
            marks.append("content (default)")
        if name in defaults.style_layers:
            marks.append("style (default)")
        print(f"{name:9s} {', '.join(marks)}".rstrip())
    return EXIT_OK
