"""docs/options.md, made from the configs' field metadata (the same text `--help` shows).

    python -m nst.cli.reference > docs/options.md      # tests/test_docs.py checks it is current
"""

from __future__ import annotations

import dataclasses
import sys

from nst.cli.settings import _shown, _the_papers
from nst.fields import SETTING_GROUPS
from nst.models.config import TrainConfig
from nst.optimise.config import StyleConfig
from nst.universal.config import InstantConfig

#: (title, command, config class, what the table is for)
TABLES = (
    ("The optimisation", "nst stylize PHOTO PAINTING", StyleConfig,
     "`nst.StyleConfig`; also the style options of `nst demo --optimise`, `sweep`, `grid`, `batch --style` "
     "and `video` with a painting. `--preset paper` gives the paper's method."),
    ("Any painting, instantly", "nst stylize PHOTO PAINTING --instant", InstantConfig,
     "`nst.InstantConfig`; besides `--size`, `--strength`, `--preserve-color`, `--style-blend` and `--tile-size`, "
     "which mean the same as for the optimisation."),
    ("Training a style model", "nst train PAINTING --photos DIR -o MODEL.pt", TrainConfig, "`nst.TrainConfig`."),
)


def render() -> str:
    lines = ["# Options", "", "Every setting of nst's three ways to paint and of training, as `--help` shows it. "
             "Generated from the configs' field metadata by `python -m nst.cli.reference > docs/options.md`; "
             "a test keeps it current.", ""]
    papers = _the_papers()
    for title, command, cls, about in TABLES:
        lines += [f"## {title}", "", f"`{command}`: {about}", ""]
        fields = [f for f in dataclasses.fields(cls) if "help" in f.metadata]
        for group in SETTING_GROUPS:
            chosen = [f for f in fields if f.metadata["group"] == group]
            if not chosen:
                continue
            if len(SETTING_GROUPS) > 1 and any(f.metadata["group"] != group for f in fields):
                lines += [f"{'What most pictures need' if group == 'basic' else 'For experts'}:", ""]
            lines += ["| option | default | meaning |", "| --- | --- | --- |"]
            for f in chosen:
                meta = f.metadata
                value = meta.get("metavar") or ("|".join(meta["choices"]) if "choices" in meta else "")
                option = ("--" + f.name.replace("_", "-") + (f" {value}" if value else "")).replace("|", "\\|")
                default = meta.get("shown", _shown(f.default)) or "-"
                paper = f"; {papers[f.name]}" if cls is StyleConfig and f.name in papers else ""
                lines.append(f"| `{option}` | {default}{paper} | {meta['help'].replace('|', '/')} |")
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render())
