"""Instant styles: the bundled style models, loaded once per server, painting a photo in a second.

Unlike an optimisation (minutes, one job at a time in `nst.web.jobs.JobQueue`'s worker), a style
model paints synchronously inside the request. Painting takes every core, so one picture is
painted at a time (a style model's or the any-painting decoder's: they share `InstantPainter.turn`);
a few requests may wait for their turn, and more get `QueueFull` (429) rather than piling up
threads that would each hold a photo in memory.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image

import nst
from nst.models import registry
from nst.picture import PRESERVE_COLOR_MODES, check_options
from nst.web.jobs import QueueFull

if TYPE_CHECKING:
    from collections.abc import Iterator

    from nst.models.card import ModelCard
    from nst.models.loader import Painter


@dataclass(frozen=True)
class Painted:
    """A picture painted by a style model, and what it took."""

    image: Image.Image
    card: ModelCard
    seconds: float


class InstantPainter:
    """The bundled style models of one server, loaded on first use and kept.

    Args:
        device: where the models run; on the CPU that is onnxruntime (no torch needed).
        max_waiting: requests allowed to wait while one picture is painted; more get `QueueFull`.
    """

    def __init__(self, device: str = "cpu", max_waiting: int = 4) -> None:
        self.device = device
        self.max_waiting = max_waiting
        self._models: dict[str, Painter] = {}
        self._models_lock = threading.Lock()
        self._paint_lock = threading.Lock()
        self._admitted = 0
        self._admitted_lock = threading.Lock()

    def names(self) -> list[str]:
        """The bundled models' names; looked up each time, so models added later appear."""
        return registry.bundled_names()

    def cards(self) -> list[ModelCard]:
        """The cards of the bundled models that load (a damaged one is left out, not fatal)."""
        cards = []
        for name in self.names():
            try:
                cards.append(self.model(name).card)
            except nst.InputError:
                continue
        return cards

    def model(self, name: str) -> Painter:
        """A bundled model by name, loaded once; `nst.InputError` for any other name."""
        with self._models_lock:
            if name not in self._models:
                names = self.names()
                if name not in names:
                    # Only names: a path here would let a client open files on the server.
                    choices = ", ".join(names) or "none on this server"
                    raise nst.InputError(f"unknown style model {name!r} (models: {choices})")
                self._models[name] = nst.load_style_model(name, device=self.device)
            return self._models[name]

    def paint(
        self, name: str, photo: Image.Image, size: int, strength: float, preserve_color: str
    ) -> Painted:
        """Paint ``photo`` with the model ``name``; waits its turn, or `QueueFull` if too many wait."""
        check_options(strength, preserve_color)
        model = self.model(name)
        with self.turn():
            started = time.perf_counter()
            image = model.paint(photo, size=size, strength=strength, preserve_color=preserve_color)
            return Painted(image, model.card, time.perf_counter() - started)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """One picture's turn on this server, waited for; `QueueFull` if too many wait already.

        Shared with the any-painting decoder (`nst.web.anypainting`): one picture at a time in all.
        """
        with self._admitted_lock:
            if self._admitted > self.max_waiting:  # one painting plus max_waiting waiting
                raise QueueFull(1)
            self._admitted += 1
        try:
            with self._paint_lock:
                yield
        finally:
            with self._admitted_lock:
                self._admitted -= 1


def card_summary(card: ModelCard) -> dict[str, Any]:
    """A card as the API shows it: everything but the training settings (long, and they name
    files of the machine that trained the model)."""
    return {k: v for k, v in card.to_dict().items() if k != "config"}


__all__ = ["PRESERVE_COLOR_MODES", "InstantPainter", "Painted", "card_summary"]
