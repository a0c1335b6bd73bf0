"""Instant style: the feed-forward network, its training, files, ONNX export and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nst.cli import main
from nst.errors import InputError
from nst.models.card import ModelCard
from nst.models.config import TrainConfig
from nst.models.network import TransformerNet
from nst.models.registry import bundled_names
from nst.models.store import load_model, save_model
from nst.models.torch_model import StyleModel
from nst.models.train import load_photos, train_style_model

#: A training run that takes about a second: 64 px crops, a 4-channel network with one block.
TINY = TrainConfig(sizes=(64,), iterations=(6,), batch_size=2, width=4, residual_blocks=1, lr=1e-2,
                   style_size=64, precision="fp32", preview_every=0, min_photos=3, checkpoint_seconds=3600)


def _picture(seed: int, size: tuple[int, int] = (80, 64)) -> Image.Image:
    """A photo-like picture: smooth colour gradients, a disc and a little noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    base = np.stack([x, y, 1 - x * y], axis=-1) * rng.uniform(0.5, 1, 3)
    disc = ((x - rng.uniform(0.2, 0.8)) ** 2 + (y - rng.uniform(0.2, 0.6)) ** 2) < 0.04
    base[disc] = rng.uniform(0, 1, 3)
    base += rng.normal(0, 0.03, base.shape)
    return Image.fromarray((np.clip(base, 0, 1) * 255).astype(np.uint8), "RGB")


@pytest.fixture()
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(8):
        _picture(i).save(folder / f"photo{i}.jpg")
    (folder / "notes.txt").write_text("not a picture")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return folder


@pytest.fixture()
def style(tmp_path: Path) -> Path:
    rng = np.random.default_rng(7)
    stripes = np.zeros((64, 64, 3))
    stripes[::4] = [0.9, 0.8, 0.1]
    stripes[1::4] = [0.1, 0.2, 0.8]
    stripes += rng.normal(0, 0.05, stripes.shape)
    path = tmp_path / "style.png"
    Image.fromarray((np.clip(stripes, 0, 1) * 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture()
def tiny_model(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    net = TransformerNet(width=4, residual_blocks=1)
    card = ModelCard("tiny", "stripes", "style.png", "0" * 16, 8, "f" * 16, 6, 1.0, "cpu", TINY.to_dict())
    return save_model(net, card, tmp_path / "tiny.pt")


def test_the_border_mirrors_the_photo_as_numpy_does():
    from nst import picture
    from nst.models import torch_model

    for h, w in [(3, 5), (20, 40), (64, 50)]:
        photo = np.random.default_rng(0).random((1, 3, h, w)).astype(np.float32)
        framed = torch_model._with_border(torch.from_numpy(photo)).numpy()
        assert np.array_equal(framed, picture.with_border(photo))
        assert np.array_equal(picture.without_border(framed), photo)


def test_network_keeps_any_size_and_range():
    net = TransformerNet(width=4, residual_blocks=1).eval()
    for h, w in [(33, 47), (64, 64), (18, 101)]:
        assert net(torch.rand(1, 3, h, w)).shape == (1, 3, h, w)


def test_training_lowers_the_loss(style: Path, photos: Path, tmp_path: Path):
    config = TINY.with_changes(iterations=(20,))
    result = train_style_model(style, photos, tmp_path / "m.pt", config)
    totals = [h["total"] for h in result.history]
    assert len(totals) == 20
    assert np.mean(totals[-5:]) < 0.5 * np.mean(totals[:3])
    assert result.photos == 8 and sorted(result.skipped_photos) == ["broken.jpg", "notes.txt"]
    assert (tmp_path / "m.pt").is_file() and not (tmp_path / "m.pt.ckpt").exists()


def test_too_few_photos_is_one_clear_error(style: Path, tmp_path: Path):
    folder = tmp_path / "few"
    folder.mkdir()
    _picture(0).save(folder / "a.png")
    with pytest.raises(InputError, match="only 1 usable photos"):
        train_style_model(style, folder, tmp_path / "m.pt", TINY)


def test_interrupted_training_resumes_to_the_same_model(style: Path, photos: Path, tmp_path: Path):
    whole = train_style_model(style, photos, tmp_path / "whole.pt", TINY)
    stop_at = 3
    first = train_style_model(style, photos, tmp_path / "part.pt", TINY, callback=lambda p: p.step == stop_at)
    assert first.stopped and first.steps == stop_at
    assert (tmp_path / "part.pt.ckpt").is_file() and not (tmp_path / "part.pt").exists()
    with pytest.raises(InputError, match="--resume"):
        train_style_model(style, photos, tmp_path / "part.pt", TINY)
    second = train_style_model(style, photos, tmp_path / "part.pt", TINY, resume=True)
    assert not second.stopped and second.steps == TINY.total_iterations
    a, _ = load_model(tmp_path / "whole.pt")
    b, _ = load_model(tmp_path / "part.pt")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name
    assert [h["total"] for h in second.history] == [h["total"] for h in whole.history]


def test_resume_refuses_other_settings(style: Path, photos: Path, tmp_path: Path):
    train_style_model(style, photos, tmp_path / "m.pt", TINY, callback=lambda p: p.step == 2)
    with pytest.raises(InputError, match="another painting, photo set or settings"):
        train_style_model(style, photos, tmp_path / "m.pt", TINY.with_changes(lr=0.5), resume=True)


def test_fine_tuning_starts_from_the_model_and_keeps_its_card(style: Path, photos: Path, tmp_path: Path):
    first = train_style_model(style, photos, tmp_path / "first.pt", TINY.with_changes(iterations=(20,)))
    fresh_start = first.history[0]["total"]
    tuned = train_style_model(style, photos, tmp_path / "tuned.pt", TINY.with_changes(iterations=(2,)),
                              init=tmp_path / "first.pt", name="tuned")
    # The first step of fine-tuning already paints like the trained model, far below a fresh start.
    assert tuned.history[0]["total"] < 0.5 * fresh_start
    _, card = load_model(tmp_path / "tuned.pt")
    assert [c.name for c in card.lineage()] == ["first", "tuned"]
    assert card.fine_tuned_from["config"]["iterations"] == [20] and card.steps == 2
    with pytest.raises(InputError, match="width 4 and 1 residual blocks"):
        train_style_model(style, photos, tmp_path / "wide.pt", TINY.with_changes(width=8), init=tmp_path / "first.pt")
    with pytest.raises(InputError, match="not ONNX"):
        train_style_model(style, photos, tmp_path / "x.pt", TINY, init=_onnx_file(tmp_path))


def _onnx_file(folder: Path) -> Path:
    path = folder / "model.onnx"
    path.write_bytes(b"not really onnx")
    return path


def test_save_load_round_trip(tiny_model: Path):
    net, card = load_model(tiny_model)
    assert card.name == "tiny" and card.config["width"] == 4
    photo = torch.rand(1, 3, 40, 52)
    again, _ = load_model(tiny_model)
    assert torch.equal(net(photo), again(photo))


@pytest.mark.parametrize("content", [b"", b"garbage" * 10, None])
def test_corrupt_or_foreign_model_files_are_refused(tmp_path: Path, tiny_model: Path, content: bytes | None):
    bad = tmp_path / "bad.pt"
    if content is None:  # a real torch file, but not a model
        torch.save({"weights": torch.zeros(3)}, bad)
    else:
        bad.write_bytes(content)
    with pytest.raises(InputError, match="bad.pt"):
        load_model(bad)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(tiny_model.read_bytes()[:2000])
    with pytest.raises(InputError, match="truncated.pt"):
        load_model(truncated)


def test_cli_refuses_a_corrupt_model_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    bad = tmp_path / "bad.pt"
    bad.write_text("not a model")
    photo = tmp_path / "p.png"
    _picture(1).save(photo)
    assert main(["stylize", str(photo), "--model", str(bad), "-o", str(tmp_path / "out.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "bad.pt" in err and "\n" not in err
    assert not (tmp_path / "out.png").exists()


def test_onnx_export_matches_torch(tiny_model: Path, tmp_path: Path):
    from nst.models.export import export_onnx
    from nst.models.onnx_model import OnnxStyleModel

    model = StyleModel.load(tiny_model)
    worst = export_onnx(model, tmp_path / "tiny.onnx")
    assert worst is not None and worst <= 1 / 255
    runtime = OnnxStyleModel(tmp_path / "tiny.onnx")
    assert runtime.card == model.card
    photo = _picture(3, (90, 70))
    a = np.asarray(model.paint(photo), dtype=np.int16)
    b = np.asarray(runtime.paint(photo), dtype=np.int16)
    assert a.shape == b.shape == (70, 90, 3)
    assert np.abs(a - b).max() <= 1


def test_strength_and_colour(tiny_model: Path):
    model = StyleModel.load(tiny_model)
    photo = _picture(4)
    same = np.asarray(model.paint(photo, strength=0.0), dtype=np.int16)
    assert np.abs(same - np.asarray(photo, dtype=np.int16)).max() <= 1
    full = np.asarray(model.paint(photo), dtype=np.float64)
    kept = np.asarray(model.paint(photo, preserve_color="luminance"), dtype=np.float64)
    original = np.asarray(photo, dtype=np.float64)

    def chroma(rgb: np.ndarray) -> np.ndarray:  # YIQ's I and Q
        return rgb @ np.array([[0.595716, 0.211456], [-0.274453, -0.522591], [-0.321263, 0.311135]])

    assert np.abs(chroma(kept) - chroma(original)).mean() < 0.25 * np.abs(chroma(full) - chroma(original)).mean()
    with pytest.raises(InputError, match="strength"):
        model.paint(photo, strength=1.5)


def test_tiles_paint_what_the_whole_picture_paints(tiny_model: Path):
    from nst.models import torch_model as apply

    model = StyleModel.load(tiny_model)
    photo = torch.from_numpy(np.asarray(_picture(5, (300, 220)), dtype=np.float32) / 255).permute(2, 0, 1)[None]
    b = apply.BORDER
    with torch.inference_mode():
        framed = apply._with_border(photo)
        stats = apply._instance_norm_stats(model.network, framed)
        with apply._frozen_instance_norms(model.network, stats):
            whole = model.network(framed)[..., b:-b, b:-b].clamp(0, 1)
    tiled = model.paint_tensor(photo, tile_size=96)  # 3 x 4 tiles, statistics of the whole photo
    assert (tiled - whole).abs().max() < 1e-4
    plain = model.paint_tensor(photo)  # the usual path: each picture's own statistics
    assert (tiled - plain).abs().mean() < 0.02


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
    _picture(1).save(photo)
    args = ["stylize", str(photo), "--model", str(tiny_model), "-o", str(tmp_path / "o.png")]
    assert main([*args, "--iterations", "5"]) == 2
    assert "--iterations applies to the optimisation" in capsys.readouterr().err
    assert main([*args[:2], str(photo), *args[2:]]) == 2  # a style image as well
    assert main(["stylize", str(photo), "-o", str(tmp_path / "o.png")]) == 2  # neither
    assert "--model" in capsys.readouterr().err


def test_cli_train_then_paint(style: Path, photos: Path, tmp_path: Path):
    model = tmp_path / "m.pt"
    report = tmp_path / "train.json"
    args = ["train", str(style), "--photos", str(photos), "-o", str(model), "--sizes", "64", "--iterations", "4",
            "--batch-size", "2", "--width", "4", "--residual-blocks", "1", "--style-size", "64",
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

    tiny = ["--photos", str(photos), "--sizes", "64", "--iterations", "2", "--batch-size", "2", "--width", "4",
            "--residual-blocks", "1", "--style-size", "64", "--precision", "fp32", "--quiet"]
    brushy = tmp_path / "b.pt"
    assert main(["train", str(style), "-o", str(brushy), "--init", str(model),
                 "--style-layer-weights", "1,3,3,0.5,0.5", *tiny]) == 0
    card = nst.load_style_model(brushy).card
    assert card.config["style_layer_weights"] == [1, 3, 3, 0.5, 0.5] and card.fine_tuned_from["name"] == "m"
    assert main(["train", str(style), "-o", str(tmp_path / "c.pt"), "--style-layer-weights", "1,2", *tiny]) == 2
    assert not (tmp_path / "c.pt").exists()


def test_instant_path_does_not_import_torch(tiny_model: Path, tmp_path: Path):
    from nst.models.export import export_onnx

    export_onnx(StyleModel.load(tiny_model), tmp_path / "tiny.onnx")
    photo = tmp_path / "p.png"
    _picture(2).save(photo)
    code = (
        "import sys; from nst.cli import main; "
        f"rc = main(['stylize', {str(photo)!r}, '--model', {str(tmp_path / 'tiny.onnx')!r}, "
        f"'-o', {str(tmp_path / 'o.png')!r}, '--quiet']); "
        "assert rc == 0, rc; assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert (tmp_path / "o.png").is_file()


def test_the_nst_command_leaves_a_complete_picture_and_the_exit_code(tiny_model: Path, tmp_path: Path):
    """`python -m nst.cli` is the console script: after an instant painting it exits without the
    interpreter's teardown, which must keep the picture, the message and the exit status."""
    photo = tmp_path / "p.png"
    _picture(2).save(photo)
    run = [sys.executable, "-m", "nst.cli", "stylize", str(photo), "--model", str(tiny_model), "-o", str(tmp_path / "o.png")]
    done = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "wrote" in done.stderr, done.stderr
    assert Image.open(tmp_path / "o.png").size == (80, 64)
    again = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_load_photos_skips_what_it_cannot_read(photos: Path):
    found = load_photos(photos, shorter_side=32)
    assert len(found.images) == 8 and min(found.images[0].size) == 32
    with pytest.raises(InputError, match="does not exist"):
        load_photos(photos / "nope", 32)


EXPECTED_BUNDLED = {"starry-night", "the-scream", "great-wave", "udnie"}


def test_every_bundled_model_loads_and_paints_the_right_size():
    import nst

    names = set(bundled_names())
    assert names == EXPECTED_BUNDLED
    photo = _picture(6, (70, 50))
    for name in sorted(names):
        for backend in ("onnx", "torch"):
            model = nst.load_style_model(name, backend=backend)
            assert model.card.name == name and model.card.photos == 300
            assert model.paint(photo, size=64).size == (64, 46)
        files = [Path(nst.models.registry.bundled_dir()) / f"{name}{s}" for s in (".pt", ".onnx")]
        assert all(f.stat().st_size <= 5_000_000 for f in files)


def test_unknown_model_name_lists_the_bundled_ones():
    import nst

    with pytest.raises(InputError, match="unknown style model 'nope'"):
        nst.load_style_model("nope")


def test_optimisation_can_start_from_a_models_picture(tiny_model: Path, tmp_path: Path):
    import nst

    photo = _picture(8, (48, 40))
    style = _picture(9, (48, 48))
    config = nst.StyleConfig(size=40, scales=1, iterations=1, init=f"model:{tiny_model}")
    seen = []
    result = nst.transfer_style(photo, style, config, callback=lambda p: seen.append(p.image.clone()))
    # After one step the picture is still close to the model's, not to the photo.
    painted = torch.from_numpy(np.asarray(StyleModel.load(tiny_model).paint(photo, size=40), dtype=np.float32) / 255)
    first = seen[0][0].permute(1, 2, 0)
    original = torch.from_numpy(np.asarray(photo.resize((40, 33)), dtype=np.float32) / 255)
    assert (first - painted).abs().mean() < 0.5 * (first - original).abs().mean()
    assert result.image.size == (40, 33)
    with pytest.raises(InputError, match="unknown style model"):
        nst.transfer_style(photo, style, config.with_changes(init="model:no-such-model"))


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
    assert main(["models", "--json"]) == 0
    cards = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in cards] == bundled_names()
