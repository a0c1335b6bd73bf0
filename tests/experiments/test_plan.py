"""Planning a sweep or a grid: cells, rows, columns, names, checked inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from nst.errors import InputError
from nst.experiments import plan
from nst.experiments.params import parse_params
from tests.experiments.helpers import TINY, picture

pytestmark = pytest.mark.usefixtures("one_thread")


def test_sweep_plan_layout_and_names(images: dict[str, Path]) -> None:
    params = parse_params(["content_weight=1,2", "style_weight=1e4,5e3,1e3"])
    exp = plan.sweep(images["content"], images["style"], TINY, params)
    assert len(exp.cells) == 6
    assert exp.columns == ("10000", "5000", "1000") and exp.column_title == "style_weight"
    assert exp.rows == ("content_weight = 1", "content_weight = 2")
    assert [(c.row, c.col) for c in exp.cells] == [(r, k) for r in range(2) for k in range(3)]
    assert exp.cells[4].name == "content_weight=2__style_weight=5000"
    assert exp.cells[4].config.content_weight == 2.0 and exp.cells[4].config.style_weight == 5000.0
    assert len({c.name for c in exp.cells}) == 6


def test_grid_plan_and_input_checks(images: dict[str, Path], tmp_path: Path) -> None:
    exp = plan.grid([images["content"], images["content2"]], [images["style"], images["style2"]], TINY)
    assert [c.name for c in exp.cells] == ["content__style", "content__art", "photo__style", "photo__art"]
    assert exp.rows == ("content", "photo") and exp.columns == ("style", "art")
    with pytest.raises(InputError, match="listed twice"):
        plan.grid([images["content"], images["content"]], [images["style"]], TINY)
    with pytest.raises(InputError, match="does not exist"):
        plan.grid([tmp_path / "missing.jpg"], [images["style"]], TINY)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(InputError, match="not a raster image"):
        plan.sweep(images["content"], text, TINY, parse_params(["style_weight=1"]))
    with pytest.raises(InputError, match="init image"):
        plan.sweep(
            images["content"], images["style"], TINY, parse_params([f"init=noise,{tmp_path / 'x.png'}"])
        )


def test_grid_tells_equal_names_apart(images: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    twin = picture(tmp_path / "other" / "content.png", 9)
    exp = plan.grid([images["content"], twin], [images["style"]], TINY)
    assert exp.rows == ("content", "content-2")
    assert [c.name for c in exp.cells] == ["content__style", "content-2__style"]
