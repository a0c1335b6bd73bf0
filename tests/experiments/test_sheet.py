"""The contact sheet: cells in their rows and columns, inputs on the left, wrapped names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nst.experiments import plan
from nst.experiments.sheet import Header, SheetSpec, load_font, render_sheet, wrap
from tests.experiments.helpers import TINY
from tests.experiments.helpers import run as _run

pytestmark = pytest.mark.usefixtures("one_thread")


COLOURS = [(230, 30, 30), (30, 200, 30), (30, 30, 230), (240, 200, 0), (200, 0, 200), (0, 200, 200)]


def _columns_of(sheet: Image.Image, colour: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    mask = np.all(np.asarray(sheet) == colour, axis=-1)
    ys, xs = np.nonzero(mask)
    return xs, ys


def test_sheet_places_every_cell_in_its_row_and_column() -> None:
    cells = [[Image.new("RGB", (32, 24), COLOURS[r * 3 + k]) for k in range(3)] for r in range(2)]
    spec = SheetSpec(
        title="a title",
        columns=[Header(f"column {k}") for k in range(3)],
        rows=[Header(f"row {r}") for r in range(2)],
        cells=cells,
        notes=[["note"] * 3 for _ in range(2)],
        cell_size=160,
    )
    sheet = render_sheet(spec)
    boxes = {}
    for i, colour in enumerate(COLOURS):
        xs, ys = _columns_of(sheet, colour)
        boxes[i] = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        # enlarged to the cell size, keeping the aspect ratio (32x24 -> 160x120)
        assert (boxes[i][2] - boxes[i][0], boxes[i][3] - boxes[i][1]) == (160, 120)
    for r in range(2):
        lefts = [boxes[r * 3 + k][0] for k in range(3)]
        assert lefts == sorted(lefts) and len({boxes[r * 3 + k][1] for k in range(3)}) == 1
    for k in range(3):
        assert boxes[k][0] == boxes[3 + k][0] and boxes[3 + k][1] >= boxes[k][3]
    assert sheet.width >= 3 * 160 and sheet.height >= 2 * 120


def test_sheet_grows_by_one_column_and_keeps_inputs_on_the_left() -> None:
    def spec(n: int) -> SheetSpec:
        return SheetSpec(
            title="t",
            columns=[Header(f"v{k}") for k in range(n)],
            rows=[Header("")],
            cells=[[Image.new("RGB", (40, 40), (9, 9, 9)) for _ in range(n)]],
            inputs=[Header("content: c", Image.new("RGB", (40, 30), COLOURS[0]))],
            cell_size=100,
        )

    three, four = render_sheet(spec(3)), render_sheet(spec(4))
    step = four.width - three.width
    assert 100 < step < 100 + 20  # one more column: its width and a gap
    assert three.height == four.height
    xs, _ = _columns_of(three, COLOURS[0])
    output_xs, _ = _columns_of(three, (9, 9, 9))
    assert xs.max() < output_xs.min()  # the input stands left of every output
    assert xs.max() - xs.min() + 1 == 100  # inputs at the cell size too


def test_wrap_breaks_names_at_underscores_before_letters() -> None:
    font = load_font(15, bold=True)
    assert wrap("picasso_selfport1907", font, 120) == ["picasso_", "selfport1907"]
    assert wrap("style_weight = 10000", font, 110) == ["style_weight", "= 10000"]
    lines = wrap("hoovertowernight", font, 60)
    assert "".join(lines) == "hoovertowernight" and all(font.getlength(x) <= 60 for x in lines)


def test_experiment_sheet_of_a_grid_folder(images: dict[str, Path], tmp_path: Path) -> None:
    exp = plan.grid([images["content"], images["content2"]], [images["style"]], TINY)
    data, _ = _run(exp, tmp_path / "grid", render=True)
    sheet = Image.open(tmp_path / "grid" / "sheet.png")
    # two rows of 160 px cells (32 px outputs enlarged), with a header row of style thumbnails
    assert sheet.height > 2 * 160 + 0.75 * 160
    assert sheet.width > 2 * 160  # a row-header column and one output column
