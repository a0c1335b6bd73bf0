"""Video out: `SegmentWriter` encodes one chunk of the output as an H.264 segment that `assemble`
joins into the final file, with the source's audio packets copied as they are (not re-encoded);
`write_animation` writes animated GIF and WebP with Pillow. Output is BT.709, limited range, and
tagged so (nst.video.io reads with the matrix a frame is tagged with).
"""

from __future__ import annotations

import heapq
import math
import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from nst.errors import InputError
from nst.video.io import (
    ANIMATION_FORMATS,
    BT709,
    LIMITED,
    TIME_EPS,
    VIDEO_FORMATS,
    ClipInfo,
    first_line,
    open_input,
    output_kind,
    require_av,
)


class SegmentWriter:
    """One chunk of the output encoded as H.264 in an MP4 file, BT.709 limited range and tagged so.

    Each segment starts with a key frame; `assemble` joins segments without re-encoding. The same
    frames with the same settings give the same bytes (x264 is deterministic by default), which
    makes a resumed run's output identical to an uninterrupted one.
    """

    def __init__(self, path: Path, size: tuple[int, int], time_base: Fraction, fps: float, crf: int, preset: str):
        av = require_av()
        self.path = path
        self.container = av.open(str(path), "w", format="mp4")
        # A frame-exact resume needs x264's output to depend on the frames only. With macroblock-tree
        # rate control on, a chunk came out different in about one run of three here (the same
        # frames, single-threaded); without it, never in dozens. It costs a few percent of bitrate.
        stream = self.container.add_stream("libx264", rate=Fraction(fps).limit_denominator(100000),
                                           options={"crf": str(crf), "preset": preset, "x264-params": "mbtree=0"})
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = time_base
        context = stream.codec_context
        context.time_base = time_base
        context.colorspace = context.color_primaries = context.color_trc = BT709
        context.color_range = LIMITED
        self.stream = stream
        self.time_base = time_base

    def write(self, rgb: np.ndarray, pts: int) -> None:
        av = require_av()
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame = frame.reformat(format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG",
                               src_color_range="JPEG")
        frame.pts, frame.time_base = pts, self.time_base
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        self.container.close()

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:  # closing a half-written file: nothing left to save
            pass


def check_audio_copy(info: ClipInfo, output: Path) -> None:
    """Refuse, before any work, an output container that cannot hold the source's audio as is."""
    if info.audio_codec is None or output_kind(output) != "video":
        return
    av = require_av()
    import io

    with open_input(Path(info.path)) as source:
        target = av.open(io.BytesIO(), "w", format=VIDEO_FORMATS[output.suffix.lower()])
        try:
            target.add_stream_from_template(source.streams.audio[0])
            target.start_encoding()
        except (av.FFmpegError, ValueError) as exc:
            raise InputError(f"the audio ({info.audio_codec}) cannot be copied into '{output.suffix}' "
                             f"without re-encoding; write .mkv instead ({first_line(exc)})") from None
        finally:
            try:
                target.close()
            except Exception:
                pass


def assemble(segments: list[tuple[Path, int]], output: Path, info: ClipInfo, trimmed: bool) -> None:
    """Join the H.264 ``segments`` (each a file and its first frame's pts) into ``output`` and copy the source's audio packets as they are
    (no re-encoding): from the first painted frame to the window's end when ``trimmed``, else all
    of it from the first frame on. Writes ``output`` only; the caller writes to a temporary name
    and renames it."""
    av = require_av()
    out = av.open(str(output), "w", format=VIDEO_FORMATS[output.suffix.lower()])
    opened = [av.open(str(p), "r") for p, _ in segments]
    source = av.open(info.path, "r") if info.audio_codec else None
    try:
        video_out = out.add_stream_from_template(opened[0].streams.video[0])
        video_out.time_base = info.time_base
        audio_out = None
        if source is not None:
            audio_out = out.add_stream_from_template(source.streams.audio[0])
        streams: list[Iterator[tuple[float, int, Any]]] = [_video_packets(opened, [pts for _, pts in segments], info.time_base, video_out)]
        if source is not None:
            keep_from = info.start if info.start > 0 else -math.inf  # untrimmed: the encoder's priming too
            streams.append(_audio_packets(source, audio_out, info.start, keep_from,
                                          info.end if trimmed else math.inf))
        for _, _, packet in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
            out.mux(packet)
    finally:
        for container in opened:
            container.close()
        if source is not None:
            source.close()
        out.close()


def _video_packets(segments: list[Any], first_pts: list[int], time_base: Fraction,
                   stream: Any) -> Iterator[tuple[float, int, Any]]:
    """The segments' packets on one timeline. MP4 shifts a segment's timestamps to make room for
    reordered frames; each segment is put back so that its first frame has its own pts."""
    last_dts = None
    for container, first in zip(segments, first_pts, strict=True):
        source = container.streams.video[0]
        packets = [p for p in container.demux(source) if p.size and p.pts is not None]
        if not packets:
            continue
        tb = Fraction(source.time_base)
        shift = round(first * time_base / tb) - min(p.pts for p in packets)
        for packet in packets:
            packet.pts += shift
            packet.dts = (packet.dts if packet.dts is not None else packet.pts - shift) + shift
            if last_dts is not None and packet.dts <= last_dts:
                packet.dts = last_dts + 1  # a segment's first reordered frames, kept monotonic
            last_dts = packet.dts
            packet.stream = stream
            yield float(packet.dts * tb), 0, packet


def _audio_packets(source: Any, stream: Any, start: float, keep_from: float,
                   end: float) -> Iterator[tuple[float, int, Any]]:
    audio = source.streams.audio[0]
    tb = Fraction(audio.time_base)
    shift = round(start / tb)
    for packet in source.demux(audio):
        if packet.size == 0 or packet.pts is None:
            continue
        t = float(packet.pts * tb)
        if t < keep_from - TIME_EPS or t >= end - TIME_EPS:
            continue
        packet.pts -= shift
        if packet.dts is not None:
            packet.dts -= shift
        packet.stream = stream
        yield float(packet.pts * tb), 1, packet


def write_animation(frames: Iterator[tuple[np.ndarray, int]], output: Path, fps: float) -> None:
    """Frames (RGB, duration in ms) -> an animated GIF or WebP at ``output`` (loops forever)."""
    from PIL import Image

    pictures, durations = [], []
    for rgb, ms in frames:
        pictures.append(Image.fromarray(rgb, "RGB"))
        durations.append(max(10, int(ms)))
    fmt = ANIMATION_FORMATS[output.suffix.lower()]
    options: dict[str, Any] = {"save_all": True, "append_images": pictures[1:], "duration": durations, "loop": 0}
    if fmt == "WEBP":
        options.update(quality=90, method=4)
    with open(output, "wb") as handle:
        pictures[0].save(handle, format=fmt, **options)
        handle.flush()
        os.fsync(handle.fileno())
