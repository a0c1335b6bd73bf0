"""Train (or continue training) the style models that ship inside nst, then export them.

    python bench/train_bundled.py                 # all four, one after the other, resumable
    python bench/train_bundled.py starry-night    # one of them
    python bench/train_bundled.py --fine-tune --iterations 0,300 --style-weight 5e4 great-wave
                                                  # continue the bundled model with other settings
    python bench/train_bundled.py --fine-tune --iterations 0,300 --subject-weight 10 --laplacian-weight 0.02 udnie
    python bench/train_bundled.py --fine-tune --iterations 0,150 --style-loss relative   # how the four were last made

Each model trains on the photos in ../shared/photos (BSDS500 train + val, 300 photos) with the
defaults of nst.TrainConfig; the paintings are the public-domain ones of ../shared/images. The
training state is checkpointed every minute under --work (default ../runs/bundled), so killing
this script loses at most a minute: run it again to continue. Finished models are written there
as NAME.pt and NAME.onnx; copying them into src/nst/models/bundled/ is a deliberate, reviewed step.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from nst.image import save_image
from nst.models.config import STYLE_LOSSES, TrainConfig
from nst.models.export import export_onnx
from nst.models.store import load_model, save_model
from nst.models.torch_model import StyleModel
from nst.models.train import train_style_model
from nst.training import load_photos

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
#: name -> (painting file in ../shared/images, the painting's title). Public domain only.
BUNDLED = {
    "starry-night": ("starry_night.jpg", "Vincent van Gogh, The Starry Night (1889)"),
    "the-scream": ("the_scream.jpg", "Edvard Munch, The Scream (1893)"),
    "great-wave": ("great_wave.jpg", "Katsushika Hokusai, The Great Wave off Kanagawa (c. 1831)"),
    "udnie": ("udnie.jpg", "Francis Picabia, Udnie (1913)"),
}
PHOTOS_SOURCE = "BSDS500 train and val (300 photos; Berkeley Segmentation Dataset, for research use)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"some of: {', '.join(BUNDLED)}")
    parser.add_argument("--work", type=Path, default=ROOT.parent / "runs" / "bundled")
    parser.add_argument("--iterations", help="steps of each stage, overriding TrainConfig's (e.g. 800,200)")
    parser.add_argument("--style-weight", type=float, help="overriding TrainConfig's")
    parser.add_argument("--style-layer-weights", help="a weight per style layer, overriding TrainConfig's (e.g. 3,3,2,1,1)")
    parser.add_argument("--subject-weight", type=float, help="overriding TrainConfig's (the optimisation's default: 10)")
    parser.add_argument("--laplacian-weight", type=float, help="overriding TrainConfig's (the optimisation's default: 0.02)")
    parser.add_argument("--style-loss", choices=STYLE_LOSSES, help="overriding TrainConfig's")
    parser.add_argument("--tv-weight", type=float, help="overriding TrainConfig's")
    parser.add_argument("--fine-tune", action="store_true",
                        help="start from the model bundled now under the same name (its card is kept as the lineage)")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in BUNDLED]
    if unknown:
        parser.error(f"unknown model {unknown[0]!r} (choose from {', '.join(BUNDLED)})")
    if not (SHARED / "photos").is_dir():
        print(f"skipped: {SHARED / 'photos'} is absent", file=sys.stderr)
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    config = TrainConfig()
    if args.iterations:
        config = config.with_changes(iterations=tuple(int(n) for n in args.iterations.split(",")))
    if args.style_weight:
        config = config.with_changes(style_weight=args.style_weight)
    for field in ("subject_weight", "laplacian_weight", "style_loss", "tv_weight"):
        if getattr(args, field) is not None:
            config = config.with_changes(**{field: getattr(args, field)})
    if args.style_layer_weights:
        config = config.with_changes(style_layer_weights=tuple(float(w) for w in args.style_layer_weights.split(",")))
    photos = load_photos(SHARED / "photos", shorter_side=max(config.sizes) * 5 // 4)
    print(f"{len(photos.images)} photos ({len(photos.skipped)} skipped)", flush=True)
    for name in args.names or list(BUNDLED):
        style_file, title = BUNDLED[name]
        out = args.work / f"{name}.pt"
        if out.exists():
            print(f"{name}: done already ({out})", flush=True)
            continue
        ckpt = args.work / f"{name}.pt.ckpt"
        started = time.perf_counter()

        def report(p, name=name):
            if p.step % 50 == 0 or p.step == p.total_steps:
                left = p.seconds_left or 0
                print(f"{name} {p.step}/{p.total_steps} {p.size}px {p.elapsed:.0f}s left {left:.0f}s "
                      f"content {p.content:.3g} style {p.style:.3g} tv {p.tv:.3g}", flush=True)
            if p.preview is not None:
                save_image(p.preview, args.work / f"{name}-preview-{p.step:05d}.png")

        result = train_style_model(SHARED / "images" / style_file, photos, out, config, name=name,
                                   painting=title, checkpoint=ckpt, resume=ckpt.exists(), callback=report,
                                   init=name if args.fine_tune else None)
        network, card = load_model(out)
        card = card.__class__(**{**card.to_dict(), "photos_source": PHOTOS_SOURCE, "nst_version": _version()})
        save_model(network, card, out)
        worst = export_onnx(StyleModel(network, card), args.work / f"{name}.onnx")
        print(f"{name}: {result.steps} steps in {result.elapsed:.0f} s "
              f"({time.perf_counter() - started:.0f} s this sitting); ONNX parity {worst * 255:.3f}/255", flush=True)
    return 0


def _version() -> str:
    import nst

    return nst.__version__


if __name__ == "__main__":
    sys.exit(main())
