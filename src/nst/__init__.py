"""nst: neural style transfer (Gatys, Ecker and Bethge 2015), fast and offline.

The public API::

    import nst
    picture = nst.stylize("photo.jpg", "painting.jpg", nst.StyleConfig(size=256))

    model = nst.load_style_model("starry-night")      # instant style: a trained network
    model.paint("photo.jpg", size=1024).save("out.png")

    painter = nst.AnyPainting.load()                   # any painting in seconds, no training
    painter.paint("photo.jpg", "painting.jpg", nst.InstantConfig(size=1024)).save("out.png")

    nst.stylize_video("clip.mp4", "painted.mp4", model="starry-night")   # video, without flicker

Names are imported on first use (PEP 562), so ``import nst`` is cheap and the instant path, which
runs on onnxruntime, never loads torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nst._version import __version__

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "StyleConfig": "nst.optimise.config",
    "InputError": "nst.errors",
    "NSTError": "nst.errors",
    "ResourceError": "nst.errors",
    "WeightsError": "nst.errors",
    "LAYER_NAMES": "nst.vgg.layers",
    "VGG19Features": "nst.vgg.features",
    "load_image": "nst.image",
    "read_metadata": "nst.image",
    "save_image": "nst.image",
    "estimate_memory": "nst.optimise.memory",
    "check_fits": "nst.optimise.memory",
    "LossBreakdown": "nst.optimise.objective",
    "Progress": "nst.optimise.run_state",
    "Interrupted": "nst.optimise.transfer",
    "StyleResult": "nst.optimise.transfer",
    "build_extractor": "nst.optimise.transfer",
    "stylize": "nst.optimise.transfer",
    "transfer_style": "nst.optimise.transfer",
    "load_weights": "nst.vgg.weights",
    "TrainConfig": "nst.models.config",
    "TrainProgress": "nst.models.train",
    "TrainResult": "nst.models.train",
    "train_style_model": "nst.models.train",
    "StyleModel": "nst.models.torch_model",
    "OnnxStyleModel": "nst.models.onnx_model",
    "ModelCard": "nst.models.card",
    "load_style_model": "nst.models.loader",
    "bundled_models": "nst.models.loader",
    "export_onnx": "nst.models.export",
    "AnyPainting": "nst.universal.paint",
    "InstantConfig": "nst.universal.config",
    "DecoderTrainConfig": "nst.universal.config",
    "DecoderProgress": "nst.universal.train",
    "train_decoder": "nst.universal.train",
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
    from nst.errors import InputError, NSTError, ResourceError, WeightsError
    from nst.image import load_image, read_metadata, save_image
    from nst.models.card import ModelCard
    from nst.models.config import TrainConfig
    from nst.models.export import export_onnx
    from nst.models.loader import bundled_models, load_style_model
    from nst.models.onnx_model import OnnxStyleModel
    from nst.models.torch_model import StyleModel
    from nst.models.train import TrainProgress, TrainResult, train_style_model
    from nst.optimise.config import StyleConfig
    from nst.optimise.memory import estimate_memory
    from nst.optimise.objective import LossBreakdown
    from nst.optimise.run_state import Progress
    from nst.optimise.transfer import Interrupted, StyleResult, build_extractor, stylize, transfer_style
    from nst.vgg.features import VGG19Features
    from nst.vgg.layers import LAYER_NAMES
    from nst.vgg.weights import load_weights
    from nst.video.api import VideoProgress, VideoResult, stylize_video
    from nst.video.config import VideoConfig
