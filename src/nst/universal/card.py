"""What a decoder file says about how it was made (torch-free: the ONNX path reads it too)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DecoderCard:
    """How a decoder was trained (shown by ``nst models``)."""

    width: int
    photos: int
    photos_fingerprint: str
    steps: int
    seconds: float
    device: str
    photos_source: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    nst_version: str = ""
    # The card of the decoder this training continued from ({} when it started from random weights).
    continued_from: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecoderCard:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
