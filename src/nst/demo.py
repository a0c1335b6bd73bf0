"""Inputs for `nst demo`, available on any machine without downloads.

The content is the portrait photograph of Grace Hopper that matplotlib ships in its sample data.
The style is painted here, from a seed: short curved brush strokes that follow a swirling flow
field in a night-sky palette, so that no artwork has to be shipped or fetched.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from nst.errors import InputError

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
