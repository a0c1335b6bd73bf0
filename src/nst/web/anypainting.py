"""Any painting, instantly: the any-painting decoder (`nst.universal`), loaded once per server.

The photo in the style of any uploaded painting, in a few seconds and with no training per
painting (rougher than an optimisation). Like a style model's picture it is painted inside the
request, and it takes the same turn (`nst.web.instant.InstantPainter.turn`): one picture at a
time on the server, a few waiting, more refused with `QueueFull` (429).

The decoder is the one bundled with nst (`nst.universal.paint.bundled_decoder_path` and
`bundled_onnx_paths`, looked up when asked, never a path from a client); a server without it says
so in GET /api/info and answers 503.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

import nst

if TYPE_CHECKING:
    from nst.universal.config import InstantConfig
    from nst.universal.paint import AnyPainting



class Unavailable(Exception):
    """This server cannot paint any painting (no decoder, or one that does not load): 503."""


def has_decoder() -> bool:
    """Whether the bundled decoder file is there (looked up each time: one added later counts)."""
    from nst.universal import paint

    return paint.bundled_decoder_path().is_file() or all(p.is_file() for p in paint.bundled_onnx_paths())


def load_painter(device: str) -> AnyPainting:
    """The bundled decoder and the VGG-19 encoder on ``device`` (about two seconds on a CPU)."""
    from nst.universal.paint import AnyPainting

    return AnyPainting.load(device=device)


@dataclass(frozen=True)
class PaintedAny:
    """A picture painted by the any-painting decoder, and how long it took."""

    image: Image.Image
    seconds: float


class AnyPainter:
    """The any-painting decoder of one server, loaded on first use and kept.

    Args:
        device: where it runs (the server's device).
        turn: a picture's turn on the server (`InstantPainter.turn`), so that the decoder and the
            style models paint one picture at a time between them.
    """

    def __init__(self, device: str, turn: Callable[[], AbstractContextManager[None]]) -> None:
        self.device = device
        self._turn = turn
        self._painter: AnyPainting | None = None
        self._lock = threading.Lock()

    def available(self) -> bool:
        """Whether this server can paint any painting (GET /api/info says so to the page)."""
        return self._painter is not None or has_decoder()

    def painter(self) -> AnyPainting:
        """The loaded painter; `Unavailable` when this server has no usable decoder."""
        with self._lock:
            if self._painter is None:
                if not has_decoder():
                    raise Unavailable("this server has no any-painting decoder")
                try:
                    self._painter = load_painter(self.device)
                except nst.InputError:
                    # Its message names the file: the answer says no more than that it failed.
                    raise Unavailable("this server's any-painting decoder cannot be loaded") from None
            return self._painter

    def paint(self, photo: Image.Image, painting: Image.Image, config: InstantConfig) -> PaintedAny:
        """Paint ``photo`` in the style of ``painting``; waits its turn, or `QueueFull`."""
        painter = self.painter()
        with self._turn():
            started = time.perf_counter()
            image = painter.paint(photo, painting, config)
            seconds = time.perf_counter() - started
        return PaintedAny(image, seconds)


__all__ = ["AnyPainter", "PaintedAny", "Unavailable", "has_decoder", "load_painter"]
