"""The any-painting networks on torch: VGG-19 up to relu4_1 and a decoder file (any device)."""

from __future__ import annotations

import os

import numpy as np
import torch

from nst.universal.card import DecoderCard
from nst.universal.network import ENCODER_LAYER, Decoder, detail_bands
from nst.universal.store import load_decoder
from nst.vgg.features import VGG19Features
from nst.vgg.weights import VGGWeights, load_weights


class TorchNetworks:
    """`nst.universal.networks.Networks` on torch: the encoder and ``decoder`` on ``device``."""

    def __init__(self, decoder: Decoder, card: DecoderCard, device: str | torch.device = "cpu",
                 weights: VGGWeights | None = None) -> None:
        self.device = torch.device(device)
        self.card = card
        self.decoder = decoder.to(self.device, memory_format=torch.channels_last).eval()
        # The decoder was trained on this network's features: other weights are for tests.
        self.encoder = VGG19Features(weights or load_weights("vgg19-caffe"), (ENCODER_LAYER,), pooling="max").to(
            self.device, memory_format=torch.channels_last)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> TorchNetworks:
        decoder, card = load_decoder(path)
        return cls(decoder, card, device)

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        # Channels-last convolutions are about 30% faster on CPUs (oneDNN).
        return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).to(self.device).contiguous(
            memory_format=torch.channels_last)

    def encode(self, image: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.encoder(self._tensor(image))[ENCODER_LAYER].float().cpu().numpy()

    def decode(self, features: np.ndarray, photo: np.ndarray, detail: float) -> np.ndarray:
        with torch.inference_mode():
            bands = detail_bands(self._tensor(photo)) if detail else None
            return self.decoder(self._tensor(features), bands, detail).float().cpu().numpy()
