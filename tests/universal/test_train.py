"""Training the any-painting decoder: it writes a decoder, stops and resumes to the same weights."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import nst
from nst.errors import InputError
from nst.universal.config import DecoderTrainConfig
from nst.universal.store import load_decoder
from nst.universal.train import train_decoder

TINY = DecoderTrainConfig(sizes=(64,), iterations=(4,), batch_size=1, width=4, preview_every=0, min_photos=3,
                          checkpoint_seconds=3600)


def test_a_decoder_is_trained_and_saved_with_its_card(photos, tmp_path):
    result = train_decoder(photos, tmp_path / "d.pt", TINY, photos_source="made up")
    assert result.steps == 4 and len(result.history) == 4 and not result.stopped
    assert sorted(result.skipped_photos) == ["broken.jpg", "notes.txt"]
    decoder, card = load_decoder(tmp_path / "d.pt")
    assert card.photos == 8 and card.steps == 4 and card.photos_source == "made up" and decoder.width == 4
    assert card.nst_version == nst.__version__
    assert not (tmp_path / "d.pt.ckpt").exists()


@pytest.mark.slow
def test_a_stopped_training_resumes_to_the_same_decoder(photos, tmp_path):
    train_decoder(photos, tmp_path / "whole.pt", TINY)
    stopped = train_decoder(photos, tmp_path / "parts.pt", TINY, callback=lambda p: p.step == 2)
    assert stopped.stopped and (tmp_path / "parts.pt.ckpt").exists() and not (tmp_path / "parts.pt").exists()
    with pytest.raises(InputError, match="pass --resume"):
        train_decoder(photos, tmp_path / "parts.pt", TINY)
    with pytest.raises(InputError, match="other photos or settings"):
        train_decoder(photos, tmp_path / "parts.pt", dataclasses.replace(TINY, lr=0.01), resume=True)
    train_decoder(photos, tmp_path / "parts.pt", TINY, resume=True)
    whole, _ = load_decoder(tmp_path / "whole.pt")
    parts, _ = load_decoder(tmp_path / "parts.pt")
    for a, b in zip(whole.state_dict().values(), parts.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_a_training_continues_from_a_decoder_and_its_card_says_so(photos, tmp_path):
    first = train_decoder(photos, tmp_path / "first.pt", TINY)
    # With no step size the weights stay the file's: the start really is that decoder.
    still = dataclasses.replace(TINY, lr=0.0, iterations=(1,))
    train_decoder(photos, tmp_path / "next.pt", still, init=tmp_path / "first.pt")
    start, _ = load_decoder(tmp_path / "first.pt")
    after, card = load_decoder(tmp_path / "next.pt")
    for a, b in zip(start.state_dict().values(), after.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert card.continued_from["steps"] == first.steps == 4
    with pytest.raises(InputError, match="width 4, the training 8"):
        train_decoder(photos, tmp_path / "wide.pt", dataclasses.replace(TINY, width=8), init=tmp_path / "first.pt")

