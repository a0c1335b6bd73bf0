"""`nst demo`: a picture with nothing to download or choose, the README's first command.

The photo is the portrait of Grace Hopper that matplotlib ships in its sample data (public
domain). By default a bundled style model paints it (seconds); ``--optimise`` runs the
optimisation instead, in a style painted here from a seed (short curved brush strokes along a
swirling flow field in a night-sky palette), so that no artwork has to be shipped or fetched.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from nst.cli.options import EXIT_OK, UsageError, check_output, number
from nst.cli.settings import add_style_options
from nst.errors import InputError
from nst.optimise.schedule import DEFAULT_SIZE_CPU, DEFAULT_SIZE_TEXT

if TYPE_CHECKING:
    from PIL import Image

#: The bundled style model that paints the demo without --optimise, at this size (seconds on a CPU).
DEMO_MODEL = "starry-night"
DEMO_INSTANT_SIZE = 1024
#: The style scale of --optimise unless --style-scale or --style-size is given: at the output's
#: size the painted stars are as large as the face and swallow it; at half size they read as stars
#: and the portrait stays recognisable (judged at 128 px).
DEMO_STYLE_SCALE = 0.5

DESCRIPTION = (
    "Paint matplotlib's sample photo (a portrait of Grace Hopper) with a bundled style model "
    f"({DEMO_MODEL}, or --model NAME) at {DEMO_INSTANT_SIZE} px in seconds, into painted.png; no files "
    "needed. With --optimise, the optimisation paints it instead in a style painted here, saved beside "
    f"it as painted-style.png ({DEFAULT_SIZE_CPU} px on a CPU, about 90 s). Then try 'nst stylize' on your own photos."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", default="painted.png", help="output file (default: painted.png)")
    p.add_argument("--model", metavar="NAME", help=f"the bundled style model (default: {DEMO_MODEL}; see 'nst models')")
    p.add_argument("--optimise", action="store_true",
                   help=f"run the optimisation instead (a style painted here, {DEFAULT_SIZE_CPU} px on a CPU, about 90 s)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--save-every", type=number(int), default=0, metavar="N", help=argparse.SUPPRESS)
    p.add_argument("--report", metavar="PATH", help="write a JSON report (as for stylize)")
    size = f"{DEMO_INSTANT_SIZE} with a style model; with --optimise {DEFAULT_SIZE_TEXT}"
    add_style_options(p, size=size)


def run(args: argparse.Namespace) -> int:
    """Inputs every install has: the sample photo, painted at once by a bundled style model (the
    default) or, with --optimise, by the optimisation in a style painted here."""
    from nst.cli.style_model import MODEL_OPTIONS

    given = getattr(args, "given", set()) or set()
    if not args.optimise:
        foreign = sorted(given - MODEL_OPTIONS - {"optimise"})
        if foreign:
            raise UsageError(f"--{foreign[0].replace('_', '-')} applies to the optimisation: add --optimise")
        return _with_model(args)
    if args.model:
        raise UsageError("--model paints at once; --optimise runs the optimisation: choose one")
    return _optimise(args)


def _with_model(args: argparse.Namespace) -> int:
    from nst.cli.style_model import paint

    args.content, args.style = str(demo_content_path()), []
    args.model = args.model or DEMO_MODEL
    args.size = args.size or DEMO_INSTANT_SIZE
    args.strength, args.tile_size = 1.0, None
    status = paint(args)
    if status == EXIT_OK and not args.quiet:
        print("the finest picture: nst demo --optimise (the optimisation, minutes)", file=sys.stderr)
    return status


def _optimise(args: argparse.Namespace) -> int:
    import nst
    from nst.cli.optimisation import optimise

    output = Path(args.output)
    style_path = output.with_name(f"{output.stem}-style.png")
    check_output(output, args.overwrite)
    check_output(style_path, args.overwrite)
    nst.save_image(painted_style(), style_path, {"made_by": "nst demo"})
    args.content, args.style = str(demo_content_path()), [str(style_path)]
    given = getattr(args, "given", None)
    if given is not None and not {"style_scale", "style_size"} & given:
        args.style_scale = DEMO_STYLE_SCALE
        given.add("style_scale")
    if not args.quiet:
        print(f"painting {args.content} in the style of {style_path}", file=sys.stderr)
    return optimise(args)


# --------------------------------------------------------------------------- the demo's inputs

#: Deep blues, a teal, ochre and lemon yellow: the palette of a starry night.
PALETTE = [(16, 32, 84), (28, 62, 132), (52, 98, 170), (88, 140, 190), (40, 110, 120),
           (200, 170, 70), (236, 214, 96), (244, 236, 170), (20, 24, 40)]  # fmt: skip


def demo_content_path() -> Path:
    """matplotlib's sample photograph (a portrait of Grace Hopper, in the public domain)."""
    try:
        import matplotlib
    except ImportError:
        raise InputError("the demo photo ships with matplotlib: pip install matplotlib") from None
    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if not path.is_file():
        raise InputError(f"matplotlib's sample photo is missing: {path}")
    return path


def painted_style(size: int = 512, seed: int = 1889, strokes: int = 9000) -> Image.Image:
    """A square painting of swirling, thick brush strokes (deterministic for a seed)."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    canvas = Image.new("RGB", (size, size), PALETTE[1])
    draw = ImageDraw.Draw(canvas)
    centres = [(rng.uniform(0.15, 0.85) * size, rng.uniform(0.1, 0.6) * size) for _ in range(4)]

    def flow(x: float, y: float) -> float:
        # Angle of the strokes: circles around a few "stars", a gentle wave elsewhere.
        angle = 0.6 * math.sin(y / size * 6.0) + 0.3 * math.cos(x / size * 5.0)
        for cx, cy in centres:
            dx, dy = x - cx, y - cy
            weight = math.exp(-(dx * dx + dy * dy) / (2 * (0.12 * size) ** 2))
            angle += weight * (math.atan2(dy, dx) + math.pi / 2 - angle)
        return angle

    for _ in range(strokes):
        x, y = rng.uniform(0, size), rng.uniform(0, size)
        near_star = min(math.hypot(x - cx, y - cy) for cx, cy in centres) < 0.08 * size
        colour = rng.choice(PALETTE[5:8] if near_star else PALETTE[:5] + PALETTE[8:])
        jitter = tuple(max(0, min(255, c + rng.randint(-18, 18))) for c in colour)
        width = rng.randint(max(2, size // 160), max(3, size // 70))
        points = [(x, y)]
        for _ in range(rng.randint(4, 9)):
            angle = flow(x, y)
            x, y = x + math.cos(angle) * size / 90, y + math.sin(angle) * size / 90
            points.append((x, y))
        draw.line(points, fill=jitter, width=width, joint="curve")
    return canvas.filter(ImageFilter.SMOOTH)
