"""``nst export``: a style model as an ONNX file, checked against torch with onnxruntime."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from nst.errors import InputError
from nst.models.onnx_model import CARD_KEY, OnnxStyleModel
from nst.models.torch_model import StyleModel

OPSET = 17
#: Largest difference allowed between the ONNX and torch pictures, in [0, 1] units (one 8-bit step).
PARITY_TOLERANCE = 1.0 / 255.0


def export_onnx(model: StyleModel, path: str | os.PathLike, check: bool = True) -> float | None:
    """Write ``model`` as ONNX (any input height and width) with its card as metadata; atomic.

    With ``check``, paint test pictures of odd sizes with both engines and refuse to write a file
    whose pictures differ by more than `PARITY_TOLERANCE`. Returns that largest difference.
    """
    try:
        import onnx
    except ImportError:
        raise InputError("exporting needs the onnx package (pip install onnx, or nst[export])") from None
    path = Path(path)
    if path.suffix.lower() != ".onnx":
        raise InputError(f"export target '{path}' must end in .onnx")
    if not path.parent.is_dir():
        raise InputError(f"output folder '{path.parent}' does not exist")
    network = model.network.to("cpu").eval()
    example = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's notes on instance norm in training mode
        torch.onnx.export(
            network, (example,), buffer, input_names=["photo"], output_names=["painted"],
            dynamic_axes={"photo": {0: "batch", 2: "height", 3: "width"},
                          "painted": {0: "batch", 2: "height", 3: "width"}},
            opset_version=OPSET, dynamo=False,
        )
    proto = onnx.load_from_string(buffer.getvalue())
    entry = proto.metadata_props.add()
    entry.key, entry.value = CARD_KEY, json.dumps(model.card.to_dict(), sort_keys=True)
    proto.producer_name = "nst"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        onnx.save(proto, tmp)
        worst = parity(model, tmp) if check else None
        if worst is not None and worst > PARITY_TOLERANCE:
            raise InputError(f"the ONNX model differs from torch by {worst * 255:.2f}/255 (> 1/255); not written")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return worst


def parity(model: StyleModel, onnx_path: str | os.PathLike, sizes: tuple[tuple[int, int], ...] = ((97, 130), (256, 256))) -> float:
    """Largest difference between the torch and onnxruntime networks' pictures of smooth random
    photos (the same network, so the same framing on both sides)."""
    runtime = OnnxStyleModel(onnx_path)
    generator = torch.Generator().manual_seed(1)
    worst = 0.0
    for h, w in sizes:
        # A smooth random picture: low-frequency noise upsampled, like a photo's large shapes.
        coarse = torch.rand(1, 3, max(2, h // 16), max(2, w // 16), generator=generator)
        photo = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)
        photo = (photo + 0.05 * torch.rand(1, 3, h, w, generator=generator)).clamp(0, 1)
        with torch.inference_mode():
            expected = model.network.cpu()(photo).clamp(0, 1).numpy()
        got = np.clip(runtime.run(photo.numpy()), 0, 1)
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst
