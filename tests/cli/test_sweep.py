"""nst sweep / nst grid on the command line: bad arguments in one line, a run and its resume."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nst.cli import main
from tests.experiments.helpers import pictures

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture()
def images(tmp_path: Path) -> dict[str, Path]:
    return pictures(tmp_path)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--param", "bogus=1"], "unknown setting 'bogus'"),
        (["--param", "style_weight=x"], "'x' is not a number"),
        (["--param", "style_weight="], "non-empty"),
        (["--param", "iterations=0,1"], "iterations must be between"),
        (["--jobs", "0", "--param", "style_weight=1"], "--jobs: must be at least 1"),
    ],
)
def test_cli_refuses_bad_arguments_before_any_work(
    argv: list[str], message: str, images: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["sweep", str(images["content"]), str(images["style"]), "-o", str(out), *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not out.exists()


def test_cli_refuses_missing_image_and_foreign_folder(
    images: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["grid", "--content", str(tmp_path / "nope.jpg"), "--style", str(images["style"]),
                 "-o", str(tmp_path / "out")])  # fmt: skip
    assert code == 2 and "does not exist" in capsys.readouterr().err
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.txt").write_text("x")
    code = main(["grid", "--content", str(images["content"]), "--style", str(images["style"]),
                 "-o", str(tmp_path / "busy")])  # fmt: skip
    assert code == 2 and "not empty" in capsys.readouterr().err
    assert os.listdir(tmp_path / "busy") == ["x.txt"]


def test_cli_sweep_runs_and_resumes(
    images: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["sweep", str(images["content"]), str(images["style"]), "--param", "style_weight=1e4,5e3",
            "--size", "32", "--iterations", "2", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "2 cells (2 run now, 0 already done)" in err
    data = json.loads((out / "manifest.json").read_text())
    assert data["command"].startswith("nst sweep ") and "--param style_weight=1e4,5e3" in data["command"]
    assert "--iterations 2" in data["command"] and data["base_settings"]["iterations"] == 2
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert json.loads((out / "manifest.json").read_text())["runs"][-1]["cells_run"] == 0
