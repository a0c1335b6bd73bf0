"""Style models on the command line: nst stylize --model, nst train, nst demo --model, nst models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from nst.cli import main
from nst.models.registry import bundled_names
from nst.models.torch_model import StyleModel
from tests.models.helpers import picture


def test_cli_refuses_a_corrupt_model_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    bad = tmp_path / "bad.pt"
    bad.write_text("not a model")
    photo = tmp_path / "p.png"
    picture(1).save(photo)
    assert main(["stylize", str(photo), "--model", str(bad), "-o", str(tmp_path / "out.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "bad.pt" in err and "\n" not in err
    assert not (tmp_path / "out.png").exists()


def test_cli_paints_a_folder(tiny_model: Path, photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "out"
    assert main(["stylize", str(photos), "--model", str(tiny_model), "-o", str(out), "--size", "48"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [f"photo{i}.png" for i in range(8)]
    assert max(Image.open(out / "photo0.png").size) == 48
    err = capsys.readouterr().err
    assert "skipped broken.jpg" in err and "wrote 8 pictures" in err
    # Nothing is replaced unasked.
    assert main(["stylize", str(photos), "--model", str(tiny_model), "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_cli_rejects_optimisation_options_with_a_model(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    photo = tmp_path / "p.png"
    picture(1).save(photo)
    args = ["stylize", str(photo), "--model", str(tiny_model), "-o", str(tmp_path / "o.png")]
    assert main([*args, "--iterations", "5"]) == 2
    assert "--iterations applies to the optimisation" in capsys.readouterr().err
    assert main([*args[:2], str(photo), *args[2:]]) == 2  # a style image as well
    assert main(["stylize", str(photo), "-o", str(tmp_path / "o.png")]) == 2  # neither
    assert "--model" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_train_then_paint(style: Path, photos: Path, tmp_path: Path):
    model = tmp_path / "m.pt"
    report = tmp_path / "train.json"
    args = ["train", str(style), "--photos", str(photos), "-o", str(model), "--sizes", "64", "--iterations", "4",
            "--batch-size", "1", "--width", "4", "--residual-blocks", "1", "--style-size", "64",
            "--preview-every", "2", "--precision", "fp32", "--report", str(report), "--quiet"]
    assert main(args) == 0
    assert model.is_file() and (tmp_path / "m-preview.png").is_file()
    data = json.loads(report.read_text())
    assert len(data["history"]) == 4 and data["photos"] == 8
    assert report.with_suffix(".png").is_file()
    assert main(args) == 2  # the model exists: not replaced unasked
    out = tmp_path / "painted.png"
    assert main(["stylize", str(photos / "photo1.jpg"), "--model", str(model), "-o", str(out), "--quiet"]) == 0
    meta = json.loads(Image.open(out).text["nst"])
    assert meta["model"] == "m" and meta["settings"]["strength"] == 1.0
    # Per-layer style weights reach the training and the card; a wrong count is one line.
    import nst

    tiny = ["--photos", str(photos), "--sizes", "64", "--iterations", "2", "--batch-size", "1", "--width", "4",
            "--residual-blocks", "1", "--style-size", "64", "--precision", "fp32", "--quiet"]
    brushy = tmp_path / "b.pt"
    assert main(["train", str(style), "-o", str(brushy), "--init", str(model),
                 "--style-layer-weights", "1,3,3,0.5,0.5", *tiny]) == 0
    card = nst.load_style_model(brushy).card
    assert card.config["style_layer_weights"] == [1, 3, 3, 0.5, 0.5] and card.fine_tuned_from["name"] == "m"
    assert main(["train", str(style), "-o", str(tmp_path / "c.pt"), "--style-layer-weights", "1,2", *tiny]) == 2
    assert not (tmp_path / "c.pt").exists()


@pytest.mark.system
def test_instant_path_does_not_import_torch(tiny_model: Path, tmp_path: Path):
    from nst.models.export import export_onnx

    export_onnx(StyleModel.load(tiny_model), tmp_path / "tiny.onnx")
    photo = tmp_path / "p.png"
    picture(2).save(photo)
    code = (
        "import sys; from nst.cli import main; "
        f"rc = main(['stylize', {str(photo)!r}, '--model', {str(tmp_path / 'tiny.onnx')!r}, "
        f"'-o', {str(tmp_path / 'o.png')!r}, '--quiet']); "
        "assert rc == 0, rc; assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert (tmp_path / "o.png").is_file()


@pytest.mark.system
def test_the_nst_command_leaves_a_complete_picture_and_the_exit_code(tiny_model: Path, tmp_path: Path):
    """`python -m nst.cli` is the console script: after an instant painting it exits without the
    interpreter's teardown, which must keep the picture, the message and the exit status."""
    photo = tmp_path / "p.png"
    picture(2).save(photo)
    run = [sys.executable, "-m", "nst.cli", "stylize", str(photo), "--model", str(tiny_model), "-o", str(tmp_path / "o.png")]
    done = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "wrote" in done.stderr, done.stderr
    assert Image.open(tmp_path / "o.png").size == (80, 64)
    again = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_demo_paints_with_a_model_or_refuses_optimisation_options(tiny_model: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "painted.png"
    assert main(["demo", "--model", str(tiny_model), "--size", "64", "-o", str(out), "--quiet"]) == 0
    assert max(Image.open(out).size) == 64
    assert main(["demo", "--iterations", "3", "-o", str(tmp_path / "x.png")]) == 2
    assert "add --optimise" in capsys.readouterr().err


def test_nst_models_lists_each_bundled_model(capsys: pytest.CaptureFixture[str]):
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    for name in bundled_names():
        assert f"{name}\n  painting: " in text
    assert text.count("BSDS500") == len(bundled_names()) and "MB (ONNX + torch)" in text
    assert text.count("(relative style loss)") == len(bundled_names())  # the last fine-tuning of each
    assert main(["models", "--json"]) == 0
    cards = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in cards] == bundled_names()
