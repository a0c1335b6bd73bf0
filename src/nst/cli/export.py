"""`nst export MODEL -o MODEL.onnx`: a style model as ONNX, checked against torch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nst.cli.options import EXIT_OK, check_output_model


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a bundled name or a .pt file from 'nst train'")
    p.add_argument("-o", "--output", required=True, metavar="MODEL.onnx")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")


def run(args: argparse.Namespace) -> int:
    output = Path(args.output)
    check_output_model(output, args.overwrite)
    from nst.models.export import export_onnx
    from nst.models.torch_model import StyleModel

    worst = export_onnx(StyleModel.load(args.model), output)
    print(f"wrote {output}; largest difference from torch {worst * 255:.3f}/255", file=sys.stderr)
    return EXIT_OK
