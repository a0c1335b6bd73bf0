"""The quality panel: every photo x painting pair under several settings, measured and drawn.

For each configuration (the paper's, today's defaults, 0.1.0's, the defaults with --set changes
or without one mechanism: `CONFIGS`, `configurations`) and each photo x painting pair, paints the
pair as a one-cell experiment of nst.experiments in OUT/<size>/<config>/<pair>/ (the picture, and
in manifest.json the seconds, iterations, why it stopped and the run's own objective terms), then
records in measures.json beside it:

* CPU seconds (all threads: on a shared machine the work done, where wall time is the neighbours');
* the *common* objective of the picture (the paper's loss with alpha 1, beta 1e4, nst's default
  layers and tv 0.01, as bench/compare.py scores it), one scale for configurations whose own
  objectives differ;
* style_distance and texture_distance to the painting, and structure (SSIM of the blurred
  luminance, sigma 2 px at 256 px) against the photo (bench/measures.py);
* style_distance_max: style_distance in the max-pooling network (the mean of the two is the
  style measure between configurations whose pooling differs: bench/measures.py);
* grid: the amplitude of a periodic pattern at the pooling periods in the photo's flat areas
  (bench/grain.py, `grid_pattern`), and dots: isolated dots per 1000 flat pixels (`dot_density`).

A finished pair is skipped (nst.experiments resumes an interrupted cell's folder), so a stopped
panel goes on where it stopped and a slow configuration (the paper's 1000 iterations) can be
completed later. Contact sheets (OUT/<size>/sheet-<config>.png: photos in rows, paintings in
columns) and a comparison sheet (OUT/<size>/compare.png: pairs in rows, configurations in
columns) are drawn from what is finished.

    python bench/quality.py --configs default paper                       # the whole 3x7 panel at 256 px
    python bench/quality.py --pairs 'tubingen~picasso*' 'tubingen~starry*'
    python bench/quality.py --extra-photos 8 --configs default             # + 8 BSDS500 photos
    python bench/quality.py --heldout --pairs '*~picasso*' --configs default   # photos no setting was chosen on
    python bench/quality.py --configs default --set tv_weight=0 subject_weight=1
    python bench/quality.py --configs default --ablate                     # each mechanism left out
    python bench/quality.py --configs default --ablate tv pyramid          # only these two left out
    python bench/quality.py --report-only                                  # tables and sheets only
    python bench/quality.py --remeasure                                    # add newer measures to old cells
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baselines import previous_defaults, scoring_config  # noqa: E402
from grain import dot_density, flat_band_energy, grid_pattern  # noqa: E402
from heldout import DEFAULT_PHOTOS as HELDOUT_PHOTOS  # noqa: E402
from heldout import TEST, photo_paths  # noqa: E402
from measures import Box, structure, style_distance, texture_distance  # noqa: E402

import nst  # noqa: E402
from nst.engines import Engine, make_engine  # noqa: E402
from nst.experiments import execute, grid, prepare  # noqa: E402
from nst.experiments.manifest import image_name  # noqa: E402
from nst.experiments.sheet import Header, SheetSpec, render_sheet  # noqa: E402

#: Beside each pair's experiment: the picture's measures (recomputed by --remeasure).
MEASURES = "measures.json"

SHARED = Path(__file__).resolve().parents[2] / "shared"
IMAGES = SHARED / "images"
PHOTOS = SHARED / "photos"
CONTENTS = ("tubingen.jpg", "brad_pitt.jpg", "hoovertowernight.jpg")
PAINTINGS = (
    "starry_night.jpg", "the_scream.jpg", "picasso_selfport1907.jpg", "seated-nude.jpg",
    "escher_sphere.jpg", "great_wave.jpg", "udnie.jpg",
)  # fmt: skip
#: Each panel photo's subject, drawn by hand (left, top, right, bottom as fractions): where the
#: "subject structure" measure looks, since the whole picture's mean is mostly sky, water and grass.
SUBJECT_BOXES: dict[str, Box] = {
    "brad_pitt": (0.22, 0.12, 0.78, 0.72),  # the face
    "tubingen": (0.3, 0.15, 1.0, 0.8),  # the houses and the church tower
    "hoovertowernight": (0.68, 0.0, 0.87, 0.65),  # the tower
    "100075": (0.0, 0.25, 1.0, 0.85),  # the bears
    "100080": (0.05, 0.3, 0.62, 0.85),  # the bear in the grass
    "100098": (0.4, 0.35, 1.0, 0.85),  # the bear on the snow
    "101085": (0.1, 0.0, 1.0, 0.95),  # the statues
    "101087": (0.55, 0.15, 0.85, 0.95),  # the man on the raft
    "102061": (0.05, 0.08, 0.85, 0.5),  # the château (its reflection left out)
    "103041": (0.0, 0.3, 0.95, 0.65),  # the gulls
    "103070": (0.0, 0.15, 0.65, 0.85),  # the boobies
}
#: The named configurations, each a function of the output size: the paper's method, today's
#: defaults and 0.1.0's (bench/baselines.py). Others are made on the command line: --set KEY=VALUE
#: changes the defaults, --ablate takes each of `ABLATIONS` out of them in turn.
CONFIGS: dict[str, Callable[[int], nst.StyleConfig]] = {
    "paper": lambda size: nst.StyleConfig.preset("paper"),
    "default": lambda size: nst.StyleConfig(),
    "previous": previous_defaults,
}

#: What the defaults add to the paper, each with the settings that take it out (the paper's value).
#: Without the pyramid, one scale runs 120 iterations: about the pyramid's time at 256 px.
ABLATIONS: dict[str, dict[str, object]] = {
    "pyramid": {"scales": 1, "iterations": 120},
    "photo-start": {"init": "noise"},
    "max-pooling": {"pooling": "avg"},
    "stroke-weight": {"stroke_weight": 1.0},
    "tv": {"tv_weight": 0.0},
    "outline-term": {"laplacian_weight": 0.0},
    "final-style-size": {"coarse_style": "level"},
    "content-boost": {"coarse_content_boost": 1.0},
    "conv5_1-final-only": {"final_only_style_layers": ()},
    "salient-cut": {"salient_quantile": 1.0},
    "subject-weight": {"subject_weight": 1.0},
}


def configurations(
    names: list[str], settings: list[str], ablate: list[str] | None
) -> dict[str, Callable[[int], nst.StyleConfig]]:
    """The configurations to run: the named ones, "default+KEY=VALUE,..." for --set, and
    "no-MECHANISM" for each mechanism in ``ablate`` (all of `ABLATIONS` when it is empty; none
    when it is None)."""
    chosen = {name: CONFIGS[name] for name in names}
    if settings:
        changed = with_settings(nst.StyleConfig(), settings)
        chosen["default+" + ",".join(settings)] = lambda size: changed
    if ablate is not None:
        for mechanism in ablate or ABLATIONS:
            changes = ABLATIONS[mechanism]
            chosen[f"no-{mechanism}"] = lambda size, changes=changes: nst.StyleConfig(**changes)
    return chosen


def with_settings(config: nst.StyleConfig, settings: list[str]) -> nst.StyleConfig:
    """``config`` with KEY=VALUE settings, each parsed as its `nst stylize` option is."""
    from nst.cli.settings import add_settings, settings_from_args

    parser = argparse.ArgumentParser(prog="--set", add_help=False)
    group = parser.add_argument_group("settings")
    add_settings({"basic": group, "expert": group}, nst.StyleConfig)
    argv, given = [], set()
    for item in settings:
        key, _, value = item.partition("=")
        option = "--" + key.strip().replace("_", "-")
        if value.lower() in ("true", "false"):
            argv.append(option if value.lower() == "true" else option.replace("--", "--no-", 1))
        else:
            argv += [option, value]
        given.add(key.strip().replace("-", "_"))
    args = parser.parse_args(argv)
    args.given = given
    return settings_from_args(args, nst.StyleConfig, config)


def pairs(extra_photos: int, heldout: bool = False) -> dict[str, tuple[Path, Path]]:
    """{"photo~painting": (photo, painting)} for the shared images, plus ``extra_photos`` BSDS500
    photos (the first ones by name, so the panel is the same on every run); with ``heldout``, the
    28 held-out BSDS500 test photos of bench/heldout.py instead, which no choice of settings used."""
    photos = photo_paths(HELDOUT_PHOTOS, list(TEST)) if heldout else [IMAGES / name for name in CONTENTS]
    if extra_photos and PHOTOS.is_dir():
        photos += sorted(PHOTOS.glob("*.jpg"))[:extra_photos]
    return {f"{p.stem}~{s.split('.')[0]}": (p, IMAGES / s) for p in photos for s in PAINTINGS}


def selected(names: list[str], patterns: list[str] | None) -> list[str]:
    if not patterns:
        return names
    return [n for n in names if any(fnmatch.fnmatch(n, pattern) for pattern in patterns)]


class CommonObjective:
    """The paper's objective with nst's default settings at one size (bench/compare.py's scale),
    for pictures from configurations whose own objectives differ."""

    def __init__(self, size: int) -> None:
        self.config = scoring_config(size)
        self.extractor = nst.build_extractor(self.config)

    def __call__(self, picture: Image.Image, photo: Path, painting: Path) -> dict[str, float]:
        import torch

        from nst.optimise.objective import Objective

        size = max(picture.size)
        objective = Objective(
            self.extractor, self.config, nst.load_image(photo, size),
            [nst.load_image(painting, self.config.style_longest_side(size))],
        )  # fmt: skip
        with torch.no_grad():
            total, terms = objective(nst.load_image(picture))
        losses = objective.breakdown(total, terms)
        return {"content": losses.content, "style": losses.style, "tv": losses.tv, "total": losses.total}


def run_pair(
    config: nst.StyleConfig, photo: Path, painting: Path, folder: Path, engine: Engine, common: CommonObjective
) -> dict | None:
    """Paint one pair with one configuration as a one-cell experiment in ``folder`` (nst.experiments:
    resumable, the picture written whole or not at all), then measure it into measures.json.
    None when both were there already."""
    plan = prepare(grid([photo], [painting], config), folder)
    cpu_seconds = None
    if plan.pending:
        started = time.process_time()
        execute(plan, engine=engine, render=False)
        cpu_seconds = time.process_time() - started
    elif (folder / MEASURES).is_file():
        return None
    import torch

    picture = Image.open(folder / image_name(plan.experiment.cells[0])).convert("RGB")
    measures = {
        "cpu_seconds": cpu_seconds,
        "threads": torch.get_num_threads(),
        "common_objective": common(picture, photo, painting),
        **measure(picture, Image.open(photo).convert("RGB"), Image.open(painting).convert("RGB"),
                  SUBJECT_BOXES.get(photo.stem)),
    }  # fmt: skip
    (folder / MEASURES).write_text(json.dumps(measures, indent=1))
    return load_cell(folder)


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def load_cell(folder: Path) -> dict | None:
    """A finished pair's record: the experiment's cell (seconds, iterations, stop reason, losses,
    settings) with its measures and the picture's path; None when it is not finished and measured."""
    if not (folder / MEASURES).is_file() or not (folder / "manifest.json").is_file():
        return None
    cell = read_manifest(folder)["cells"][0]
    if cell["status"] != "done":
        return None
    return {
        "settings": cell["settings"], "seconds": cell["elapsed_seconds"], "iterations": cell["iterations"],
        "stop_reason": cell["stop_reason"], "losses": cell["final_losses"], "picture": folder / cell["image"],
        **json.loads((folder / MEASURES).read_text()),
    }  # fmt: skip


def measure(picture: Image.Image, photo: Image.Image, painting: Image.Image, subject: Box | None = None) -> dict:
    """The picture measures of a cell (`run_cell`; `--remeasure` recomputes them from the PNG);
    "subject_structure" only for a photo with a ``subject`` box."""
    return {
        **({"subject_structure": structure(picture, photo, subject)} if subject else {}),
        "style_distance": style_distance(picture, painting),
        "style_distance_max": style_distance(picture, painting, "max"),
        "texture_distance": texture_distance(picture, painting),
        "structure": structure(picture, photo),
        "grid": grid_pattern(picture, photo),
        "flat_band": flat_band_energy(picture, photo),
        "dots": dot_density(picture, photo),
    }


def load_cells(root: Path) -> dict[tuple[str, str], dict]:
    """{(configuration, pair): cell} for every finished and measured pair under ``root``."""
    cells = {}
    for folder in root.glob("*/*"):
        if folder.is_dir() and (cell := load_cell(folder)) is not None:
            cells[(folder.parent.name, folder.name)] = cell
    return cells


def _grid_max(cell: dict) -> float:
    return max(cell["grid"]["amplitude"].values())


def _mean(cells: dict[str, dict], key: str, digits: int = 3) -> str:
    """The mean of one measure over cells, blank when a cell predates it (see --remeasure)."""
    values = [_value(c, key) for c in cells.values()]
    return "" if None in values else f"{sum(values) / len(values):.{digits}f}"  # type: ignore[arg-type]


def _value(cell: dict, key: str) -> float | None:
    """A cell's measure; "style_both" is the mean of its style distance in the average- and the
    max-pooling network: a picture optimised through one network scores better in it than the eye
    sees, so configurations whose pooling differs are compared on both."""
    if key == "style_both":
        return (cell["style_distance"] + cell["style_distance_max"]) / 2 if "style_distance_max" in cell else None
    return cell.get(key)


def summary(cells: dict[tuple[str, str], dict], configs: list[str], pair_names: list[str]) -> str:
    """Markdown: one row per configuration (means over the pairs it has), then structure and
    style distance per pair."""
    lines = [
        "| config | cells | seconds | CPU s | structure mean | structure min (pair) | subject structure | style dist "
        "| style (max net) | style (both) | texture dist | grid (1/255) | dots |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in configs:
        mine = {p: cells[(name, p)] for p in pair_names if (name, p) in cells}
        if not mine:
            continue
        n = len(mine)
        worst = min(mine, key=lambda p: mine[p]["structure"])
        lines.append(
            f"| {name} | {n} | {sum(c['seconds'] for c in mine.values()) / n:.1f} "
            f"| {sum(c.get('cpu_seconds') or 0 for c in mine.values()) / n:.1f} "
            f"| {sum(c['structure'] for c in mine.values()) / n:.3f} "
            f"| {mine[worst]['structure']:.3f} ({worst}) | {_mean(mine, 'subject_structure')} "
            f"| {sum(c['style_distance'] for c in mine.values()) / n:.3f} "
            f"| {_mean(mine, 'style_distance_max')} | {_mean(mine, 'style_both')} "
            f"| {sum(c['texture_distance'] for c in mine.values()) / n:.3f} "
            f"| {sum(_grid_max(c) for c in mine.values()) / n:.2f} | {_mean(mine, 'dots', 2)} |"
        )
    shown = [c for c in configs if any((c, p) in cells for p in pair_names)]
    lines += ["", "structure (the subject's) / style distance (both networks where measured, else average pooling's) / dots / "
              "CPU seconds per pair:", "",
              "| pair | " + " | ".join(shown) + " |", "| --- |" + " ---: |" * len(shown)]  # fmt: skip
    for pair in pair_names:
        row = []
        for name in shown:
            c = cells.get((name, pair))
            if c is None:
                row.append("")
                continue
            both, dots = _value(c, "style_both"), c.get("dots")
            style = f"{both:.3f}" if both is not None else f"{c['style_distance']:.3f} (avg)"
            dots_text = f"{dots:.1f}" if dots is not None else "-"
            subject = c.get("subject_structure")
            subject_text = f" ({subject:.3f})" if subject is not None else ""
            row.append(f"{c['structure']:.3f}{subject_text} / {style} / {dots_text} / {c.get('cpu_seconds') or 0:.0f}")
        if any(row):
            lines.append(f"| {pair} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def draw_sheets(root: Path, cells: dict, configs: list[str], pair_names: list[str], compare_pairs: list[str],
                photos_by_pair: dict[str, Path]) -> None:
    """OUT/<size>/sheet-<config>.png (photos in rows, paintings in columns) and compare.png (pairs
    in rows, configurations in columns), drawn from the pairs that are finished."""

    def picture(name: str, pair: str) -> Image.Image | None:
        cell = cells.get((name, pair))
        return Image.open(cell["picture"]).convert("RGB") if cell else None

    def label(name: str, pair: str) -> str:
        c = cells.get((name, pair))
        if c is None:
            return "(not run)"
        both = _value(c, "style_both")
        return f"structure {c['structure']:.2f} style {both if both is not None else c['style_distance']:.2f}"

    photos = list(dict.fromkeys(p.split("~")[0] for p in pair_names))
    paintings = list(dict.fromkeys(p.split("~")[1] for p in pair_names))
    for name in configs:
        if any((name, p) in cells for p in pair_names):
            render_sheet(SheetSpec(
                title=name, columns=[Header(a) for a in paintings], rows=[Header(p) for p in photos],
                cells=[[picture(name, f"{p}~{a}") for a in paintings] for p in photos],
                notes=[[label(name, f"{p}~{a}") for a in paintings] for p in photos], cell_size=128,
            )).save(root / f"sheet-{name}.png")  # fmt: skip
    shown = [c for c in configs if any((c, p) in cells for p in compare_pairs)]
    if compare_pairs and shown:
        render_sheet(SheetSpec(
            title="configurations compared", columns=[Header("photo")] + [Header(c) for c in shown],
            rows=[Header(pair.split("~")[1]) for pair in compare_pairs],
            cells=[[Image.open(photos_by_pair[pair]).convert("RGB")] + [picture(c, pair) for c in shown]
                   for pair in compare_pairs],
            notes=[[""] + [label(c, pair) for c in shown] for pair in compare_pairs], cell_size=160,
        )).save(root / "compare.png")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--configs", nargs="*", default=["default", "paper"], choices=list(CONFIGS),
                        help="named configurations to run (default: default paper)")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", dest="settings",
                        help="also run the defaults with these settings (e.g. tv_weight=0 subject_weight=1)")
    parser.add_argument("--ablate", nargs="*", choices=list(ABLATIONS), metavar="MECHANISM",
                        help="also run the defaults without each of these mechanisms in turn (default: "
                             "all of " + ", ".join(ABLATIONS) + ")")
    parser.add_argument("--pairs", nargs="+", help="glob patterns on 'photo~painting' names")
    parser.add_argument("--extra-photos", type=int, default=0, help="add this many BSDS500 photos")
    parser.add_argument("--heldout", action="store_true",
                        help="the 28 held-out BSDS500 test photos (bench/heldout.py) instead of the panel's photos")
    parser.add_argument("--out", default="runs/quality")
    parser.add_argument("--report-only", action="store_true", help="no new runs: tables and sheets")
    parser.add_argument("--force", action="store_true", help="paint again the pairs that are finished")
    parser.add_argument("--remeasure", action="store_true", help="recompute the measures of the finished pairs from their pictures (no runs)")
    parser.add_argument("--threads", type=int, help="torch threads (1 is fastest on a busy machine)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if not IMAGES.is_dir():
        print(f"skipped: {IMAGES} is absent")
        return 0
    chosen = configurations(args.configs, args.settings, args.ablate)
    panel = pairs(args.extra_photos, args.heldout)
    pair_names = selected(list(panel), args.pairs)
    root = Path(args.out) / str(args.size)
    if args.remeasure:
        for pair in pair_names:
            photo, painting = (Image.open(p).convert("RGB") for p in panel[pair])
            for name in chosen:
                path = root / name / pair / MEASURES
                if (cell := load_cell(path.parent)) is not None:
                    picture = Image.open(cell["picture"]).convert("RGB")
                    updated = {**json.loads(path.read_text()),
                               **measure(picture, photo, painting, SUBJECT_BOXES.get(panel[pair][0].stem))}
                    path.write_text(json.dumps(updated, indent=1))
    elif not args.report_only:
        common = CommonObjective(args.size)
        engine = make_engine("local", jobs=1)  # in this process, keeping each network it builds
        for pair in pair_names:  # pair-major: each pair's comparison is complete before the next
            for name, make in chosen.items():
                folder = root / name / pair
                if args.force and folder.is_dir():
                    shutil.rmtree(folder)
                cell = run_pair(make(args.size).with_changes(size=args.size), *panel[pair], folder, engine, common)
                if cell is not None:
                    print(f"{name:22s} {pair:34s} {cell['seconds']:6.1f} s ({cell['cpu_seconds'] or 0:.0f} CPU s)  "
                          f"structure {cell['structure']:.3f}  style {cell['style_distance']:.3f}  "
                          f"texture {cell['texture_distance']:.3f}  grid {_grid_max(cell):.2f}", flush=True)  # fmt: skip
    cells = load_cells(root)
    print(f"\n## {args.size} px\n")
    print(summary(cells, list(chosen), pair_names))
    photos_by_pair = {pair: panel[pair][0] for pair in pair_names}
    draw_sheets(root, cells, list(chosen), pair_names, pair_names if len(pair_names) <= 12 else [], photos_by_pair)
    return 0


if __name__ == "__main__":
    sys.exit(main())
