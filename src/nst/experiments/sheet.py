"""The contact sheet: every output of an experiment in its row and column, captioned, with the inputs.

`render_sheet` lays out any `SheetSpec` (a title, column and row headers that may carry a
thumbnail, the cells, a small note under each cell, and an inputs block on the left).
`experiment_sheet` builds the spec of a finished experiment folder from its manifest:

* grid: style images head the columns, content images head the rows;
* sweep: the content and style images stand on the left, the last parameter's values head the
  columns and the other parameters' values label the rows.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont, ImageOps

from nst.experiments.params import format_value
from nst.optimise.config import StyleConfig

INK, GREY, RULE, PAPER = (20, 20, 20), (110, 110, 110), (205, 205, 205), (255, 255, 255)
#: Outputs smaller than this (longest side, px) are enlarged on the sheet so captions stay in proportion.
MIN_CELL = 160
MAX_CELL = 512
#: A batch's sheet shows at most this many photos (rows); the manifest lists them all.
BATCH_ROWS = 40
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass
class Header:
    """A caption, and optionally the image it names."""

    text: str
    image: Image.Image | None = None


@dataclass
class SheetSpec:
    title: str
    columns: list[Header]
    rows: list[Header]
    cells: list[list[Image.Image | None]]
    subtitle: str = ""
    notes: list[list[str]] | None = None
    inputs: list[Header] = field(default_factory=list)
    corner: str = ""
    #: One line above the column headers, saying what the columns vary.
    column_title: str = ""
    cell_size: int = MIN_CELL


@functools.cache
def load_font(size: int, bold: bool = False) -> Font:
    """DejaVu Sans as bundled with matplotlib; Pillow's own font if matplotlib is absent."""
    try:
        from matplotlib import font_manager

        props = font_manager.FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal")
        return ImageFont.truetype(font_manager.findfont(props, fallback_to_default=False), size)
    except Exception:  # no matplotlib, or its font went missing: still readable, just plainer
        return ImageFont.load_default(size=size)


def _line_height(font: Font) -> int:
    top, bottom = font.getbbox("ÁpgjÉ|")[1::2]
    return int(bottom - min(0, top) + max(2, round(getattr(font, "size", 12) * 0.3)))


def wrap(text: str, font: Font, width: int) -> list[str]:
    """Lines of ``text`` no wider than ``width`` px, broken at spaces, then after '_' or '-'
    (file names have no spaces), and inside a word only where nothing else fits."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if font.getlength(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for piece in re.findall(r"[^_-]*[_-]|[^_-]+$", word):
                if font.getlength(line + piece) <= width:
                    line += piece
                    continue
                if line:
                    lines.append(line)
                line = ""
                for char in piece:
                    if line and font.getlength(line + char) > width:
                        lines.append(line)
                        line = ""
                    line += char
        lines.append(line)
    return lines


def _fit(image: Image.Image, width: int, height: int) -> Image.Image:
    return ImageOps.contain(image.convert("RGB"), (max(1, width), max(1, height)), Image.Resampling.LANCZOS)


def render_sheet(spec: SheetSpec) -> Image.Image:
    """Draw ``spec`` as one RGB image."""
    d = spec.cell_size
    pad, gap = max(10, d // 14), max(6, d // 22)
    label_size = min(24, max(13, round(d / 11)))
    f_label, f_bold = load_font(label_size), load_font(label_size, True)
    f_title, f_note = load_font(round(label_size * 1.3), True), load_font(max(11, round(label_size * 0.8)))
    lh, nh = _line_height(f_label), _line_height(f_note)
    n_rows, n_cols = len(spec.cells), len(spec.cells[0]) if spec.cells else 0

    cells = [[_fit(c, d, d) if c is not None else None for c in row] for row in spec.cells]
    col_w = [max([r[j].width for r in cells if r[j] is not None] or [d]) for j in range(n_cols)]
    row_h = [max([c.height for c in r if c is not None] or [d]) for r in cells]
    note_h = nh if spec.notes and any(any(n) for n in spec.notes) else 0

    # Column headers: caption lines, then a thumbnail where the header has an image.
    thumb_h = round(d * 0.75)
    col_lines = [wrap(h.text, f_bold, col_w[j]) for j, h in enumerate(spec.columns)]
    col_thumbs = [_fit(h.image, col_w[j], thumb_h) if h.image else None for j, h in enumerate(spec.columns)]
    title_h = lh if spec.column_title else 0
    head_h = title_h + max([len(lines) * lh for lines in col_lines] or [0])
    if any(col_thumbs):
        head_h += gap + max(t.height for t in col_thumbs if t)

    # Row headers, left of the cells: caption, then a thumbnail where the header has an image.
    row_texts = [h.text for h in spec.rows]
    if any(h.image for h in spec.rows):
        # Thumbnails a little smaller than the outputs; wider if a name needs it (up to a cell).
        widest = max(int(f_bold.getlength(t)) + 2 for t in row_texts)
        row_w = min(d, max(round(d * 0.75), widest))
    elif any(row_texts):
        row_w = min(round(d * 1.2), max(int(f_bold.getlength(t)) + 2 for t in row_texts))
    else:
        row_w = 0
    row_lines = [wrap(t, f_bold, row_w) if row_w else [] for t in row_texts]
    row_thumbs = [
        _fit(h.image, row_w, row_h[i] - len(row_lines[i]) * lh) if h.image else None
        for i, h in enumerate(spec.rows)
    ]
    for i, lines in enumerate(row_lines):  # a caption taller than its row makes the row taller
        row_h[i] = max(row_h[i], len(lines) * lh + (row_thumbs[i].height if row_thumbs[i] else 0))

    grid_w = (row_w + gap if row_w else 0) + sum(col_w) + gap * max(0, n_cols - 1)
    body_h = head_h + gap + sum(h + note_h for h in row_h) + gap * max(0, n_rows - 1)

    # Inputs block: stacked if that fits beside the grid, else side by side.
    blocks = [(wrap(h.text, f_bold, d), _fit(h.image, d, d) if h.image else None) for h in spec.inputs]
    sizes = [
        (
            max([t.width if t else 0] + [int(f_bold.getlength(x)) for x in lines]),
            len(lines) * lh + (t.height if t else 0),
        )
        for lines, t in blocks
    ]
    stacked = sum(h for _, h in sizes) + gap * max(0, len(sizes) - 1) <= body_h
    if stacked:
        in_w, in_h = (
            max([w for w, _ in sizes] or [0]),
            sum(h for _, h in sizes) + gap * max(0, len(sizes) - 1),
        )
    else:
        in_w, in_h = (
            sum(w for w, _ in sizes) + gap * max(0, len(sizes) - 1),
            max([h for _, h in sizes] or [0]),
        )
    in_total = in_w + 3 * gap if blocks else 0

    width = max(pad * 2 + in_total + grid_w, 360)
    title_lines = wrap(spec.title, f_title, width - 2 * pad)
    sub_lines = wrap(spec.subtitle, f_label, width - 2 * pad) if spec.subtitle else []
    th = _line_height(f_title)
    top = pad + len(title_lines) * th + len(sub_lines) * lh + gap * 2
    height = top + max(body_h, in_h) + pad

    sheet = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(sheet)
    y = pad
    for line in title_lines:
        draw.text((pad, y), line, font=f_title, fill=INK)
        y += th
    for line in sub_lines:
        draw.text((pad, y), line, font=f_label, fill=GREY)
        y += lh

    # Inputs, then a rule between them and the results.
    x, y = pad, top
    for (lines, thumb), (w, h) in zip(blocks, sizes, strict=True):
        for k, line in enumerate(lines):
            draw.text((x, y + k * lh), line, font=f_bold, fill=INK)
        if thumb:
            _paste_framed(draw, sheet, thumb, (x, y + len(lines) * lh))
        if stacked:
            y += h + gap
        else:
            x += w + gap
    if blocks:
        rule_x = pad + in_w + gap + gap // 2
        draw.line([(rule_x, top), (rule_x, top + max(body_h, in_h))], fill=RULE, width=1)

    x0 = pad + in_total
    cx0 = x0 + (row_w + gap if row_w else 0)
    if spec.corner and row_w:
        corner = wrap(spec.corner, f_note, row_w)
        for k, line in enumerate(corner):
            draw.text((x0, top + head_h - (len(corner) - k) * nh), line, font=f_note, fill=GREY)
    xs = [cx0 + sum(col_w[:j]) + gap * j for j in range(n_cols)]
    if spec.column_title and n_cols:
        span = xs[-1] + col_w[-1] - cx0
        line = wrap(spec.column_title, f_label, span)[0]
        text_w = f_label.getlength(line)
        text_x = cx0 + (span - text_w) / 2
        draw.text((text_x, top), line, font=f_label, fill=GREY)
        # ---- title ---- : a rule either side shows that the title spans every column
        rule_y = top + lh // 2
        if text_x - gap > cx0:
            draw.line([(cx0, rule_y), (text_x - gap, rule_y)], fill=RULE, width=1)
            draw.line([(text_x + text_w + gap, rule_y), (cx0 + span - 1, rule_y)], fill=RULE, width=1)
    for j in range(n_cols):
        lines = col_lines[j] if j < len(col_lines) else []
        for k, line in enumerate(lines):
            lw = f_bold.getlength(line)
            draw.text((xs[j] + (col_w[j] - lw) / 2, top + title_h + k * lh), line, font=f_bold, fill=INK)
        thumb = col_thumbs[j] if j < len(col_thumbs) else None
        if thumb:
            _paste_framed(
                draw, sheet, thumb, (xs[j] + (col_w[j] - thumb.width) // 2, top + head_h - thumb.height)
            )
    y = top + head_h + gap
    for i in range(n_rows):
        if row_w:
            lines = row_lines[i]
            block = len(lines) * lh + (row_thumbs[i].height if row_thumbs[i] else 0)
            ry = y + (row_h[i] - block) // 2
            for k, line in enumerate(lines):
                draw.text((x0, ry + k * lh), line, font=f_bold, fill=INK)
            if row_thumbs[i]:
                _paste_framed(draw, sheet, row_thumbs[i], (x0, ry + len(lines) * lh))
        for j in range(n_cols):
            cell = cells[i][j]
            if cell is None:
                draw.rectangle([xs[j], y, xs[j] + col_w[j] - 1, y + row_h[i] - 1], outline=RULE)
                continue
            cx, cy = xs[j] + (col_w[j] - cell.width) // 2, y + (row_h[i] - cell.height) // 2
            _paste_framed(draw, sheet, cell, (cx, cy))
            note = spec.notes[i][j] if spec.notes else ""
            if note:
                lines = wrap(note, f_note, col_w[j])[:1]
                nw = f_note.getlength(lines[0])
                draw.text((xs[j] + (col_w[j] - nw) / 2, y + row_h[i] + 1), lines[0], font=f_note, fill=GREY)
        y += row_h[i] + note_h + gap
    return sheet


def _paste_framed(
    draw: ImageDraw.ImageDraw, sheet: Image.Image, image: Image.Image, at: tuple[int, int]
) -> None:
    """Paste with a hairline frame just outside, so pale images keep their edges on white."""
    x, y = at
    sheet.paste(image, (x, y))
    draw.rectangle([x - 1, y - 1, x + image.width, y + image.height], outline=RULE)


# ---- a finished experiment folder -> SheetSpec ----


def _open_rgb(path: str | Path) -> Image.Image | None:
    """An input or output image for the sheet; None if it cannot be read (drawn as an empty box)."""
    try:
        with Image.open(path) as image:
            return ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError):
        return None


def _settings_line(data: dict[str, Any]) -> str:
    """The settings every cell shares that a reader needs: key ones, and any that are not default."""
    base = data["base_settings"]
    varied = set(data["params"])
    defaults = StyleConfig().to_dict()
    cells = data["cells"]
    sizes = {max(c["size"]) for c in cells if c.get("size")}
    shown = []
    if "size" not in varied:
        # No-break spaces keep a number with its unit when the line wraps.
        shown.append(f"{'/'.join(str(s) for s in sorted(sizes)) or format_value(base['size'])}\u00a0px")
    always = ("optimizer", "iterations", "content_weight", "style_weight")
    for key, value in base.items():
        if key in varied or key == "size" or (key not in always and defaults.get(key) == value):
            continue
        shown.append(f"{key}\u00a0{format_value(tuple(value) if isinstance(value, list) else value)}")
    seconds = sum(c.get("elapsed_seconds", 0) for c in cells)
    versions = f"nst\u00a0{data['nst_version']}, torch\u00a0{data['torch_version']}"
    devices = sorted({c["device"] for c in cells if c.get("device")})
    compute = f"{seconds:.0f}\u00a0s of compute on {'/'.join(devices) or '?'}"
    return " · ".join([*shown, compute, versions])


def _note(cell: dict[str, Any]) -> str:
    if cell.get("status") != "done":
        return "could not be read" if cell.get("error") else "not finished"
    if cell.get("model"):
        return f"{cell['elapsed_seconds']:.2f} s"
    return f"{cell['iterations']} it · {cell['elapsed_seconds']:.0f} s"


def experiment_spec(data: dict[str, Any], folder: str | Path, min_cell: int = MIN_CELL) -> SheetSpec:
    """The sheet of an experiment folder, from its manifest (cells that are not done stay empty)."""
    folder = Path(folder)
    n_rows, n_cols = len(data["layout"]["rows"]), len(data["layout"]["columns"])
    if data["kind"] == "batch":
        n_rows = min(n_rows, BATCH_ROWS)
    grid: list[list[Image.Image | None]] = [[None] * n_cols for _ in range(n_rows)]
    notes = [[""] * n_cols for _ in range(n_rows)]
    for cell in data["cells"]:
        if cell["row"] >= n_rows:
            continue
        if cell["status"] == "done":
            grid[cell["row"]][cell["col"]] = _open_rgb(folder / cell["image"])
        notes[cell["row"]][cell["col"]] = _note(cell)
    native = max([max(im.size) for row in grid for im in row if im is not None] or [min_cell])
    size = min(MAX_CELL, max(native, min_cell))
    contents, styles = data["inputs"]["contents"], data["inputs"]["styles"]
    settings = _settings_line(data)
    if data["kind"] == "batch":
        return _batch_spec(data, grid, notes, size)
    if data["kind"] == "grid":
        return SheetSpec(
            title=f"nst grid: {len(contents)} content × {len(styles)} style images",
            subtitle=settings,
            columns=[Header(s["name"], _open_rgb(s["path"])) for s in styles],
            rows=[Header(c["name"], _open_rgb(c["path"])) for c in contents],
            cells=grid,
            notes=notes,
            corner="content",
            column_title="style",
            cell_size=size,
        )
    content, style = contents[0], styles[0]
    return SheetSpec(
        title=f"nst sweep: {content['name']} in the style of {style['name']}",
        subtitle=settings,
        columns=[Header(text) for text in data["layout"]["columns"]],
        rows=[Header(text) for text in data["layout"]["rows"]],
        cells=grid,
        notes=notes,
        column_title=data["layout"].get("column_title", ""),
        inputs=[
            Header(f"content: {content['name']}", _open_rgb(content["path"])),
            Header(f"style: {style['name']}", _open_rgb(style["path"])),
        ],
        cell_size=size,
    )


def _batch_spec(data: dict[str, Any], grid: list[list[Image.Image | None]], notes: list[list[str]],
                size: int) -> SheetSpec:
    """A batch: photos head the rows (the first `BATCH_ROWS`), styles or models the columns."""
    contents, styles = data["inputs"]["contents"], data["inputs"]["styles"]
    done = sum(c["status"] == "done" for c in data["cells"])
    shown = f"; the first {len(grid)} photos shown" if len(contents) > len(grid) else ""
    skipped = len(data.get("skipped", []))
    subtitle = (f"{done} of {len(data['cells'])} pictures painted{shown}"
                + (f"; {skipped} unreadable files skipped" if skipped else ""))
    models = {c["col"] for c in data["cells"] if c.get("model")}
    if len(models) < len(styles):
        subtitle += " · " + _settings_line(data)
    return SheetSpec(
        title=f"nst batch: {len(contents)} photos × {len(styles)} style{'s' if len(styles) > 1 else ''}",
        subtitle=subtitle,
        columns=[Header(s["name"], None if k in models else _open_rgb(s["path"])) for k, s in enumerate(styles)],
        rows=[Header(c["name"], _open_rgb(c["path"])) for c in contents[: len(grid)]],
        cells=grid,
        notes=notes,
        corner="photo",
        column_title="style",
        cell_size=min(size, 192),
    )


def experiment_sheet(data: dict[str, Any], folder: str | Path, min_cell: int = MIN_CELL) -> Image.Image:
    """Render the contact sheet of an experiment folder."""
    return render_sheet(experiment_spec(data, folder, min_cell))
