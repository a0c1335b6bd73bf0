"""Instant style: ``nst stylize --model``, ``nst train``, ``nst models`` and ``nst export``.

`cmd_paint` runs on onnxruntime for bundled and exported models and never imports torch, so a
512 px picture is painted in well under a second from the shell.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nst.cli.options import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    _csv,
    _number,
    add_device_option,
    check_output,
    resolve_device,
    write_text_atomically,
)
from nst.errors import InputError
from nst.models.config import TrainConfig

#: Options of `nst stylize` that mean something to a style model; any other is refused with it.
MODEL_OPTIONS = {"model", "strength", "size", "preserve_color", "device", "output", "overwrite", "quiet",
                 "tile_size", "report"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """The options `nst stylize` takes for a style model (with --model)."""
    g = parser.add_argument_group("instant style (with --model; no style image)")
    g.add_argument("--model", metavar="NAME|PATH",
                   help="paint with a trained style model: a bundled name ('nst models') or a .pt/.onnx file")
    g.add_argument("--strength", type=_number(float), default=1.0,
                   help="0 gives the photo, 1 the full style (default: 1)")


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
    if args.size is not None and args.size < 16:
        raise InputError(f"--size must be at least 16 px, got {args.size}")


def cmd_paint(args: argparse.Namespace) -> int:
    """``nst stylize PHOTO|FOLDER --model NAME -o OUT|FOLDER``."""
    _checked_model_args(args)
    from nst.image import load_pil, save_image
    from nst.models.loader import load_style_model
    from nst.picture import DEFAULT_MAX_SIZE

    source, output = Path(args.content), Path(args.output)
    jobs = _paint_jobs(source, output, args.overwrite)
    # Every picture is written atomically before this returns, and nothing else is held open:
    # the `nst` command may exit without the interpreter's teardown (nst.cli.entry).
    args.nothing_left_to_clean = True
    device = "cpu" if args.device in ("auto", "cpu") else resolve_device(args.device)
    if args.device == "auto":
        device = _auto_device_for_models()
    started = time.perf_counter()
    model = load_style_model(args.model, device=device)
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
        picture = model.paint(photo, args.size, args.strength, args.preserve_color,
                              tile_size=getattr(args, "tile_size", None))
        metadata = {
            "model": model.card.name, "painting": model.card.painting, "photo": str(photo_path),
            "settings": {"size": args.size, "strength": args.strength, "preserve_color": args.preserve_color},
            "size": list(picture.size), "version": _version(), "engine": type(model).__name__,
        }
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
            {"model": model.card.to_dict(), "engine": type(model).__name__, "load_seconds": round(loaded - started, 4),
             "seconds": round(total, 4), "painted": painted, "skipped": skipped}, indent=2))
    for line in skipped:
        print(f"warning: skipped {line}", file=sys.stderr)
    if not painted:
        print(f"error: none of the {len(jobs)} files in '{source}' could be read", file=sys.stderr)
        return EXIT_USAGE
    if not args.quiet:
        if len(jobs) == 1:
            w, h = painted[0]["size"]
            print(f"wrote {painted[0]['output']} ({w}x{h}) with {model.card.name} in {total:.2f} s", file=sys.stderr)
        else:
            print(f"wrote {len(painted)} pictures to {output} with {model.card.name} in {total:.1f} s"
                  + (f"; skipped {len(skipped)} unreadable" if skipped else ""), file=sys.stderr)
    return EXIT_OK


def _auto_device_for_models() -> str:
    # A CUDA GPU only pays off when torch is importable anyway; never import torch to find out
    # on a machine whose torch is the CPU build (the instant path must stay torch-free).
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) == "" or not Path("/proc/driver/nvidia").exists():
        return "cpu"
    return resolve_device("auto")


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


def add_train_command(sub: Any) -> None:
    d = TrainConfig()
    p = sub.add_parser("train", help="train a style model (instant style) for one painting")
    p.add_argument("style", help="the painting")
    p.add_argument("--photos", required=True, metavar="DIR", help="folder of training photos (unreadable files are skipped)")
    p.add_argument("-o", "--output", required=True, metavar="MODEL.pt", help="the model file to write")
    p.add_argument("--name", help="the model's name (default: the output's file name)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model file")
    p.add_argument("--resume", action="store_true", help="continue an interrupted training from MODEL.pt.ckpt")
    p.add_argument("--init", metavar="NAME|PATH",
                   help="fine-tune this model (a bundled name or a .pt file of the same width) instead of "
                        "starting from random weights")
    p.add_argument("--sizes", type=_csv(int, "--sizes"), default=d.sizes,
                   help=f"crop size of each stage, coarse to fine (default: {_join(d.sizes)})")
    p.add_argument("--iterations", type=_csv(int, "--iterations"), default=d.iterations,
                   help=f"steps of each stage (default: {_join(d.iterations)})")
    p.add_argument("--batch-size", type=_number(int), default=d.batch_size, help=f"(default: {d.batch_size})")
    p.add_argument("--lr", type=_number(float), default=d.lr, help=f"Adam's step size (default: {d.lr:g})")
    p.add_argument("--content-weight", type=_number(float), default=d.content_weight, help=f"(default: {d.content_weight:g})")
    p.add_argument("--style-weight", type=_number(float), default=d.style_weight, help=f"(default: {d.style_weight:g})")
    p.add_argument("--style-layer-weights", type=_csv(float, "--style-layer-weights"), default=d.style_layer_weights,
                   metavar="W1,...,W5",
                   help="a weight per style layer, conv1_1 to conv5_1 (default: 1 each); more weight on the first "
                        "layers paints more brush texture without the deep layers' objects")
    p.add_argument("--tv-weight", type=_number(float), default=d.tv_weight, help=f"(default: {d.tv_weight:g})")
    p.add_argument("--style-size", type=_number(int), default=d.style_size,
                   help=f"the painting's longest side in px for its Gram matrices; sets stroke size (default: {d.style_size})")
    p.add_argument("--width", type=_number(int), default=d.width,
                   help=f"channels of the network's first layer (Johnson et al.: 32; default: {d.width})")
    p.add_argument("--residual-blocks", type=_number(int), default=d.residual_blocks,
                   help=f"residual blocks at a quarter of the resolution (default: {d.residual_blocks})")
    p.add_argument("--seed", type=_number(int), default=d.seed, help=f"(default: {d.seed})")
    p.add_argument("--precision", choices=("bf16", "fp32"), default=d.precision,
                   help=f"bf16 autocast where the CPU or GPU supports it (default: {d.precision})")
    p.add_argument("--preview-every", type=_number(int), default=d.preview_every, metavar="N",
                   help=f"write MODEL-preview.png every N steps, 0: never (default: {d.preview_every})")
    p.add_argument("--report", metavar="PATH", help="JSON with settings and the loss history, and a loss plot beside it (.png)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    add_device_option(p)
    p.set_defaults(run=cmd_train)


def _join(values: Sequence[Any]) -> str:
    return ",".join(str(v) for v in values)


def cmd_train(args: argparse.Namespace) -> int:
    from nst.image import save_image
    from nst.models.train import train_style_model

    config = TrainConfig(
        sizes=tuple(args.sizes), iterations=tuple(args.iterations), batch_size=args.batch_size, lr=args.lr,
        content_weight=args.content_weight, style_weight=args.style_weight, tv_weight=args.tv_weight,
        style_layer_weights=args.style_layer_weights, style_size=args.style_size, width=args.width, residual_blocks=args.residual_blocks, seed=args.seed, precision=args.precision,
        preview_every=args.preview_every,
    )
    output = Path(args.output)
    if output.suffix.lower() not in (".pt", ".pth"):
        raise InputError(f"the model file '{output}' must end in .pt")
    check_output_model(output, args.overwrite or args.resume)
    report = Path(args.report) if args.report else None
    if report is not None and report.suffix.lower() != ".json":
        raise InputError(f"--report '{report}' must end in .json")
    preview_path = output.with_name(f"{output.stem}-preview.png")
    device = resolve_device(args.device)
    stop = {"signal": None}
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=config.total_iterations, unit="step", dynamic_ncols=True, file=sys.stderr)

    def on_signal(signum: int, _frame: Any) -> None:
        stop["signal"] = signum

    def callback(progress: Any) -> bool:
        if bar is not None:
            bar.update(progress.step - bar.n)
            bar.set_postfix_str(f"{progress.size}px loss {progress.total:.4g} (content {progress.content:.3g}, "
                                f"style {progress.style:.3g})", refresh=False)
        if progress.preview is not None:
            save_image(progress.preview, preview_path, {"model": str(output), "step": progress.step})
        return stop["signal"] is not None

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = train_style_model(args.style, args.photos, output, config, name=args.name, device=device,
                                   resume=args.resume, callback=callback, init=args.init)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if bar is not None:
            bar.close()
    if result.skipped_photos and not args.quiet:
        print(f"note: skipped {len(result.skipped_photos)} unreadable files in '{args.photos}' "
              f"(first: {result.skipped_photos[0]})", file=sys.stderr)
    if report is not None:
        _write_train_report(report, result, config)
    if result.stopped:
        argv = list(getattr(args, "argv", []) or [])
        again = " ".join(["nst", *argv] + ([] if "--resume" in argv else ["--resume"]))
        print(f"interrupted at step {result.steps} of {config.total_iterations}; the state is saved in "
              f"{output.name}.ckpt; resume with: {again}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not args.quiet:
        last = result.history[-1] if result.history else {}
        print(f"wrote {output} after {result.steps} steps in {result.elapsed:.0f} s on {result.photos} photos; "
              f"final loss {last.get('total', float('nan')):.4g}", file=sys.stderr)
    return EXIT_OK


def check_output_model(output: Path, replace: bool) -> None:
    if output.is_dir():
        raise InputError(f"output '{output}' is a directory")
    if not output.parent.is_dir():
        raise InputError(f"output folder '{output.parent}' does not exist")
    if output.exists() and not replace:
        raise InputError(f"model '{output}' already exists (use --overwrite to replace it)")


def _write_train_report(report: Path, result: Any, config: TrainConfig) -> None:
    data = {"settings": config.to_dict(), "card": result.card.to_dict(), "steps": result.steps,
            "seconds": round(result.elapsed, 1), "stopped": result.stopped, "photos": result.photos,
            "skipped_photos": result.skipped_photos, "history": result.history}
    write_text_atomically(report, json.dumps(data, indent=1))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for key in ("total", "content", "style", "tv"):
        ax.plot([h[key] for h in result.history], label=key, linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (weighted)")
    ax.set_title(f"training {result.card.name}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(report.with_suffix(".png"), dpi=100)
    plt.close(fig)


def add_models_command(sub: Any) -> None:
    p = sub.add_parser("models", help="list the bundled style models")
    p.add_argument("--json", action="store_true", help="the model cards as JSON")
    p.set_defaults(run=cmd_models)


def cmd_models(args: argparse.Namespace) -> int:
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
    return f"{stages}, batch {cfg.get('batch_size')}, style weight {cfg.get('style_weight'):g}{per_layer}"


def add_export_command(sub: Any) -> None:
    p = sub.add_parser("export", help="write a style model as ONNX (checked against torch)")
    p.add_argument("model", help="a bundled name or a .pt file from 'nst train'")
    p.add_argument("-o", "--output", required=True, metavar="MODEL.onnx")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    p.set_defaults(run=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    output = Path(args.output)
    check_output_model(output, args.overwrite)
    from nst.models.export import export_onnx
    from nst.models.torch_model import StyleModel

    worst = export_onnx(StyleModel.load(args.model), output)
    print(f"wrote {output}; largest difference from torch {worst * 255:.3f}/255", file=sys.stderr)
    return EXIT_OK


def _version() -> str:
    import nst

    return nst.__version__
