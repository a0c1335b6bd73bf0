"""A run's state on disk, so that a stylization killed at any moment (even by SIGKILL) can go on.

A checkpoint holds everything the loop needs to continue exactly where it was: the image being
optimised at the current scale, the optimiser's state, the scale and iteration, the loss history,
the best image so far, and the run's identity (settings, scale plan and fingerprints
of the input pixels) so that a resume with other settings or other images is refused.

Writes are atomic (a temporary file in the same folder, flushed, then renamed over the old one), so
the file on disk is always a complete checkpoint: the previous one or the new one. Reading uses
``torch.load(weights_only=True)``: a checkpoint is data, never code.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from nst.atomic import save_torch_atomically
from nst.errors import InputError
from nst.optimise.config import StyleConfig
from nst.optimise.fixed import RETIRED_SETTINGS, without_retired

#: Bumped whenever the layout changes; an older checkpoint is refused with a clear message.
FORMAT = "nst-checkpoint"
VERSION = 1


@dataclass
class Checkpoint:
    """The state of an unfinished run. Tensors are kept on the CPU.

    ``scale`` counts from 1; ``iteration`` is the number of iterations finished at that scale and
    ``offset`` the number finished at the scales before it. ``history`` holds the losses of every
    finished iteration (all scales, as `LossBreakdown.to_dict` dicts); the last ``iteration`` of
    them belong to the current scale. At a tiled scale, ``tiles_done`` tiles are finished and
    pasted into ``image`` (their iterations all counted in ``iteration``), and the next starts
    afresh.
    """

    identity: dict[str, Any]
    scale: int
    iteration: int
    offset: int
    image: torch.Tensor
    best_image: torch.Tensor
    best_losses: dict[str, Any] | None
    history: list[dict[str, Any]]
    optimizer: dict[str, Any] | None
    loss_scale: float | None
    lr: float
    faults: int = 0
    events: list[str] = field(default_factory=list)
    # Written by earlier versions; nothing reads it (nst draws noise from its own seeded generator).
    rng_state: torch.Tensor | None = None
    elapsed: float = 0.0
    tiles_done: int = 0

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically: ``path`` holds either the previous checkpoint or this one, never half."""
        return save_torch_atomically({"format": FORMAT, "version": VERSION, **asdict_shallow(self)}, path)


def asdict_shallow(checkpoint: Checkpoint) -> dict[str, Any]:
    """Field -> value without `dataclasses.asdict`'s deep copy of every tensor."""
    return {f.name: getattr(checkpoint, f.name) for f in fields(checkpoint)}


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint written by `Checkpoint.save`, or raise `InputError` saying why not."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no checkpoint at '{path}' to resume from")
    try:
        with warnings.catch_warnings():
            # torch warns about unusual pickle protocols in a foreign file; the error below says it all.
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and torch errors of a damaged file all mean the same
        raise InputError(
            f"checkpoint '{path}' is damaged or not a checkpoint ({type(exc).__name__})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InputError(f"'{path}' is not an nst checkpoint")
    if payload.get("version") != VERSION:
        raise InputError(
            f"checkpoint '{path}' has format version {payload.get('version')!r}; this nst reads version {VERSION}"
        )
    names = {f.name for f in fields(Checkpoint)}
    data = {k: v for k, v in payload.items() if k in names}
    try:
        checkpoint = Checkpoint(**data)
    except TypeError:
        raise InputError(f"checkpoint '{path}' lacks part of a run's state") from None
    if not isinstance(checkpoint.image, torch.Tensor) or not torch.isfinite(checkpoint.image).all():
        raise InputError(f"checkpoint '{path}' holds no usable image")
    return checkpoint


def fingerprint(image: Image.Image | torch.Tensor) -> str:
    """SHA-256 of decoded pixels: the same picture in another file format or path still matches."""
    digest = hashlib.sha256()
    if isinstance(image, torch.Tensor):
        t = image.detach().to("cpu", torch.float32).contiguous()
        digest.update(f"tensor{tuple(t.shape)}".encode())
        digest.update(t.numpy().tobytes())
    else:
        digest.update(f"{image.mode}{image.size}".encode())
        digest.update(image.tobytes())
    return digest.hexdigest()


def run_identity(
    settings: Mapping[str, Any],
    plan: list[tuple[int, int]],
    content: Image.Image | torch.Tensor,
    styles: list[Image.Image | torch.Tensor],
    blend: list[float],
    init: Image.Image | torch.Tensor | None = None,
) -> dict[str, Any]:
    """What must be equal for a resume to continue the same run."""
    identity: dict[str, Any] = {
        "settings": dict(settings),
        "plan": [list(step) for step in plan],
        "content": fingerprint(content),
        "styles": [fingerprint(s) for s in styles],
        "blend": list(blend),
    }
    if init is not None:
        identity["init_image"] = fingerprint(init)
    return identity


#: Settings whose default is not what a run did before the setting existed (0.2.0 changed them):
#: a checkpoint without them ran with these values.
BEFORE_THE_SETTING_EXISTED: dict[str, Any] = {
    "coarse_style": "level", "coarse_content_boost": 1.0, "stroke_weight": 1.0,
    "final_only_style_layers": [], "laplacian_weight": 0.0, "salient_quantile": 1.0,
    "subject_weight": 1.0,
}  # fmt: skip


def describe_mismatch(saved: Mapping[str, Any], current: Mapping[str, Any]) -> str | None:
    """None when ``current`` may resume ``saved``; else a short account of what differs."""
    differences: list[str] = []
    # A setting added since the checkpoint was written ran as if at its default then: today's
    # default, or for settings whose default changed, the value that was the behaviour before; a
    # retired setting, the one value nst still paints.
    defaults = {**RETIRED_SETTINGS, **StyleConfig().to_dict(), **BEFORE_THE_SETTING_EXISTED}
    old_settings = {**defaults, **without_retired(saved.get("settings", {}))}
    new_settings = {**defaults, **current.get("settings", {})}
    for key in sorted(set(old_settings) | set(new_settings)):
        if old_settings.get(key) != new_settings.get(key):
            differences.append(f"{key} ({old_settings.get(key)!r} -> {new_settings.get(key)!r})")
    if saved.get("plan") != current.get("plan") and not differences:
        differences.append(f"the scale plan ({saved.get('plan')} -> {current.get('plan')})")
    if saved.get("content") != current.get("content"):
        differences.append("the content image")
    if saved.get("styles") != current.get("styles"):
        differences.append("the style image(s)")
    if saved.get("blend") != current.get("blend"):
        differences.append("the style blend")
    if saved.get("init_image") != current.get("init_image"):
        differences.append("the init image")
    return ", ".join(differences) if differences else None


__all__ = ["Checkpoint", "describe_mismatch", "fingerprint", "load_checkpoint", "run_identity"]
