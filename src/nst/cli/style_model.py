"""Painting in seconds from the command line: a style model (`nst stylize --model`, `nst demo`)
or any painting (`nst stylize --instant`), one photo or a folder of them.

Style models run on onnxruntime for bundled and exported models and never import torch, so a
512 px picture is painted in well under a second from the shell.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nst._version import __version__
from nst.cli.options import (
    EXIT_OK,
    EXIT_USAGE,
    IMAGE_SUFFIXES,
    check_output,
    resolve_device,
    write_text_atomically,
)
from nst.errors import InputError
from nst.optimise.config import check_size

#: Options of `nst stylize` that mean something to a style model; any other is refused with it.
MODEL_OPTIONS = {"model", "strength", "size", "preserve_color", "device", "output", "overwrite", "quiet",
                 "tile_size", "report"}


def _checked_model_args(args: argparse.Namespace) -> None:
    given = getattr(args, "given", set()) or set()
    foreign = sorted(given - MODEL_OPTIONS)
    if foreign:
        raise InputError(f"--{foreign[0].replace('_', '-')} applies to the optimisation, not to --model")
    if args.style:
        raise InputError("with --model, give no style image (the model is the style)")
    if args.preserve_color not in ("none", "luminance"):
        raise InputError(f"--preserve-color {args.preserve_color} is not available with --model (none or luminance)")
    if not 0.0 <= args.strength <= 1.0:
        raise InputError(f"--strength must be between 0 and 1, got {args.strength:g}")
    if args.size is not None:
        check_size(args.size)  # as the optimisation says it


def paint(args: argparse.Namespace) -> int:
    """``nst stylize PHOTO|FOLDER --model NAME -o OUT|FOLDER`` (and `nst demo`): one picture, or one
    picture per photo of a folder into a folder."""
    _checked_model_args(args)
    from nst.models.loader import load_style_model

    jobs = _paint_jobs(Path(args.content), Path(args.output), args.overwrite)
    started = time.perf_counter()
    model = load_style_model(args.model, device=_device_for_networks(args.device))

    def paint_one(photo: Any) -> tuple[Any, dict[str, Any]]:
        picture = model.paint(photo, args.size, args.strength, args.preserve_color,
                              tile_size=getattr(args, "tile_size", None))
        return picture, {"model": model.card.name, "painting": model.card.painting, "engine": type(model).__name__,
                         "settings": {"size": args.size, "strength": args.strength,
                                      "preserve_color": args.preserve_color}}

    return _paint_all(args, jobs, paint_one, started, model.card.name, {"model": model.card.to_dict(),
                                                                       "engine": type(model).__name__})


#: Options of `nst stylize` that mean something with --instant; any other is refused with it.
INSTANT_OPTIONS = MODEL_OPTIONS - {"model"} | {"instant", "stroke_scale", "detail", "palette", "style_blend", "decoder"}


def paint_instantly(args: argparse.Namespace) -> int:
    """``nst stylize PHOTO|FOLDER PAINTING... --instant -o OUT|FOLDER``: any painting, in seconds."""
    given = getattr(args, "given", set()) or set()
    foreign = sorted(given - INSTANT_OPTIONS)
    if foreign:
        raise InputError(f"--{foreign[0].replace('_', '-')} applies to the optimisation, not to --instant")
    from nst.universal.config import InstantConfig

    config = InstantConfig(size=args.size, strength=args.strength, preserve_color=args.preserve_color,
                           stroke_scale=args.stroke_scale, detail=args.detail, palette=args.palette,
                           style_blend=args.style_blend,
                           tile_size=getattr(args, "tile_size", None) or 0)
    config.blend_weights(len(args.style))  # one weight per painting, said before anything is read
    jobs = _paint_jobs(Path(args.content), Path(args.output), args.overwrite)
    from nst.image import load_pil

    paintings = [load_pil(p) for p in args.style]  # an unreadable painting fails before the first photo
    started = time.perf_counter()
    from nst.universal.paint import AnyPainting

    painter = AnyPainting.load(args.decoder, device=_device_for_networks(args.device))

    def paint_one(photo: Any) -> tuple[Any, dict[str, Any]]:
        picture = painter.paint(photo, paintings, config)
        return picture, {"paintings": [str(p) for p in args.style], "engine": "instant", "settings": config.to_dict()}

    return _paint_all(args, jobs, paint_one, started, "--instant", {"engine": "instant",
                                                                    "decoder": painter.card.to_dict()})


def _paint_all(args: argparse.Namespace, jobs: list[tuple[Path, Path]],
               paint_one: Callable[[Any], tuple[Any, dict[str, Any]]], started: float, name: str,
               report: dict[str, Any]) -> int:
    """Paint every (photo, output) job, write each picture atomically, report and say what was done."""
    from nst.image import load_pil, save_image
    from nst.picture import DEFAULT_MAX_SIZE

    source, output = Path(args.content), Path(args.output)
    # Every picture is written atomically before this returns, and nothing else is held open:
    # the `nst` command may exit without the interpreter's teardown (nst.cli.entry).
    args.nothing_left_to_clean = True
    loaded = time.perf_counter()
    painted, skipped = [], []
    bar = None
    if len(jobs) > 1 and not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), unit="photo", dynamic_ncols=True, file=sys.stderr)
    for photo_path, out_path in jobs:
        try:
            photo = load_pil(photo_path, at_least=args.size or DEFAULT_MAX_SIZE)
        except InputError as exc:
            if len(jobs) == 1:
                raise
            skipped.append(f"{photo_path.name}: {exc}")
            if bar is not None:
                bar.update(1)
            continue
        t0 = time.perf_counter()
        picture, metadata = paint_one(photo)
        metadata = {**metadata, "photo": str(photo_path), "size": list(picture.size), "version": __version__}
        save_image(picture, out_path, metadata, fast=True)
        painted.append({"photo": str(photo_path), "output": str(out_path), "size": list(picture.size),
                        "seconds": round(time.perf_counter() - t0, 4)})
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    total = time.perf_counter() - started
    if args.report:
        write_text_atomically(Path(args.report), json.dumps(
            {**report, "load_seconds": round(loaded - started, 4), "seconds": round(total, 4), "painted": painted,
             "skipped": skipped}, indent=2))
    for line in skipped:
        print(f"warning: skipped {line}", file=sys.stderr)
    if not painted:
        print(f"error: none of the {len(jobs)} files in '{source}' could be read", file=sys.stderr)
        return EXIT_USAGE
    if not args.quiet:
        if len(jobs) == 1:
            w, h = painted[0]["size"]
            print(f"wrote {painted[0]['output']} ({w}x{h}) with {name} in {total:.2f} s", file=sys.stderr)
        else:
            print(f"wrote {len(painted)} pictures to {output} with {name} in {total:.1f} s"
                  + (f"; skipped {len(skipped)} unreadable" if skipped else ""), file=sys.stderr)
    return EXIT_OK


def _device_for_networks(name: str) -> str:
    """The device of a style model or the any-painting networks: 'auto' is the CPU unless an
    NVIDIA driver is there, found without importing torch (the CPU path runs on onnxruntime)."""
    if name == "cpu" or (name == "auto" and (os.environ.get("CUDA_VISIBLE_DEVICES", None) == ""
                                             or not Path("/proc/driver/nvidia").exists())):
        return "cpu"
    return resolve_device(name)


def _paint_jobs(source: Path, output: Path, overwrite: bool) -> list[tuple[Path, Path]]:
    """(photo, output) pairs: one file, or every picture file of a folder into a folder."""
    if not source.exists():
        raise InputError(f"photo '{source}' does not exist")
    if source.is_file():
        if output.exists() and output.is_dir():
            output = output / f"{source.stem}.png"
        check_output(output, overwrite)
        if output.resolve() == source.resolve():
            raise InputError(f"the output '{output}' is the photo itself")
        return [(source, output)]
    photos = sorted(p for p in source.iterdir() if p.is_file() and not p.name.startswith("."))
    if not photos:
        raise InputError(f"folder '{source}' holds no files")
    if output.suffix.lower() in IMAGE_SUFFIXES:
        raise InputError(f"for a folder of photos, -o names a folder, not a file ('{output}')")
    if not output.exists():
        if not output.parent.is_dir():
            raise InputError(f"output folder's parent '{output.parent}' does not exist")
        output.mkdir()
    if output.resolve() == source.resolve():
        raise InputError("the output folder is the photo folder; choose another so no photo is replaced")
    jobs, names = [], {}
    for photo in photos:
        if photo.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        target = output / f"{photo.stem}.png"
        if target.name in names:
            raise InputError(f"'{photo.name}' and '{names[target.name]}' would both be written as '{target.name}'")
        names[target.name] = photo.name
        if target.exists() and not overwrite:
            raise InputError(f"output '{target}' already exists (use --overwrite to replace it)")
        jobs.append((photo, target))
    if not jobs:
        raise InputError(f"folder '{source}' holds no picture files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return jobs
