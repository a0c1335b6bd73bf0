"""Stopping and resuming nst video: after a stop, on an engine, and after SIGKILL (frame-exact, with the sound)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av", reason="nst[video] is not installed")
cv2 = pytest.importorskip("cv2", reason="nst[video] is not installed")

import nst  # noqa: E402
from nst.video.config import VideoConfig  # noqa: E402
from nst.video.synthetic import moving_object, pan_zoom, write_clip  # noqa: E402
from tests.video.media import decoded, packets  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_stop_and_resume_gives_the_frames_of_an_uninterrupted_run(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "c.mp4", moving_object(64, 48, 11))
    config = VideoConfig(chunk_frames=3)
    whole = tmp_path / "whole.mp4"
    nst.stylize_video(clip, whole, model="starry-night", config=config)
    out = tmp_path / "out.mp4"
    stopped = nst.stylize_video(clip, out, model="starry-night", config=config,
                                callback=lambda p: p.frame == 5)
    assert not stopped.complete and not out.exists()
    manifest = json.loads((tmp_path / "out.mp4.work" / "manifest.json").read_text())
    assert [c["frames"] for c in manifest["chunks"]] == [3]
    seen = []
    resumed = nst.stylize_video(clip, out, model="starry-night", config=config, resume=True,
                                callback=lambda p: seen.append(p.frame))
    assert resumed.resumed_from == 3 and seen[0] == 4 and resumed.frames == 11
    assert out.read_bytes() == whole.read_bytes()
    other = tmp_path / "x.mp4"
    nst.stylize_video(clip, other, model="starry-night", config=config, callback=lambda p: p.frame == 4)
    with pytest.raises(nst.InputError, match="another settings"):
        nst.stylize_video(clip, other, model="starry-night", resume=True, config=config.with_changes(consistency=0.3))


@pytest.mark.system
def test_an_engine_paints_independent_frames_as_this_process_does_and_resumes(tmp_path: Path) -> None:
    from nst.engines import make_engine

    clip = write_clip(tmp_path / "c.mp4", moving_object(64, 48, 7))
    config = VideoConfig(consistency=0, chunk_frames=3)
    here = tmp_path / "here.mp4"
    nst.stylize_video(clip, here, model="starry-night", config=config)
    out = tmp_path / "out.mp4"
    stopped = nst.stylize_video(clip, out, model="starry-night", config=config, engine=make_engine("local"),
                                callback=lambda p: p.frame == 4)
    assert not stopped.complete and not out.exists()
    assert sorted(p.name for p in (tmp_path / "out.mp4.work").iterdir()) == ["chunk-00000.mp4", "manifest.json",
                                                                           "state-00000.npz"]
    resumed = nst.stylize_video(clip, out, model="starry-night", config=config, resume=True,
                                engine=make_engine("local", jobs=2))
    assert resumed.resumed_from == 3 and resumed.frames == 7
    assert out.read_bytes() == here.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mp4", "here.mp4", "out.mp4"]


def test_an_engine_refuses_frames_that_depend_on_each_other(tmp_path: Path, clip: Path, model) -> None:
    from nst.engines import make_engine

    with pytest.raises(nst.InputError, match="independent frames only"):
        nst.stylize_video(clip, tmp_path / "o.mp4", model="starry-night", engine=make_engine("local", jobs=2))
    with pytest.raises(nst.InputError, match="bundled name or a file"):
        nst.stylize_video(clip, tmp_path / "o.mp4", model=model, config=VideoConfig(consistency=0),
                          engine=make_engine("local", jobs=2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pan.mp4"]


@pytest.mark.system
@pytest.mark.slow
def test_sigkill_then_resume_is_frame_exact_with_the_sound(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "c.mp4", pan_zoom(160, 120, 72), fps=24)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "nst.cli", "video", str(clip), "--model", "starry-night",
               "--chunk-frames", "4", "--quiet"]
    whole = tmp_path / "whole.mp4"
    subprocess.run([*command, "-o", str(whole)], env=env, check=True, timeout=300)
    out = tmp_path / "out.mp4"
    manifest = tmp_path / "out.mp4.work" / "manifest.json"
    process = subprocess.Popen([*command, "-o", str(out)], env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if manifest.is_file() and len(json.loads(manifest.read_text() or "{}").get("chunks", [])) >= 2:
                break
            time.sleep(0.01)
        assert process.poll() is None, "the run ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert not out.exists()
    done = json.loads(manifest.read_text())["chunks"]
    assert 2 <= len(done) < 18
    resumed = subprocess.run([*command, "-o", str(out), "--resume"], env=env, timeout=300)
    assert resumed.returncode == 0
    assert out.read_bytes() == whole.read_bytes()
    assert all(np.array_equal(a, b) for a, b in zip(decoded(out), decoded(whole), strict=True))
    assert [d for _, d in packets(out, "audio")] == [d for _, d in packets(clip, "audio")]
    assert not (tmp_path / "out.mp4.work").exists()
