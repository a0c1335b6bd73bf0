"""`nst train`: train a style model for one painting on a folder of photos; resumable.

Its settings are `TrainConfig`'s, each an option made from the field (`nst.cli.settings`).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import Any

from nst.cli.options import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    add_device_option,
    check_output_model,
    resolve_device,
    write_text_atomically,
)
from nst.cli.settings import add_settings, settings_from_args
from nst.errors import InputError
from nst.models.config import TrainConfig


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("style", metavar="PAINTING", help="the painting")
    p.add_argument("--photos", required=True, metavar="DIR", help="folder of training photos (unreadable files are skipped)")
    p.add_argument("-o", "--output", required=True, metavar="MODEL.pt", help="the model file to write")
    p.add_argument("--name", help="the model's name (default: the output's file name)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model file")
    p.add_argument("--resume", action="store_true", help="continue an interrupted training from MODEL.pt.ckpt")
    p.add_argument("--init", metavar="NAME|PATH",
                   help="fine-tune this model (a bundled name or a .pt file of the same width) instead of "
                        "starting from random weights")
    p.add_argument("--report", metavar="PATH", help="JSON with settings and the loss history, and a loss plot beside it (.png)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    add_device_option(p)
    basic = p.add_argument_group("training settings (defaults: nst.TrainConfig)")
    expert = p.add_argument_group("expert training settings")
    add_settings({"basic": basic, "expert": expert}, TrainConfig)


def run(args: argparse.Namespace) -> int:
    from nst.image import save_image
    from nst.models.train import train_style_model

    config = settings_from_args(args, TrainConfig)
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
