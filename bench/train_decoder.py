"""Train (or continue training) the any-painting decoder that ships inside nst.

    python bench/train_decoder.py                     # resumable: run it again to continue
    python bench/train_decoder.py --photos DIR --work DIR --iterations 2000,150
    python bench/train_decoder.py --export src/nst/universal/bundled/decoder.pt   # its ONNX files beside it

Trains on photos only (default ../shared/photos: BSDS500 train + val, 300 photos) with the
defaults of nst.universal.config.DecoderTrainConfig. The state is checkpointed every minute under
--work (default ../runs/decoder); a preview of the decoder every few hundred steps lands there
too, and when it finishes, decoder.pt, its ONNX files (encoder.onnx, decoder.onnx: what
`nst stylize --instant` runs on a CPU without torch) and report.json (settings, loss history,
time). Copying them into src/nst/universal/bundled/ is a deliberate, reviewed step.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from nst.image import save_image
from nst.universal.config import DecoderTrainConfig
from nst.universal.export import export_networks
from nst.universal.train import train_decoder

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PHOTOS_SOURCE = "BSDS500 train and val (300 photos; Berkeley Segmentation Dataset, for research use)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=SHARED / "photos")
    parser.add_argument("--photos-source", default=PHOTOS_SOURCE, help="where the photos come from (the card)")
    parser.add_argument("--work", type=Path, default=ROOT.parent / "runs" / "decoder")
    parser.add_argument("--iterations", help="steps of each stage, overriding the config's (e.g. 2000,150)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--fresh", action="store_true", help="start afresh even if a checkpoint exists")
    parser.add_argument("--init", type=Path, metavar="DECODER",
                        help="continue from this decoder's weights (e.g. the bundled one) instead of random ones")
    parser.add_argument("--export", type=Path, metavar="DECODER",
                        help="only write this decoder file's ONNX networks beside it (checked against torch)")
    args = parser.parse_args()
    if args.export:
        worst = export_networks(args.export, args.export.parent)
        print(f"{args.export.parent}/encoder.onnx, decoder.onnx: largest difference from torch {worst * 255:.2f}/255")
        return 0
    if not args.photos.is_dir():
        print(f"skipped: {args.photos} is absent", file=sys.stderr)
        return 0
    config = DecoderTrainConfig()
    if args.iterations:
        config = dataclasses.replace(config, iterations=tuple(int(n) for n in args.iterations.split(",")))
    args.work.mkdir(parents=True, exist_ok=True)
    output = args.work / "decoder.pt"
    checkpoint = output.with_name(output.name + ".ckpt")
    resume = checkpoint.exists() and not args.fresh
    if checkpoint.exists() and args.fresh:
        checkpoint.unlink()
    bar = tqdm(total=config.total_iterations, unit="step", smoothing=0.05)

    def show(progress) -> None:  # type: ignore[no-untyped-def]
        bar.n = progress.step
        bar.set_postfix(size=progress.size, **{k: f"{v:.3f}" for k, v in progress.terms.items()})
        if progress.preview is not None:
            save_image(progress.preview, args.work / f"preview-{progress.step:05d}.png")

    started = time.time()
    result = train_decoder(args.photos, output, config, device=args.device, resume=resume, callback=show,
                           photos_source=args.photos_source, init=args.init)
    bar.close()
    report = {"card": result.card.to_dict(), "history": result.history, "wall_seconds": time.time() - started,
              "skipped_photos": result.skipped_photos}
    (args.work / "report.json").write_text(json.dumps(report, indent=1))
    if result.stopped:
        print(f"stopped at step {result.steps}: run the same command again to continue")
        return 0
    export_networks(output, args.work)
    print(f"decoder: {output} and its ONNX networks ({result.steps} steps, {result.elapsed / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
