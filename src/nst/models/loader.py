"""`load_style_model`: the one way to open a style model, on the fastest engine that can run it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Protocol

from PIL import Image

from nst.errors import InputError
from nst.models.card import ModelCard
from nst.models.registry import bundled_names, resolve_model

if TYPE_CHECKING:
    import torch

BACKENDS = ("auto", "onnx", "torch")


class Painter(Protocol):
    """What both engines offer: a model card and `paint`."""

    card: ModelCard

    def paint(self, photo: Any, size: int | None = None, strength: float = 1.0,
              preserve_color: str = "none", tile_size: int | None = None) -> Image.Image: ...


def bundled_models() -> list[ModelCard]:
    """The cards of the style models that ship with nst (no torch needed)."""
    return [load_style_model(name, backend="onnx").card for name in bundled_names()]


def load_style_model(
    name_or_path: str | os.PathLike,
    device: str | torch.device = "cpu",
    backend: str = "auto",
    busy_wait: bool = True,
) -> Painter:
    """Open a style model: a bundled name (``starry-night``), a ``.pt`` file from ``nst train`` or
    an ``.onnx`` file from ``nst export``.

    ``backend="auto"`` runs ONNX files with onnxruntime on the CPU (no torch import: the fastest
    start) and torch files, or any model on a GPU, with torch. Photos too large to paint whole
    are tiled by the torch engine; a bundled model hands them to it by itself. ``busy_wait=False``
    stops onnxruntime's threads spinning between tasks, for callers that run other work beside
    the model (see `nst.models.onnx_model.OnnxStyleModel`).
    """
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    files = resolve_model(name_or_path)
    on_cpu = str(device) == "cpu"
    use_onnx = files.onnx_path is not None and (backend == "onnx" or (backend == "auto" and on_cpu))
    if backend == "onnx" and files.onnx_path is None:
        raise InputError(f"'{files.torch_path}' is a torch file: export it with 'nst export' to run it on onnxruntime")
    if use_onnx:
        from nst.models.onnx_model import OnnxStyleModel

        return OnnxStyleModel(files.onnx_path, torch_path=files.torch_path, busy_wait=busy_wait)  # type: ignore[arg-type]
    if files.torch_path is None:
        raise InputError(f"'{files.onnx_path}' is an ONNX file, which runs on the CPU only (device {device})")
    from nst.models.torch_model import StyleModel

    return StyleModel.load(files.torch_path, device)
