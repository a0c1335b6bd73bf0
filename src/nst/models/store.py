"""Style model files: a small torch file holding the network's weights and its model card.

A model file is data, never code: it is read with ``torch.load(weights_only=True)`` and checked
(format, version, architecture, every tensor's shape) before use, so a corrupt, truncated or
foreign file is refused with a one-line error naming it.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from nst.atomic import save_torch_atomically
from nst.errors import InputError
from nst.models.card import ModelCard
from nst.models.network import TransformerNet

FORMAT = "nst-style-model"
VERSION = 1

__all__ = ["FORMAT", "VERSION", "ModelCard", "load_model", "save_model"]


@dataclass(frozen=True)
class _Architecture:
    width: int
    residual_blocks: int


def save_model(model: TransformerNet, card: ModelCard, path: str | os.PathLike) -> Path:
    """Write the model atomically (the old file or the complete new one, never half of one)."""
    path = Path(path)
    if not path.parent.exists():
        raise InputError(f"output folder '{path.parent}' does not exist")
    state = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": {"width": model.width, "residual_blocks": model.residual_blocks},
        "card": card.to_dict(),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
    }
    return save_torch_atomically(state, path, mode=0o644)


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[TransformerNet, ModelCard]:
    """Read a model file written by `save_model`; refuse anything else with `InputError`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file '{path}' does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputError(f"model file '{path}' is not a readable nst style model "
                         f"({type(exc).__name__}: truncated or not a torch file?)") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise InputError(f"'{path}' is not an nst style model (no '{FORMAT}' header)")
    if state.get("version") != VERSION:
        raise InputError(f"style model '{path}' has format version {state.get('version')!r}; "
                         f"this nst reads version {VERSION}")
    try:
        arch = _Architecture(**state["architecture"])
        card = ModelCard.from_dict(state["card"])
        model = TransformerNet(arch.width, arch.residual_blocks)
        model.load_state_dict(state["state_dict"], strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"style model '{path}' is damaged: {first[:160]}") from None
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        raise InputError(f"style model '{path}' is damaged: non-finite weights")
    return model.eval().requires_grad_(False).to(device), dataclasses.replace(card)
