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
    # When the model was fine-tuned from another one: that model's card (as a dict), so the
    # whole recipe stays on record; `steps` and `seconds` above count this model's own training.
    fine_tuned_from: dict[str, Any] | None = None

    def lineage(self) -> list[ModelCard]:
        """This card and the cards it was fine-tuned from, the first training first."""
        chain = [self]
        while chain[0].fine_tuned_from:
            chain.insert(0, ModelCard.from_dict(chain[0].fine_tuned_from))
        return chain

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
