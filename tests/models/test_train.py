"""Training a style model: the loss falls, resume, fine-tuning, the photos it reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nst.errors import InputError
from nst.losses import gram_matrix
from nst.models.config import TrainConfig
from nst.models.store import load_model
from nst.models.train import RELATIVE_STYLE_SCALE, TrainResult, train_style_model
from nst.training import load_photos
from tests.models.helpers import TINY, make_photos, make_style, picture


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TrainResult]:
    """A tiny model trained for 20 steps (the loss test reads its history, fine-tuning starts from it)."""
    folder = tmp_path_factory.mktemp("trained")
    path = folder / "first.pt"
    style, photos = make_style(folder / "style.png"), make_photos(folder / "photos")
    return path, train_style_model(style, photos, path, TINY.with_changes(iterations=(20,)))


def test_training_lowers_the_loss(trained: tuple[Path, TrainResult]):
    path, result = trained
    totals = [h["total"] for h in result.history]
    assert len(totals) == 20
    assert np.mean(totals[-5:]) < 0.5 * np.mean(totals[:3])
    assert result.photos == 8 and sorted(result.skipped_photos) == ["broken.jpg", "notes.txt"]
    assert path.is_file() and not path.with_name(path.name + ".ckpt").exists()


def test_too_few_photos_is_one_clear_error(style: Path, tmp_path: Path):
    folder = tmp_path / "few"
    folder.mkdir()
    picture(0).save(folder / "a.png")
    with pytest.raises(InputError, match="only 1 usable photos"):
        train_style_model(style, folder, tmp_path / "m.pt", TINY)


@pytest.mark.slow
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


@pytest.mark.slow
def test_fine_tuning_starts_from_the_model_and_keeps_its_card(style: Path, photos: Path, tmp_path: Path,
                                                              trained: tuple[Path, TrainResult]):
    first_path, first = trained
    fresh_start = first.history[0]["total"]
    tuned = train_style_model(style, photos, tmp_path / "tuned.pt", TINY.with_changes(iterations=(2,)),
                              init=first_path, name="tuned")
    # The first step of fine-tuning already paints like the trained model, far below a fresh start.
    assert tuned.history[0]["total"] < 0.5 * fresh_start
    _, card = load_model(tmp_path / "tuned.pt")
    assert [c.name for c in card.lineage()] == ["first", "tuned"]
    assert card.fine_tuned_from["config"]["iterations"] == [20] and card.steps == 2
    with pytest.raises(InputError, match="width 4 and 1 residual blocks"):
        train_style_model(style, photos, tmp_path / "wide.pt", TINY.with_changes(width=8), init=first_path)
    with pytest.raises(InputError, match="not ONNX"):
        train_style_model(style, photos, tmp_path / "x.pt", TINY, init=_onnx_file(tmp_path))


def _onnx_file(folder: Path) -> Path:
    path = folder / "model.onnx"
    path.write_bytes(b"not really onnx")
    return path


def test_load_photos_skips_what_it_cannot_read(photos: Path):
    found = load_photos(photos, shorter_side=32)
    assert len(found.images) == 8 and min(found.images[0].size) == 32
    with pytest.raises(InputError, match="does not exist"):
        load_photos(photos / "nope", 32)


@pytest.mark.slow
def test_the_subject_weight_and_the_outline_term_change_what_training_minimises(style: Path, photos: Path,
                                                                                 tmp_path: Path):
    torch.manual_seed(0)
    from nst.image import load_image
    from nst.models.train import PerceptualLoss

    painting = load_image(style, 64)
    photo = torch.stack([load_image(p, 64)[0, :, :48, :48] for p in sorted(photos.glob("photo*.jpg"))[:2]])
    output = (photo + 0.1 * torch.randn_like(photo)).clamp(0, 1)
    plain = PerceptualLoss(TINY, painting, torch.device("cpu"))(output, photo)[1]
    kept = PerceptualLoss(TINY.with_changes(subject_weight=10.0, laplacian_weight=1.0), painting,
                          torch.device("cpu"))(output, photo)[1]
    assert kept["style"] == pytest.approx(float(plain["style"]), rel=1e-5)
    assert float(kept["content"]) != pytest.approx(float(plain["content"]), rel=1e-3)
    result = train_style_model(style, photos, tmp_path / "m.pt",
                               TINY.with_changes(subject_weight=10.0, laplacian_weight=1.0, iterations=(2,)))
    assert all(np.isfinite(h["total"]) for h in result.history)


def test_the_relative_style_loss_weighs_each_layer_against_the_paintings_own_gram(style: Path, photos: Path):
    from nst.image import load_image
    from nst.models.train import PerceptualLoss

    painting = load_image(style, 64)
    photo = torch.stack([load_image(p, 64)[0, :, :48, :48] for p in sorted(photos.glob("photo*.jpg"))[:2]])
    single = TINY.with_changes(style_loss="relative", style_layer_weights=(1.0, 0.0))
    loss = PerceptualLoss(single, painting, torch.device("cpu"))
    with torch.no_grad():
        f = loss.extractor(photo)["conv1_1"]
        target = loss.style_grams["conv1_1"] * f.shape[-2] * f.shape[-1]
        expected = ((gram_matrix(f) - target).pow(2).sum(dim=(-2, -1)) / target.pow(2).sum()).mean()
        style = loss(photo, photo)[1]["style"]
    assert float(style) == pytest.approx(TINY.style_weight * RELATIVE_STYLE_SCALE * float(expected), rel=1e-4)
    with pytest.raises(InputError, match="style_loss"):
        TINY.with_changes(style_loss="l1")
    # the default now; settings saved before the field existed were trained with the paper's loss
    assert TrainConfig().style_loss == "relative" and TrainConfig.from_dict({}).style_loss == "paper"
