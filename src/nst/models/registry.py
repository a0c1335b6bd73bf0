"""Names of the style models that ship inside nst, and where a model name or path points.

Each bundled model is two files in ``nst/models/bundled/``: ``NAME.onnx`` (the instant path,
onnxruntime) and ``NAME.pt`` (torch: GPUs, tiling of very large photos, video). Both carry the
same model card. Nothing here imports torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from nst.errors import InputError

TORCH_SUFFIXES = (".pt", ".pth")
ONNX_SUFFIXES = (".onnx",)


@dataclass(frozen=True)
class ModelFiles:
    """Where a model's weights are: a torch file, an ONNX file, or both (bundled models)."""

    name: str
    torch_path: Path | None
    onnx_path: Path | None
    bundled: bool = False


def bundled_dir() -> Path:
    return Path(str(resources.files("nst.models") / "bundled"))


def bundled_names() -> list[str]:
    """The names of the bundled models, sorted."""
    folder = bundled_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.onnx") if (folder / f"{p.stem}.pt").is_file())


def resolve_model(name_or_path: str | os.PathLike) -> ModelFiles:
    """A bundled model's name, or a path to a ``.pt``/``.pth`` or ``.onnx`` file."""
    text = str(name_or_path)
    if text in bundled_names():
        folder = bundled_dir()
        return ModelFiles(text, folder / f"{text}.pt", folder / f"{text}.onnx", bundled=True)
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix in TORCH_SUFFIXES + ONNX_SUFFIXES or path.exists():
        if not path.is_file():
            raise InputError(f"model file '{path}' does not exist")
        if suffix in TORCH_SUFFIXES:
            return ModelFiles(path.stem, path, None)
        if suffix in ONNX_SUFFIXES:
            return ModelFiles(path.stem, None, path)
        raise InputError(f"model file '{path}' must end in .pt, .pth or .onnx")
    names = ", ".join(bundled_names()) or "none installed"
    raise InputError(f"unknown style model {text!r} (bundled: {names}; or a path to a .pt or .onnx file)")
