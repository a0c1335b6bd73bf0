"""`nst models`: the bundled style models, each with its painting, training and size."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from nst.cli.options import EXIT_OK


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="the model cards as JSON")


def run(args: argparse.Namespace) -> int:
    from nst.models.loader import bundled_models
    from nst.models.registry import bundled_dir

    cards = bundled_models()
    if args.json:
        print(json.dumps([c.to_dict() for c in cards], indent=2))
        return EXIT_OK
    if not cards:
        print("no bundled style models are installed")
        return EXIT_OK
    for card in cards:
        files = [bundled_dir() / f"{card.name}{s}" for s in (".onnx", ".pt")]
        mb = sum(f.stat().st_size for f in files) / 1e6
        lineage = card.lineage()
        training = "\n            then fine-tuned: ".join(_training_line(c) for c in lineage)
        print(f"{card.name}\n  painting: {card.painting}\n"
              f"  training: {training}\n"
              f"            width {card.config.get('width')}, {sum(c.seconds for c in lineage) / 60:.0f} min "
              f"on {card.device} in all\n"
              f"  photos:   {card.photos} ({card.photos_source or 'unknown source'})\n"
              f"  size:     {mb:.1f} MB (ONNX + torch)")
    return EXIT_OK


def _training_line(card: Any) -> str:
    cfg = card.config
    stages = " + ".join(f"{n} steps at {s} px" for s, n in zip(cfg.get("sizes", []), cfg.get("iterations", []), strict=False)
                        if n)
    layers = cfg.get("style_layer_weights")
    per_layer = f" (per layer {_join(f'{w:g}' for w in layers)})" if layers else ""
    relative = " (relative style loss)" if cfg.get("style_loss") == "relative" else ""
    return f"{stages}, batch {cfg.get('batch_size')}, style weight {cfg.get('style_weight'):g}{per_layer}{relative}"


def _join(values: Sequence[Any]) -> str:
    return ",".join(str(v) for v in values)
