"""Reading back what nst video wrote: decoded frames, packets and timestamps (PyAV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nst.video import io


def decoded(path: Path) -> list[np.ndarray]:
    info = io.probe(path, None)
    return [f.rgb for f in io.read_frames(info)]


def packets(path: Path, kind: str) -> list[tuple[int | None, bytes]]:
    import av

    with av.open(str(path)) as container:
        stream = getattr(container.streams, kind)[0]
        return [(p.pts, bytes(p)) for p in container.demux(stream) if p.size]


def video_pts(path: Path) -> list[int]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(float(f.pts * stream.time_base) for f in container.decode(stream))
