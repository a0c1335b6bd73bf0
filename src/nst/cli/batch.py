"""`nst batch`: paint a folder (or list) of photos with style images or style models, resumably.

The output folder gets one picture per photo and style, manifest.json (a rerun skips finished
pictures) and sheet.png. Unreadable photos are reported and skipped; nothing else stops the batch.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from nst.cli.options import (
    EXIT_OK,
    IMAGE_SUFFIXES,
    UsageError,
    add_engine_options,
    engine_device,
    engine_from_args,
    number,
)
from nst.cli.settings import add_style_options, config_from_args
from nst.errors import InputError
from nst.optimise.config import StyleConfig
from nst.optimise.schedule import DEFAULT_SIZE_TEXT
from nst.picture import DEFAULT_MAX_SIZE

if TYPE_CHECKING:
    from nst.engines import Event

#: Options of a model batch besides the engine's; optimisation settings are refused with --model.
MODEL_OPTIONS = {"model", "strength", "size", "preserve_color", "device", "output", "quiet", "jobs", "engine",
                 "ray_address", "task_cpus", "task_gpus", "style"}
#: What a style model's file is called; any other existing file after --model is a photo.
MODEL_SUFFIXES = (".pt", ".pth", ".onnx")

DESCRIPTION = (
    "Paint every PHOTO (folders: the picture files in them) with every --style image (an optimisation "
    "each) or --model (instant); write the pictures, manifest.json and sheet.png to DIR. Rerun the same "
    "command to resume. Unreadable photos are reported and skipped."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    # Photos may come after --style or --model, which take several values: `photos_from` gives
    # back to the photos the folders (and, after --model, the picture files) those took.
    p.add_argument("photos", nargs="*", metavar="PHOTO|FOLDER", help="photos, or folders of photos")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder (created; rerun to resume)")
    p.add_argument("--style", nargs="+", default=[], metavar="IMAGE", help="paintings: each photo in each style")
    p.add_argument("--model", nargs="+", default=[], metavar="NAME|PATH",
                   help="style models: a bundled name ('nst models') or a .pt/.onnx file")
    p.add_argument("--instant", action="store_true",
                   help="paint the --style paintings in seconds (nst stylize --instant) instead of optimising")
    p.add_argument("--stroke-scale", type=number(float), default=1.0, metavar="X",
                   help="with --instant: the painting's size relative to the photo (default: 1)")
    p.add_argument("--strength", type=number(float), default=1.0, metavar="S",
                   help="with --model or --instant: 0 gives the photo, 1 the full style (default: 1)")
    add_engine_options(p, unit="picture")
    size = (f"auto: with --style {DEFAULT_SIZE_TEXT}; with --model the "
            f"photo's own, at most {DEFAULT_MAX_SIZE}")
    add_style_options(p, size=size)


def photos_from(args: argparse.Namespace) -> list[str]:
    """The photos given, with those that --style or --model took as theirs (``--model NAME DIR``):
    a folder is never a painting or a model, and a picture file is never a model."""
    photos = list(args.photos)
    for option in ("style", "model"):
        kept = []
        for value in getattr(args, option):
            path = Path(value)
            is_photo = path.is_dir() or (
                option == "model" and path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
            )
            (photos if is_photo else kept).append(value)
        setattr(args, option, kept)
    if not photos:
        raise UsageError(
            "give the photos (files or folders) first: nst batch PHOTO|FOLDER ... --style IMAGE ... or "
            "--model NAME ... -o DIR (a picture file after --style is one of the paintings)"
        )
    return photos


def photo_paths(sources: list[str]) -> list[Path]:
    """Files as given; folders as their picture files (by suffix, sorted, hidden ones left out)."""
    paths: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            found = sorted(p for p in path.iterdir()
                           if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise InputError(f"folder '{source}' holds no picture files ({', '.join(sorted(IMAGE_SUFFIXES))})")
            paths += found
        elif not path.exists():
            raise InputError(f"photo '{source}' does not exist")
        else:
            paths.append(path)
    return paths


def run(args: argparse.Namespace) -> int:
    from nst.experiments import plan as planning

    args.photos = photos_from(args)
    given = getattr(args, "given", None) or set()
    if not args.style and not args.model:
        raise InputError("give --style IMAGE (an optimisation per photo) or --model NAME (instant), or both")
    if args.instant and not args.style:
        raise InputError("--instant paints the --style paintings: give at least one")
    if args.model and not args.style or args.instant:
        foreign = sorted(given - MODEL_OPTIONS - {"instant", "stroke_scale", "style"})
        if foreign:
            raise InputError(f"--{foreign[0].replace('_', '-')} applies to the optimisation, not to "
                             f"{'--instant' if args.instant else '--model'}")
        if args.preserve_color not in ("none", "luminance"):
            raise InputError(f"--preserve-color {args.preserve_color} is not available with --model (none or luminance)")
    if not 0.0 <= args.strength <= 1.0:
        raise InputError(f"--strength must be between 0 and 1, got {args.strength:g}")
    base = config_from_args(args) if args.style and not args.instant else StyleConfig()
    device = engine_device(args)
    engine = engine_from_args(args)
    models = [planning.ModelSpec(m, args.size, args.strength, args.preserve_color) for m in args.model]
    output = Path(args.output)
    photos = photo_paths(args.photos)
    instant = (planning.InstantSpec(args.size, args.strength, args.preserve_color, args.stroke_scale)
               if args.instant else None)
    experiment = planning.batch(photos, base, args.style, models, instant)
    from nst.experiments import runner

    plan = runner.prepare(experiment, output)
    total = len(experiment.cells)
    if not args.quiet and plan.finished:
        print(f"resuming {output}: {len(plan.finished)} of {total} pictures already finished", file=sys.stderr)
    for path, why in experiment.skipped:
        print(f"warning: skipped {path}: {why}", file=sys.stderr)
    bar = None if args.quiet else _Bar(total, len(plan.finished))
    failed: list[str] = []

    def on_event(event: Event) -> None:
        if event.kind == "failed":
            failed.append(event.name)
        if bar is not None:
            bar.update(event)

    try:
        data = runner.execute(plan, device=device, command=shlex.join(["nst", *getattr(args, "argv", [])]),
                              on_event=on_event, engine=engine)
    finally:
        if bar is not None:
            bar.close()
    for cell in data["cells"]:
        if cell["name"] in failed:
            print(f"warning: could not paint {cell['content']['path']}: {cell.get('error')}", file=sys.stderr)
    if not args.quiet:
        run = data["runs"][-1]
        done = sum(c["status"] == "done" for c in data["cells"])
        extra = []
        if run["cells_failed"]:
            extra.append(f"{run['cells_failed']} could not be painted")
        if experiment.skipped:
            extra.append(f"{len(experiment.skipped)} unreadable files skipped")
        print(f"wrote {output}: {done} of {total} pictures ({run['cells_run']} painted now, "
              f"{run['cells_skipped']} already done{''.join('; ' + e for e in extra)}) in {run['wall_seconds']:.1f} s "
              f"with the {run['engine']} engine; sheet {output / runner.SHEET_NAME}", file=sys.stderr)
    return EXIT_OK


class _Bar:
    """Pictures done out of all of them; the picture being optimised shows its iteration."""

    def __init__(self, total: int, finished: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, initial=finished, unit="picture", dynamic_ncols=True, file=sys.stderr)

    def update(self, event: Event) -> None:
        if event.kind == "progress":
            loss = f", loss {event.loss:.4g}" if event.loss is not None else ""
            self.bar.set_postfix_str(f"{event.name}: {event.iteration}/{event.max_iterations}{loss}", refresh=False)
            self.bar.refresh()
        elif event.kind in ("done", "failed"):
            self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


__all__ = ["add_arguments", "photo_paths", "run"]
