"""Small pictures and quick runs for the experiment tests (nst sweep / nst grid)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from nst.experiments import plan, runner
from nst.experiments.params import parse_params
from nst.optimise.config import StyleConfig

TINY = StyleConfig(size=32, iterations=2, tolerance=0.0)


def picture(path: Path, seed: int, size: tuple[int, int] = (32, 32)) -> Path:
    rng = np.random.default_rng(seed)
    w, h = size
    x, y = np.meshgrid(np.linspace(0, 1, w), np.linspace(0, 1, h))
    base = np.stack([x, y, x * y], axis=-1) + 0.2 * rng.random((h, w, 3))
    Image.fromarray((np.clip(base, 0, 1) * 255).astype("uint8")).save(path)
    return path


def pictures(folder: Path) -> dict[str, Path]:
    """Two photos and two paintings in ``folder``."""
    return {
        "content": picture(folder / "content.png", 0, (40, 32)),
        "content2": picture(folder / "photo.png", 1, (32, 40)),
        "style": picture(folder / "style.png", 2),
        "style2": picture(folder / "art.png", 3),
    }


def sweep(images: dict[str, Path], values: str = "1e4,5e3") -> plan.Experiment:
    return plan.sweep(images["content"], images["style"], TINY, parse_params([f"style_weight={values}"]))


def run(exp: plan.Experiment, out: Path, render: bool = False, **kwargs) -> tuple[dict, list[runner.Event]]:
    """Run ``exp`` into ``out``; the sheet and the plot (a second each) only where a test looks at them."""
    events: list[runner.Event] = []
    data = runner.execute(runner.prepare(exp, out), on_event=events.append, render=render, **kwargs)
    return data, events


def started(events: list[runner.Event]) -> list[str]:
    return [e.name for e in events if e.kind == "start"]
