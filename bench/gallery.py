"""Make the pictures of docs/gallery.md from ../shared/images, timing each one.

    python bench/gallery.py --size 384 --out docs/img      # about 15 minutes on 2 cores

Every picture is made through the public API with the settings printed beside it, so each one can
be reproduced with the `nst stylize` command shown in docs/gallery.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

import nst

IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"


def sky_mask(photo: Path, size: int, out: Path) -> Path:
    """A two-region mask of a photo: bright blue sky white (style 1), everything else red (style 2)."""
    image = nst.load_image(photo, size)[0]
    r, g, b = image
    sky = (b > r + 0.08) & (b > 0.45)
    # The sky is the top of a landscape: keep only sky pixels connected to the top rows (roughly).
    rows = sky.float().mean(dim=1)
    horizon = int((rows > 0.5).nonzero().max()) + 1 if (rows > 0.5).any() else image.shape[1] // 3
    sky[horizon:] = False
    mask = torch.zeros(3, *sky.shape)
    mask[0] = 1.0  # red everywhere ...
    mask[:, sky] = 1.0  # ... white in the sky
    nst.save_image(mask.unsqueeze(0), out)
    return out


def side_by_side_crops(paths: list[Path], out: Path, box: tuple[int, int, int, int] = (0, 40, 120, 160),
                       zoom: int = 3) -> None:  # fmt: skip
    """The same corner of several pictures, enlarged without smoothing, so grain shows."""
    from PIL import Image

    crops = [Image.open(p).convert("RGB").crop(box) for p in paths]
    w, h = (box[2] - box[0]) * zoom, (box[3] - box[1]) * zoom
    sheet = Image.new("RGB", (len(crops) * w + (len(crops) - 1) * 8, h), "white")
    for i, crop in enumerate(crops):
        sheet.paste(crop.resize((w, h), Image.NEAREST), (i * (w + 8), 0))
    sheet.save(out)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--out", default="docs/img")
    parser.add_argument("--only", nargs="*", help="names of the pictures to make (default: all)")
    args = parser.parse_args()
    if not IMAGES.is_dir():
        print(f"skipped: {IMAGES} is absent")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    img = {name: IMAGES / f"{name}.jpg" for name in
           ("tubingen", "starry_night", "the_scream", "brad_pitt", "picasso_selfport1907", "seated-nude",
            "hoovertowernight", "escher_sphere")}  # fmt: skip
    base = nst.StyleConfig(size=args.size)
    mask = sky_mask(img["tubingen"], args.size, out / "gallery-mask-tubingen.png")
    jobs = {
        "colour-none": (img["brad_pitt"], [img["the_scream"]], base),
        "colour-luminance": (img["brad_pitt"], [img["the_scream"]], base.with_changes(preserve_color="luminance")),
        "colour-histogram": (img["brad_pitt"], [img["the_scream"]], base.with_changes(preserve_color="histogram")),
        "blend": (img["tubingen"], [img["starry_night"], img["the_scream"]], base.with_changes(style_blend=(0.5, 0.5))),
        "style-scale-0.5": (img["hoovertowernight"], [img["starry_night"]], base.with_changes(style_scale=0.5)),
        "style-scale-1": (img["hoovertowernight"], [img["starry_night"]], base),
        "style-scale-2": (img["hoovertowernight"], [img["starry_night"]], base.with_changes(style_scale=2.0)),
        "mask": (img["tubingen"], [img["starry_night"], img["the_scream"]], base.with_changes(mask=str(mask))),
        "grain-tv0": (img["brad_pitt"], [img["the_scream"]], base.with_changes(tv_weight=0.0)),
        "pooling-max": (img["brad_pitt"], [img["the_scream"]], base.with_changes(pooling="max")),
    }  # fmt: skip
    timings = {}
    for name, (content, styles, config) in jobs.items():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        result = nst.transfer_style(content, styles, config)
        seconds = time.perf_counter() - started
        nst.save_image(result.image, out / f"gallery-{name}.png",
                       {"settings": config.to_dict(), "version": nst.__version__})  # fmt: skip
        timings[name] = {"seconds": round(seconds, 1), "iterations": result.iterations,
                         "size": list(result.image.size), "stop_reason": result.stop_reason}  # fmt: skip
        print(f"{name:18s} {seconds:7.1f} s  {result.iterations:4d} it  {result.image.size}", flush=True)
    grain = [out / f"gallery-{name}.png" for name in ("grain-tv0", "colour-none", "pooling-max")]
    if all(path.is_file() for path in grain):
        side_by_side_crops(grain, out / "gallery-grain-crops.png")
    previous = out / "gallery-timings.json"
    merged = json.loads(previous.read_text()) if previous.exists() else {}
    merged.update(timings)
    previous.write_text(json.dumps(merged, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
