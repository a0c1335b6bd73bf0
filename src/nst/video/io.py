"""Video in: PyAV for video files, Pillow for animated GIF and WebP (writing: nst.video.encode).

Frames are streamed: `read_frames` yields one RGB frame at a time at the output size.

Colour is converted with explicit matrices: a decoded frame's YUV is read with the matrix and
range it is tagged with (untagged: BT.709 from 720 lines up, else BT.601, as players do), and the
output is written as BT.709, limited range, and tagged so. Reading BT.709 as BT.601 (swscale's
default) shifts saturated colours by several percent.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from nst.errors import InputError

#: Output containers for H.264 video, by suffix (the FFmpeg muxer name).
VIDEO_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
#: Animated picture formats, read and written with Pillow.
ANIMATION_FORMATS = {".gif": "GIF", ".webp": "WEBP"}
#: FFmpeg AVColorSpace values -> swscale's matrix names.
_MATRICES = {1: "ITU709", 4: "FCC", 5: "ITU601", 6: "SMPTE170M", 7: "SMPTE240M", 9: "BT2020", 10: "BT2020"}
BT709, LIMITED, FULL_RANGE = 1, 1, 2
#: Seconds of slack when comparing frame times with the window's ends.
TIME_EPS = 1e-6


def require_av() -> Any:
    """PyAV, or a one-line InputError saying how to install it."""
    try:
        import av
    except ImportError:
        raise InputError("video needs PyAV and OpenCV: pip install -e '.[video]'") from None
    return av


@dataclass(frozen=True)
class ClipInfo:
    """What a run needs to know about its input, read before any frame is painted.

    ``time_base`` is the unit of the output's timestamps and ``frames`` the number of frames the
    window selects (an estimate from the container's packets: the reader is the truth).
    """

    path: str
    kind: str  # "video" or "animation"
    source_size: tuple[int, int]
    size: tuple[int, int]
    fps: float
    time_base: Fraction
    frames: int
    start: float
    end: float
    audio_codec: str | None
    matrix: str | None
    color_range: str | None
    # Resampled to a constant rate (--fps): frame k is at k * time_base.
    resample: bool = False
    source_time_base: Fraction = Fraction(1, 1000)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source_size": list(self.source_size), "size": list(self.size),
                "fps": round(self.fps, 6), "time_base": str(self.time_base), "frames": self.frames,
                "start": self.start, "end": self.end, "audio_codec": self.audio_codec,
                "matrix": self.matrix, "color_range": self.color_range, "resample": self.resample,
                "source_time_base": str(self.source_time_base)}


@dataclass(frozen=True)
class Frame:
    """One frame to paint: its number in the run, its timestamp and its pixels."""

    index: int
    pts: int  # in ClipInfo.time_base, 0 at the first frame of the run
    rgb: np.ndarray  # (H, W, 3) uint8


def output_kind(path: str | os.PathLike) -> str:
    """'video' or 'animation' by the output's suffix, or an InputError naming the choices."""
    suffix = Path(path).suffix.lower()
    if suffix in VIDEO_FORMATS:
        return "video"
    if suffix in ANIMATION_FORMATS:
        return "animation"
    known = ", ".join(sorted([*VIDEO_FORMATS, *ANIMATION_FORMATS]))
    raise InputError(f"output '{path}' must end in one of {known}")


def output_size(width: int, height: int, size: int | None) -> tuple[int, int]:
    """(w, h) with the longest side ``size`` (None: the source's), both even (4:2:0 needs it)."""
    longest = size or max(width, height)
    factor = longest / max(width, height)
    return max(2, round(width * factor / 2) * 2), max(2, round(height * factor / 2) * 2)


def probe(path: str | os.PathLike, size: int | None, start: float = 0.0, duration: float | None = None,
          fps: float | None = None) -> ClipInfo:
    """Open the input, check it is a clip, and read what the run needs (no frame is decoded
    beyond the first). Raises InputError for a missing file, a non-video or an empty window."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"video '{path}' does not exist")
    if path.is_dir():
        raise InputError(f"video '{path}' is a directory, not a file")
    if path.suffix.lower() in ANIMATION_FORMATS:
        times, source_size = _animation_times(path)
        kind, tb, audio, matrix, rng = "animation", Fraction(1, 1000), None, None, None
    else:
        times, source_size, tb, audio, matrix, rng = _video_facts(path)
        kind = "video"
    if not times:
        raise InputError(f"'{path}' holds no video frames")
    step = _typical_step(times)
    clip_end = times[-1] + step
    if start >= clip_end - TIME_EPS:
        raise InputError(f"--start {start:g} s is past the end of '{path}' ({clip_end:.3f} s)")
    end = clip_end if duration is None else min(clip_end, start + duration)
    inside = [t for t in times if start - TIME_EPS <= t < end - TIME_EPS]
    if not inside:
        raise InputError(f"no frame of '{path}' lies between {start:g} s and {end:g} s")
    source_tb = tb
    if fps is not None:
        count = max(1, math.ceil((end - inside[0]) * fps - 1e-6))
        tb = 1 / Fraction(fps).limit_denominator(1001)
        rate = fps
    else:
        count = len(inside)
        rate = 1.0 / step if step > 0 else 25.0
    return ClipInfo(str(path), kind, source_size, output_size(*source_size, size), rate, tb, count,
                    inside[0], end, audio, matrix, rng, fps is not None, source_tb)


def _typical_step(times: list[float]) -> float:
    if len(times) < 2:
        return 0.04
    steps = np.diff(np.asarray(times))
    return float(np.median(steps)) if steps.size else 0.04


def open_input(path: Path) -> Any:
    av = require_av()
    try:
        return av.open(str(path), "r")
    except av.FFmpegError as exc:
        raise InputError(f"'{path}' is not a video PyAV can read ({first_line(exc)})") from None


def first_line(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)  # FFmpeg errors: the reason without the path
    return (" ".join(str(text).split()) or type(exc).__name__)[:160]


def _video_facts(path: Path) -> tuple[list[float], tuple[int, int], Fraction, str | None, str | None, str | None]:
    av = require_av()
    with open_input(path) as container:
        if not container.streams.video:
            raise InputError(f"'{path}' has no video stream")
        stream = container.streams.video[0]
        tb = Fraction(stream.time_base) if stream.time_base else Fraction(1, 90000)
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        times = []
        try:
            for packet in container.demux(stream):
                if packet.pts is not None and packet.size:
                    times.append(float(packet.pts * tb))
            container.seek(0, stream=stream)
            first = next(container.decode(stream), None)
        except av.FFmpegError as exc:
            raise InputError(f"'{path}' is not a readable video ({first_line(exc)})") from None
        if first is None:
            raise InputError(f"'{path}' holds no decodable video frame")
        matrix = _matrix(first)
        rng = "full" if _is_full_range(first) else "limited"
        return sorted(times), (first.width, first.height), tb, audio, matrix, rng


def _animation_times(path: Path) -> tuple[list[float], tuple[int, int]]:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            times, now = [], 0.0
            for frame in ImageSequence.Iterator(image):
                times.append(now)
                now += _frame_ms(frame) / 1000.0
            return times, image.size
    except (UnidentifiedImageError, OSError, ValueError, EOFError) as exc:
        raise InputError(f"'{path}' is not an animation Pillow can read ({first_line(exc)})") from None


def _frame_ms(frame: Any) -> float:
    frame.load()  # WebP sets a frame's duration when it is decoded
    ms = frame.info.get("duration") or 100  # browsers show 0 ms frames for 100 ms
    return float(ms)


def _matrix(frame: Any) -> str | None:
    if not frame.format.name.startswith(("yuv", "nv", "yuvj")):
        return None  # RGB frames have no matrix
    return _MATRICES.get(int(frame.colorspace), "ITU709" if frame.height >= 720 else "ITU601")


def _is_full_range(frame: Any) -> bool:
    return int(frame.color_range) == FULL_RANGE or frame.format.name.startswith("yuvj")


def read_frames(info: ClipInfo, skip: int = 0) -> Iterator[Frame]:
    """The run's frames, RGB at ``info.size``, from frame number ``skip`` on (earlier ones are
    decoded but not converted: a resumed run sees exactly the frames a whole run would)."""
    source = _animation_source(info) if info.kind == "animation" else _video_source(info)
    if info.resample:
        source = _resampled(source, info)
    for index, (pts, make) in enumerate(source):
        if index >= skip:
            yield Frame(index, pts, make())


def _video_source(info: ClipInfo) -> Iterator[tuple[int, Any]]:
    """(pts from the window's start in the stream's time base, a function making the RGB)."""
    av = require_av()
    w, h = info.size
    with open_input(Path(info.path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tb = Fraction(stream.time_base)
        origin = round(info.start / tb)
        if info.start > 0:
            container.seek(max(0, origin - 1), stream=stream, backward=True)
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                t = float(frame.pts * tb)
                if t < info.start - TIME_EPS:
                    continue
                if t >= info.end - TIME_EPS:
                    break
                yield frame.pts - origin, _converter(frame, w, h)
        except av.FFmpegError as exc:
            raise InputError(f"'{info.path}' could not be decoded ({first_line(exc)})") from None


def _converter(frame: Any, w: int, h: int) -> Any:
    def make() -> np.ndarray:
        options: dict[str, Any] = {"width": w, "height": h, "format": "rgb24", "interpolation": "AREA"}
        matrix = _matrix(frame)
        if matrix is not None:
            options.update(src_colorspace=matrix, src_color_range="JPEG" if _is_full_range(frame) else "MPEG",
                           dst_color_range="JPEG")
        return frame.reformat(**options).to_ndarray()

    return make


def _animation_source(info: ClipInfo) -> Iterator[tuple[int, Any]]:
    from PIL import Image, ImageSequence

    with Image.open(info.path) as image:
        now = 0.0
        for frame in ImageSequence.Iterator(image):
            t, now = now, now + _frame_ms(frame) / 1000.0
            if t < info.start - TIME_EPS:
                continue
            if t >= info.end - TIME_EPS:
                break
            rgb = frame.convert("RGB")
            if rgb.size != info.size:
                rgb = rgb.resize(info.size, Image.Resampling.LANCZOS)
            pixels = np.asarray(rgb, dtype=np.uint8).copy()
            yield round((t - info.start) * 1000), (lambda p=pixels: p)


def _resampled(source: Iterator[tuple[int, Any]], info: ClipInfo) -> Iterator[tuple[int, Any]]:
    """Constant-rate frames: output frame k (time k / fps) shows the latest source frame at or
    before it. ``source`` pts are read in the source's unit; see `read_frames`."""
    unit, step = info.source_time_base, info.time_base
    k, previous = 0, None
    for pts, make in source:  # pts from the first frame, which is at 0
        t = pts * unit
        while previous is not None and k * step < t - Fraction(1, 10**6) and k < info.frames:
            yield k, previous
            k += 1
        previous = _cached(make)
    while previous is not None and k < info.frames:
        yield k, previous
        k += 1


def _cached(make: Any) -> Any:
    box: list[np.ndarray] = []

    def get() -> np.ndarray:
        if not box:
            box.append(make())
        return box[0]

    return get
