"""Writing a file so that it holds either its previous content or all of the new, never half.

A temporary file in the same folder (so the rename stays on one filesystem) is written, flushed
to disk and renamed over the target; if anything fails or interrupts the write (Ctrl-C included),
the temporary file is removed. Every writer of results, checkpoints and manifests uses this.
No torch here: the instant and video paths run without it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO


def save_torch_atomically(payload: Any, path: str | os.PathLike, mode: int | None = None) -> Path:
    """``torch.save`` so that ``path`` holds either its previous content or all of the new, never half."""
    import torch  # here, not at the top: the instant and video paths import this module without torch

    return write_atomically(path, lambda handle: torch.save(payload, handle), mode)


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], object], mode: int | None = None) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
    return path


def remove_quietly(path: str | os.PathLike) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
