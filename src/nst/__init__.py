"""nst: neural style transfer (Gatys, Ecker and Bethge 2015), fast and offline.

The public API::

    import nst
    picture = nst.stylize("photo.jpg", "painting.jpg", nst.StyleConfig(size=256))

    model = nst.load_style_model("starry-night")      # instant style: a trained network
    model.paint("photo.jpg", size=1024).save("out.png")

    nst.stylize_video("clip.mp4", "painted.mp4", model="starry-night")   # video, without flicker

Names are imported on first use (PEP 562), so ``import nst`` is cheap and the instant path, which
runs on onnxruntime, never loads torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "StyleConfig": "nst.config",
    "InputError": "nst.errors",
    "NSTError": "nst.errors",
    "ResourceError": "nst.errors",
    "WeightsError": "nst.errors",
    "LAYER_NAMES": "nst.layers",
    "VGG19Features": "nst.features",
    "load_image": "nst.image",
    "read_metadata": "nst.image",
    "save_image": "nst.image",
    "estimate_memory": "nst.memory",
    "LossBreakdown": "nst.objective",
    "Progress": "nst.optimise",
    "Interrupted": "nst.transfer",
    "StyleResult": "nst.transfer",
    "build_extractor": "nst.transfer",
    "stylize": "nst.transfer",
    "transfer_style": "nst.transfer",
    "load_weights": "nst.weights",
    "TrainConfig": "nst.models.config",
    "TrainProgress": "nst.models.train",
    "TrainResult": "nst.models.train",
    "train_style_model": "nst.models.train",
    "StyleModel": "nst.models.apply",
    "OnnxStyleModel": "nst.models.runtime",
    "ModelCard": "nst.models.card",
    "load_style_model": "nst.models.loader",
    "bundled_models": "nst.models.loader",
    "export_onnx": "nst.models.export",
    "VideoConfig": "nst.video.config",
    "VideoProgress": "nst.video.api",
    "VideoResult": "nst.video.api",
    "stylize_video": "nst.video.api",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        if name.startswith("_"):
            raise AttributeError(f"module 'nst' has no attribute {name!r}")
        try:  # a submodule, as `import nst; nst.image` works for an eagerly imported package
            return importlib.import_module(f"nst.{name}")
        except ModuleNotFoundError:
            raise AttributeError(f"module 'nst' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from nst.config import StyleConfig
    from nst.errors import InputError, NSTError, ResourceError, WeightsError
    from nst.features import VGG19Features
    from nst.image import load_image, read_metadata, save_image
    from nst.layers import LAYER_NAMES
    from nst.memory import estimate_memory
    from nst.models.apply import StyleModel
    from nst.models.card import ModelCard
    from nst.models.config import TrainConfig
    from nst.models.export import export_onnx
    from nst.models.loader import bundled_models, load_style_model
    from nst.models.runtime import OnnxStyleModel
    from nst.models.train import TrainProgress, TrainResult, train_style_model
    from nst.objective import LossBreakdown
    from nst.optimise import Progress
    from nst.transfer import Interrupted, StyleResult, build_extractor, stylize, transfer_style
    from nst.video.api import VideoProgress, VideoResult, stylize_video
    from nst.video.config import VideoConfig
    from nst.weights import load_weights
