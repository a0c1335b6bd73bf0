"""Test clips made on the fly (no video files in the repository): a pan and zoom over a picture,
an object moving over a background, and a cut between two shots; with a sine tone as sound."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


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

    path = Path(__file__).resolve().parents[1].parent / "shared" / "images" / "tubingen.jpg"
    if seed == 0 and path.is_file():
        from PIL import Image

        return np.asarray(Image.open(path).convert("RGB").resize((width, height), Image.Resampling.LANCZOS))
    picture = texture(width, height, seed)
    return cv2.GaussianBlur(picture, (0, 0), 0.7)


def pan_zoom(width: int, height: int, frames: int, seed: int = 0) -> list[np.ndarray]:
    """A camera panning right and zooming in over a picture."""
    import cv2

    big = photo(width * 2, height * 2, seed)
    out = []
    for i in range(frames):
        zoom = 1.0 + 0.15 * i / max(1, frames - 1)
        w, h = 1.4 * width / zoom, 1.4 * height / zoom
        x0 = 0.1 * width + i * width * 0.02
        y0 = 0.2 * height + i * height * 0.01
        matrix = np.array([[w / width, 0, x0], [0, h / height, y0]], np.float32)
        out.append(cv2.warpAffine(big, matrix, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REFLECT))
    return out


def moving_object(width: int, height: int, frames: int, seed: int = 1) -> list[np.ndarray]:
    """A textured disc crossing a still background."""
    background = photo(width, height, seed)
    disc = texture(width, height, seed + 10)
    yy, xx = np.mgrid[0:height, 0:width]
    out = []
    r = height // 4
    for i in range(frames):
        cx = int(width * 0.2 + i * width * 0.6 / max(1, frames - 1))
        cy = height // 2
        inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
        frame = background.copy()
        frame[inside] = np.roll(disc, cx, axis=1)[inside]
        out.append(frame)
    return out


def with_cut(width: int, height: int, frames: int) -> list[np.ndarray]:
    """The first half of a pan over one picture, then a pan over another."""
    half = frames // 2
    return pan_zoom(width, height, half, seed=0) + pan_zoom(width, height, frames - half, seed=7)


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
