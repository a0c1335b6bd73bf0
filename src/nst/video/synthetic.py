"""Synthetic clips with known motion, made on the fly (no video files in the repository), for the
tests and bench/video.py: a pan and zoom over a picture, an object moving over a background, and a
cut between two shots; with a sine tone as sound.

Each generator returns the frames; the ``*_motion`` functions also return the true motion
(the flow from frame t to t+1 and where it is visible in both), which the tests and the
benchmark score with.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

Motion = list[tuple[np.ndarray, np.ndarray]]  # per pair t -> t+1: flow (H, W, 2) and valid (H, W) bool


def texture(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A photo-like picture: smooth colour fields with edges and detail at several scales."""
    import cv2

    rng = np.random.default_rng(seed)
    image = np.zeros((height, width, 3), np.float32)
    for scale in (4, 12, 40):
        noise = rng.random((max(2, height // scale), max(2, width // scale), 3)).astype(np.float32)
        image += cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC) / 3
    for _ in range(6):  # a few sharp-edged shapes
        x, y = rng.integers(0, width), rng.integers(0, height)
        r = int(rng.integers(max(2, width // 20), max(3, width // 6)))
        cv2.circle(image, (int(x), int(y)), r, rng.random(3).tolist(), -1)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


def photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A real photo (../shared/images/tubingen.jpg) when there, else `texture`."""
    import cv2

    path = Path(__file__).resolve().parents[2].parent / "shared" / "images" / "tubingen.jpg"
    if seed == 0 and path.is_file():
        from PIL import Image

        return np.asarray(Image.open(path).convert("RGB").resize((width, height), Image.Resampling.LANCZOS))
    picture = texture(width, height, seed)
    return cv2.GaussianBlur(picture, (0, 0), 0.7)


def _camera(width: int, height: int, frames: int, i: int) -> tuple[float, float, float]:
    """Frame i's pixel (x, y) shows the big picture's (k x + x0, k y + y0): (k, x0, y0)."""
    zoom = 1.0 + 0.15 * i / max(1, frames - 1)
    return 1.4 / zoom, 0.1 * width + i * width * 0.02, 0.2 * height + i * height * 0.01


def pan_zoom(width: int, height: int, frames: int, seed: int = 0) -> list[np.ndarray]:
    """A camera panning right and down and zooming in over a picture."""
    import cv2

    big = photo(width * 2, height * 2, seed)
    out = []
    for i in range(frames):
        k, x0, y0 = _camera(width, height, frames, i)
        matrix = np.array([[k, 0, x0], [0, k, y0]], np.float32)
        out.append(cv2.warpAffine(big, matrix, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REFLECT))
    return out


def pan_zoom_motion(width: int, height: int, frames: int) -> Motion:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    motion = []
    for i in range(frames - 1):
        k, x0, y0 = _camera(width, height, frames, i)
        k1, x1, y1 = _camera(width, height, frames, i + 1)
        fx, fy = (k * xx + x0 - x1) / k1 - xx, (k * yy + y0 - y1) / k1 - yy
        inside = (xx + fx >= 0) & (xx + fx <= width - 1) & (yy + fy >= 0) & (yy + fy <= height - 1)
        motion.append((np.stack([fx, fy], -1), inside))
    return motion


def _disc(width: int, height: int, frames: int, i: int) -> tuple[int, int, int]:
    return int(width * 0.2 + i * width * 0.6 / max(1, frames - 1)), height // 2, height // 4


def moving_object(width: int, height: int, frames: int, seed: int = 1) -> list[np.ndarray]:
    """A textured disc crossing a still background."""
    background = photo(width, height, seed)
    disc = texture(width, height, seed + 10)
    yy, xx = np.mgrid[0:height, 0:width]
    out = []
    for i in range(frames):
        cx, cy, r = _disc(width, height, frames, i)
        inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
        frame = background.copy()
        frame[inside] = np.roll(disc, cx, axis=1)[inside]
        out.append(frame)
    return out


def moving_object_motion(width: int, height: int, frames: int) -> Motion:
    yy, xx = np.mgrid[0:height, 0:width]
    motion = []
    for i in range(frames - 1):
        cx, cy, r = _disc(width, height, frames, i)
        cx1, _, _ = _disc(width, height, frames, i + 1)
        now = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
        later = (xx - cx1) ** 2 + (yy - cy) ** 2 <= r * r
        flow = np.zeros((height, width, 2), np.float32)
        flow[now, 0] = cx1 - cx
        valid = now | ~later  # background the disc covers next is not visible in both
        valid &= (xx + flow[..., 0] <= width - 1)
        motion.append((flow, valid))
    return motion


def with_cut(width: int, height: int, frames: int) -> list[np.ndarray]:
    """The first half of a pan over one picture, then a pan over another."""
    half = frames // 2
    return pan_zoom(width, height, half, seed=0) + pan_zoom(width, height, frames - half, seed=7)


def with_cut_motion(width: int, height: int, frames: int) -> Motion:
    half = frames // 2
    across = (np.zeros((height, width, 2), np.float32), np.zeros((height, width), bool))
    return pan_zoom_motion(width, height, half) + [across] + pan_zoom_motion(width, height, frames - half)


def write_clip(path: Path, frames: list[np.ndarray], fps: int = 12, audio: bool = True,
               matrix: str = "ITU709", lossless: bool = False) -> Path:
    """Encode ``frames`` (RGB uint8) as H.264 in ``path`` (.mp4/.mkv), tagged with ``matrix``,
    with a 440 Hz AAC tone as long as the video when ``audio``."""
    import av

    height, width = frames[0].shape[:2]
    tags = {"ITU709": 1, "ITU601": 6}
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "0" if lossless else "12",
                                                                    "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv444p" if lossless else "yuv420p"
        context = stream.codec_context
        context.colorspace = tags[matrix]
        context.color_primaries = context.color_trc = tags[matrix]
        context.color_range = 1
        sound = None
        if audio:
            sound = container.add_stream("aac", rate=44100)
            sound.layout = "mono"
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame = frame.reformat(format=stream.pix_fmt, dst_colorspace=matrix, dst_color_range="MPEG",
                                   src_color_range="JPEG")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if sound is not None:
            total = int(44100 * len(frames) / fps)
            t = np.arange(total) / 44100
            samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for start in range(0, total, 1024):
                chunk = samples[start:start + 1024][None]
                aframe = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout="mono")
                aframe.sample_rate, aframe.pts = 44100, start
                for packet in sound.encode(aframe):
                    container.mux(packet)
            for packet in sound.encode(None):
                container.mux(packet)
    return path
