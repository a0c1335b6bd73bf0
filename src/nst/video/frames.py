"""Independent frames (``consistency`` 0) painted on an `nst.engines` engine, a chunk at a time.

With no temporal blending no frame needs another, so the frames of a chunk are painted side by
side: each is written as a PNG into the work folder's ``frames`` folder, painted there as one job
(a style model's, or an optimisation's), read back in order and deleted. The driver then encodes
and commits the chunk exactly as on the in-process path, so resuming and assembling are the same.
On a Ray cluster the work folder (beside the output) must be on a filesystem every node sees;
the engine checks that before the first job.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from nst.engines import Job, JobResult
from nst.errors import InputError
from nst.video.config import VideoConfig

if TYPE_CHECKING:
    from nst.engines import Engine
    from nst.optimise.config import StyleConfig

#: The folder, inside the work folder, that holds a chunk's frames while they are painted.
FRAMES_FOLDER = "frames"


class EngineFrames:
    """Paints lists of frames, each as one job of ``engine``: ``model`` (a bundled name or a
    .pt/.onnx path) or ``style`` (one style image's path, with ``style_config``). The frames must
    be independent (``config.consistency`` 0; `nst.stylize_video` checks that first)."""

    def __init__(self, engine: Engine, work: Path, config: VideoConfig, frame_size: tuple[int, int],
                 model: str | os.PathLike | None = None, style: str | os.PathLike | None = None,
                 style_config: StyleConfig | None = None, device: str = "cpu"):
        self.engine = engine
        self.folder = work / FRAMES_FOLDER
        self.longest = max(frame_size)
        self.device = device
        if model is not None:
            self.job: dict[str, Any] = {"model": os.fspath(model), "size": self.longest,
                                        "strength": config.strength, "preserve_color": config.preserve_color}
        elif style is not None and style_config is not None:
            self.job = {"style": os.fspath(style), "config": style_config.with_changes(size=self.longest)}
        else:
            raise InputError("an engine needs a style model or a style image")

    def __enter__(self) -> EngineFrames:
        # Frames of a killed sitting's chunk are painted again: start from an empty folder.
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.engine.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.engine.__exit__(*exc)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def paint(self, frames: Iterable[tuple[int, np.ndarray]]) -> list[Path]:
        """Paint ``frames`` ((number, RGB uint8), streamed: each is written as it comes) and return
        the painted pictures' files in the same order; the caller reads and deletes them."""
        jobs, numbers = [], []
        for position, (number, rgb) in enumerate(frames):
            numbers.append(number)
            path = self.folder / f"in-{number:08d}.png"
            Image.fromarray(rgb, "RGB").save(path, compress_level=1)
            jobs.append(Job(index=position, name=f"out-{number:08d}", folder=str(self.folder), content=str(path),
                            device=self.device, **self.job))
        painted: dict[int, Path] = {}

        def collect(result: JobResult) -> None:
            if result.error is not None or result.partial is None:
                raise InputError(f"frame {numbers[result.index]}: {result.error}")
            painted[result.index] = self.folder / result.partial

        try:
            self.engine.run(jobs, collect)
        except BaseException:
            for path in painted.values():
                path.unlink(missing_ok=True)
            raise
        finally:
            for job in jobs:
                Path(job.content).unlink(missing_ok=True)
        return [painted[i] for i in range(len(jobs))]


def read_painted(path: Path) -> np.ndarray:
    """A painted frame's pixels, (H, W, 3) uint8; the file is deleted."""
    with Image.open(path) as picture:
        pixels = np.asarray(picture.convert("RGB"))
    path.unlink()
    return pixels


def check_engine_style(style: Any) -> Path:
    """The one style image an engine's optimisation jobs read (they take a file, not pixels)."""
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if len(styles) != 1 or not isinstance(styles[0], (str, os.PathLike)):
        raise InputError("with an engine, the optimisation takes one style image given as a file")
    return Path(styles[0])
