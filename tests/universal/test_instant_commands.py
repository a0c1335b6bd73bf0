"""`--instant` on the command line (stylize, batch, video) and `--init instant`, with a tiny decoder."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from nst import cli
from nst.image import read_metadata
from nst.universal import paint
from nst.universal.network import Decoder
from nst.universal.store import DecoderCard, save_decoder


@pytest.fixture()
def work(tmp_path, monkeypatch):
    """A photo, a painting, a folder of two photos and a tiny decoder as the bundled one."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save("photo.png")
    Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save("painting.png")
    (tmp_path / "photos").mkdir()
    for name in ("a.jpg", "b.png"):
        Image.fromarray(rng.integers(0, 255, (40, 56, 3), dtype=np.uint8)).save(f"photos/{name}")
    torch.manual_seed(0)
    card = DecoderCard(width=4, photos=0, photos_fingerprint="", steps=0, seconds=0.0, device="cpu")
    decoder = save_decoder(Decoder(width=4), card, tmp_path / "tiny-decoder.pt")
    monkeypatch.setattr(paint, "bundled_decoder_path", lambda: decoder)
    monkeypatch.setattr(paint, "bundled_onnx_paths", lambda: (tmp_path / "none.onnx", tmp_path / "none.onnx"))
    return tmp_path


def test_a_photo_is_painted_with_any_painting(work, capsys):
    assert cli.main(["stylize", "photo.png", "painting.png", "--instant", "--size", "40", "--detail", "0.3",
                     "-o", "out.png"]) == 0
    assert Image.open("out.png").size == (40, 30)
    metadata = read_metadata("out.png")
    assert metadata["engine"] == "instant" and metadata["settings"]["size"] == 40
    assert metadata["settings"]["detail"] == 0.3
    assert "with --instant" in capsys.readouterr().err


def test_a_folder_of_photos_gives_one_picture_each(work):
    assert cli.main(["stylize", "photos", "painting.png", "--instant", "-o", "painted", "--quiet"]) == 0
    assert sorted(p.name for p in (work / "painted").iterdir()) == ["a.png", "b.png"]


@pytest.mark.parametrize(("argv", "message"), [
    (["stylize", "photo.png", "--instant", "-o", "o.png"], "give its file after the photo"),
    (["stylize", "photo.png", "painting.png", "--instant", "--iterations", "5", "-o", "o.png"],
     "--iterations applies to the optimisation, not to --instant"),
    (["stylize", "photo.png", "painting.png", "--instant", "--stroke-scale", "0", "-o", "o.png"], "stroke scale"),
    (["stylize", "photo.png", "painting.png", "--instant", "--detail", "2", "-o", "o.png"], "detail must be"),
    (["stylize", "photo.png", "painting.png", "--instant", "--model", "udnie", "-o", "o.png"], "choose one"),
    (["stylize", "photo.png", "painting.png", "--instant", "--decoder", "none.pt", "-o", "o.png"],
     "decoder file 'none.pt' does not exist"),
    (["stylize", "photo.png", "photo.png", "painting.png", "--instant", "--style-blend", "1", "-o", "o.png"],
     "1 weights for 2 paintings"),
])
def test_bad_instant_command_lines_say_so_in_one_line_and_write_nothing(work, capsys, argv, message):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (work / "o.png").exists()


def test_batch_paints_every_photo_in_seconds_and_resumes(work):
    argv = ["batch", "photos", "--style", "painting.png", "--instant", "--size", "32", "-o", "out", "--quiet"]
    assert cli.main(argv) == 0
    manifest = json.loads((work / "out" / "manifest.json").read_text())
    assert [c["status"] for c in manifest["cells"]] == ["done", "done"]
    assert all(c["instant"]["instant"] for c in manifest["cells"])
    assert cli.main(argv) == 0  # a rerun finds everything finished


@pytest.mark.slow
def test_video_is_painted_frame_by_frame(work):
    from nst.video.synthetic import pan_zoom, write_clip

    write_clip(work / "clip.mp4", pan_zoom(64, 48, 4), audio=False)
    assert cli.main(["video", "clip.mp4", "painting.png", "--instant", "-o", "out.mp4", "--quiet"]) == 0
    assert (work / "out.mp4").stat().st_size > 0


@pytest.mark.slow
def test_the_optimisation_starts_from_the_instant_picture(work):
    import nst

    result = nst.transfer_style("photo.png", "painting.png", nst.StyleConfig(size=32, iterations=1, init="instant",
                                                                            scales=1))
    assert result.image.size == (32, 24)
