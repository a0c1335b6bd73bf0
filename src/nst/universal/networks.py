"""The any-painting engine's two networks: the encoder (a picture to its relu4_1 features) and the
decoder (features and the photo back to a picture), on torch or on onnxruntime.

`nst.universal.paint.AnyPainting` does everything around them (the statistics, the transform,
tiles, the palette) in NumPy and calls only `Networks.encode` and `Networks.decode`, so the same
picture comes from either runtime. `OnnxNetworks` runs on the CPU without importing torch (the
import alone takes longer than painting a 512 px picture); `nst.universal.torch_networks` runs
custom decoders, GPUs and training previews.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from nst.errors import InputError
from nst.universal.card import DecoderCard

#: ONNX metadata key holding the decoder's card (JSON).
CARD_KEY = "nst_decoder_card"
#: relu4_1's channels, and how much smaller its map is than the picture (three poolings).
FEATURE_CHANNELS = 512
STRIDE = 8


class Networks(Protocol):
    """Encoder and decoder on (1, C, H, W) float32 arrays."""

    card: DecoderCard

    def encode(self, image: np.ndarray) -> np.ndarray:
        """(1, 3, H, W) RGB in [0, 1], sides multiples of `STRIDE` -> (1, 512, H/8, W/8) calibrated relu4_1."""
        ...

    def decode(self, features: np.ndarray, photo: np.ndarray, detail: float) -> np.ndarray:
        """relu4_1 features, the photo they stand for (its detail bands are taken from it) and the
        share of its detail to keep -> (1, 3, H, W) RGB, about [0, 1] (unclamped)."""
        ...


def bundled_folder() -> Path:
    return Path(__file__).resolve().parent / "bundled"


class OnnxNetworks:
    """The exported encoder and decoder (``encoder.onnx``, ``decoder.onnx``) on onnxruntime's CPU."""

    def __init__(self, encoder_path: str | os.PathLike, decoder_path: str | os.PathLike,
                 threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise InputError("onnxruntime is not installed (pip install onnxruntime)") from None
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        # onnxruntime's arena keeps the largest activations for reuse: 4.2 GB instead of 1.9 GB at
        # 2048 x 1536 px, for 14% of the time there and none at 512 px.
        options.enable_cpu_mem_arena = False
        self.encoder = _session(ort, Path(encoder_path), options)
        self.decoder = _session(ort, Path(decoder_path), options)
        meta = self.decoder.get_modelmeta().custom_metadata_map
        if CARD_KEY not in meta:
            raise InputError(f"'{decoder_path}' is not an nst decoder (no card in its metadata)")
        self.card = DecoderCard.from_dict(json.loads(meta[CARD_KEY]))

    def encode(self, image: np.ndarray) -> np.ndarray:
        return self.encoder.run(None, {"image": np.ascontiguousarray(image, dtype=np.float32)})[0]

    def decode(self, features: np.ndarray, photo: np.ndarray, detail: float) -> np.ndarray:
        return self.decoder.run(None, {"features": np.ascontiguousarray(features, dtype=np.float32),
                                       "photo": np.ascontiguousarray(photo, dtype=np.float32),
                                       "detail": np.asarray(detail, dtype=np.float32)})[0]


def _session(ort, path: Path, options):  # type: ignore[no-untyped-def]
    if not path.is_file():
        raise InputError(f"network file '{path}' does not exist")
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"'{path}' is not a usable ONNX network: {first[:160]}") from None
