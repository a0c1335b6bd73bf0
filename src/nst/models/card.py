"""What a style model is: its painting, how it was trained, on what (no torch needed to read it)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelCard:
    """The description stored inside every model file (and shown by ``nst models``)."""

    name: str
    painting: str
    style_file: str
    style_sha256: str
    photos: int
    photos_fingerprint: str
    steps: int
    seconds: float
    device: str
    config: dict[str, Any] = field(default_factory=dict)
    # Where the training photos came from and on what terms, for the bundled models.
    photos_source: str = ""
    nst_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
