"""Loss curves of an experiment: total, content and style loss per iteration for every cell.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, so no global backend or figure
state is touched). Losses span orders of magnitude, hence log y axes. In a grid, colour tells the
style and the line style tells the content, so the legend stays short enough to read.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

PANELS = (
    ("total", "total loss"),
    ("content", "content loss  α·L_content"),
    ("style", "style loss  β·L_style"),
)
_DASHES = ("-", "--", ":", "-.")
#: The y axes reach this many times below the smallest final loss, no further.
FLOOR = 100


def _styles(data: dict[str, Any]) -> list[dict[str, Any]]:
    """matplotlib line properties per cell."""
    from matplotlib import colormaps

    cells = data["cells"]
    n_rows, n_cols = len(data["layout"]["rows"]), len(data["layout"]["columns"])
    if n_cols <= 10 and n_rows <= len(_DASHES):
        palette = colormaps["tab10"]
        return [{"color": palette(c["col"]), "linestyle": _DASHES[c["row"]]} for c in cells]
    palette = colormaps["viridis"]
    return [{"color": palette(i / max(1, len(cells) - 1)), "linestyle": "-"} for i in range(len(cells))]


def loss_figure(data: dict[str, Any]) -> Any:
    """A matplotlib Figure of the finished cells' loss histories."""
    from matplotlib.figure import Figure

    cells = [c for c in data["cells"] if c["status"] == "done"]
    styles = {c["index"]: s for c, s in zip(data["cells"], _styles(data), strict=True)}
    # Legend columns fill top to bottom: one column per sheet row keeps a row's cells together.
    n_rows = len(data["layout"]["rows"])
    ncol = n_rows if 1 < n_rows <= 4 else max(1, min(4, len(cells)))
    legend_rows = -(-len(cells) // ncol)
    fig = Figure(figsize=(13, 4.2 + 0.28 * legend_rows), dpi=100, layout="constrained")
    axes = fig.subplots(1, len(PANELS), sharex=True)
    for ax, (key, title) in zip(axes, PANELS, strict=True):
        for cell in cells:
            values = cell["history"].get(key, [])
            # None marks a non-finite value; log axes cannot show 0 either, so both leave a gap.
            ys = [v if v is not None and v > 0 else float("nan") for v in values]
            ax.plot(range(1, len(ys) + 1), ys, label=cell["label"], linewidth=1.4, **styles[cell["index"]])
        ax.set_yscale("log")
        finals = [c["history"][key][-1] for c in cells if c["history"].get(key) and c["history"][key][-1]]
        lowest = min((v for c in cells for v in c["history"].get(key, []) if v), default=None)
        if finals and lowest is not None and lowest < min(finals) / FLOOR:
            # Started from the photo, the content loss begins near 0; showing those first values
            # would squeeze the curves that matter into a sliver. They run off the bottom instead.
            ax.set_ylim(bottom=min(finals) / FLOOR)
        ax.set_title(title)
        ax.set_xlabel("iteration")
        ax.grid(True, which="major", alpha=0.35)
        ax.grid(True, which="minor", alpha=0.12)
    axes[0].set_ylabel("weighted loss (log scale)")
    what = "grid" if data["kind"] == "grid" else f"sweep of {', '.join(data['params'])}"
    fig.suptitle(f"nst {what}: loss per iteration", fontweight="bold")
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=ncol, frameon=False)
    return fig


def plot_losses(data: dict[str, Any], path: str | Path) -> Path:
    """Write the loss plot as a PNG, atomically."""
    path = Path(path)
    fig = loss_figure(data)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            fig.savefig(handle, format="png")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
