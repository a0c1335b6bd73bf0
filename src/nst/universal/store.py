"""Decoder files: the weights (float16) and a card saying how they were made; data, never code."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from nst.atomic import save_torch_atomically
from nst.errors import InputError
from nst.universal.card import DecoderCard
from nst.universal.network import Decoder

FORMAT = "nst-decoder"
VERSION = 2  # 2: the decoder takes the photo's detail bands


def save_decoder(decoder: Decoder, card: DecoderCard, path: str | os.PathLike) -> Path:
    """Write the decoder atomically; weights in float16 (half the file, no visible difference)."""
    state = {
        "format": FORMAT, "version": VERSION, "width": decoder.width, "card": card.to_dict(),
        "state_dict": {k: v.detach().cpu().half().contiguous() for k, v in decoder.state_dict().items()},
    }
    return save_torch_atomically(state, Path(path), mode=0o644)


def load_decoder(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[Decoder, DecoderCard]:
    """Read a file written by `save_decoder`; refuse anything else with `InputError`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"decoder file '{path}' does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputError(f"decoder file '{path}' is not readable ({type(exc).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("version") != VERSION:
        raise InputError(f"'{path}' is not an nst decoder (format {FORMAT} version {VERSION})")
    decoder = Decoder(int(state["width"]))
    try:
        decoder.load_state_dict({k: v.float() for k, v in state["state_dict"].items()})
    except (RuntimeError, KeyError, AttributeError) as exc:
        raise InputError(f"decoder file '{path}' does not fit the decoder ({type(exc).__name__})") from None
    return decoder.to(device).eval().requires_grad_(False), DecoderCard.from_dict(state["card"])
