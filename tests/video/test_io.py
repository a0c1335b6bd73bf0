"""nst video's input and output: colour, timestamps and sound through PyAV, windows of a clip,
GIF/WebP, and the fast path without torch. Every clip is generated (tests/video/clips.py): tiny
frames, a dozen of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av", reason="nst[video] is not installed")
cv2 = pytest.importorskip("cv2", reason="nst[video] is not installed")

import nst  # noqa: E402
from nst.video import encode, io  # noqa: E402
from nst.video.config import VideoConfig  # noqa: E402
from nst.video.synthetic import pan_zoom, write_clip  # noqa: E402
from tests.video.media import decoded, packets, video_pts  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("matrix", ["ITU709", "ITU601"])
def test_colours_survive_a_round_trip_with_either_matrix(tmp_path: Path, matrix: str) -> None:
    colours = [(200, 30, 40), (30, 180, 60), (40, 60, 210), (230, 190, 150), (128, 128, 128), (250, 240, 20)]
    frame = np.zeros((48, 96, 3), np.uint8)
    for i, colour in enumerate(colours):
        frame[:, i * 16:(i + 1) * 16] = colour
    source = write_clip(tmp_path / f"flat-{matrix}.mp4", [frame] * 3, audio=False, matrix=matrix)
    first = decoded(source)[0]
    out = tmp_path / "out.mp4"
    info = io.probe(source, None)
    writer = encode.SegmentWriter(out.with_suffix(".seg.mp4"), info.size, info.time_base, info.fps, 0, "ultrafast")
    writer.write(first, 0)
    writer.close()
    encode.assemble([(out.with_suffix(".seg.mp4"), 0)], out, info, trimmed=False)
    again = decoded(out)[0]
    for picture in (first, again):  # the source as read, and nst's own output as read back
        for i, colour in enumerate(colours):
            patch = picture[16:32, i * 16 + 4:(i + 1) * 16 - 4].reshape(-1, 3).mean(0)
            assert np.abs(patch - colour).max() <= 4, (matrix, colour, patch)
    with av.open(str(out)) as container:
        context = container.streams.video[0].codec_context
        assert (context.colorspace, context.color_primaries, context.color_trc, context.color_range) == (1, 1, 1, 1)


def test_reading_bt709_as_bt601_would_shift_colours(tmp_path: Path) -> None:
    """Why the matrix is explicit: swscale's default reads everything as BT.601."""
    frame = np.zeros((32, 32, 3), np.uint8)
    frame[:] = (200, 30, 40)
    source = write_clip(tmp_path / "red.mp4", [frame] * 2, audio=False, matrix="ITU709")
    with av.open(str(source)) as container:
        raw = next(container.decode(video=0))
        wrong = raw.reformat(format="rgb24", src_colorspace="ITU601").to_ndarray()
    assert np.abs(wrong[16, 16].astype(int) - (200, 30, 40)).max() > 10
    assert np.abs(decoded(source)[0][16, 16].astype(int) - (200, 30, 40)).max() <= 4


def test_fast_path_keeps_timestamps_frame_count_and_sound(tmp_path: Path, clip: Path) -> None:
    out = tmp_path / "out.mp4"
    result = nst.stylize_video(clip, out, model="starry-night", config=VideoConfig(chunk_frames=4))
    assert result.frames == 10 and result.complete and result.audio == "aac" and result.size == (64, 48)
    assert video_pts(out) == pytest.approx(video_pts(clip))
    assert [data for _, data in packets(out, "audio")] == [data for _, data in packets(clip, "audio")]
    assert not (tmp_path / "out.mp4.work").exists()
    frames = decoded(out)
    assert len(frames) == 10 and frames[0].shape == (48, 64, 3)
    assert np.abs(frames[0].astype(int) - decoded(clip)[0]).mean() > 10  # painted, not copied


def test_size_start_duration_and_fps(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "c.mp4", pan_zoom(64, 48, 24), fps=12)  # 2 s
    info = io.probe(clip, 32, start=0.5, duration=1.0)
    frames = list(io.read_frames(info))
    assert info.size == (32, 24) and len(frames) == info.frames == 12
    assert frames[0].rgb.shape == (24, 32, 3) and frames[0].pts == 0
    resampled = io.probe(clip, None, start=0.5, duration=1.0, fps=5)
    got = list(io.read_frames(resampled))
    assert len(got) == resampled.frames == 5 and [f.pts for f in got] == [0, 1, 2, 3, 4]
    out = tmp_path / "out.mp4"
    config = VideoConfig(size=32, start=0.5, duration=1.0)
    nst.stylize_video(clip, out, model="starry-night", config=config)
    assert len(decoded(out)) == 12
    audio_seconds = sum(1024 for _ in packets(out, "audio")) / 44100
    assert 0.9 <= audio_seconds <= 1.1  # the audio of the window, not of the whole clip


def test_gif_in_webp_and_gif_out(tmp_path: Path) -> None:
    from PIL import Image

    frames = [Image.fromarray(f) for f in pan_zoom(48, 32, 6)]
    gif = tmp_path / "in.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=[100, 100, 200, 100, 100, 100], loop=0)
    for name in ("out.webp", "out.gif", "out.mp4"):
        out = tmp_path / name
        result = nst.stylize_video(gif, out, model="starry-night")
        assert result.frames == 6 and result.audio is None
        info = io.probe(out, None)
        assert info.frames == 6 and info.size == (48, 32)
        if name != "out.mp4":
            with Image.open(out) as image:
                durations = []
                for i in range(image.n_frames):
                    image.seek(i)
                    image.load()
                    durations.append(image.info["duration"])
            assert durations[:3] == [100, 100, 200]
        else:
            assert np.diff(video_pts(out)) == pytest.approx([0.1, 0.1, 0.2, 0.1, 0.1], abs=1e-3)


@pytest.mark.system
def test_fast_path_does_not_import_torch(tmp_path: Path, clip: Path) -> None:
    code = ("import sys, nst; nst.stylize_video(sys.argv[1], sys.argv[2], model='starry-night'); "
            "print('torch' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", code, str(clip), str(tmp_path / "o.mp4")], env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False"
