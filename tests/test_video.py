"""nst video: colour, timestamps and sound through PyAV, flow and temporal consistency, cuts,
GIF/WebP, resume after a stop and after SIGKILL, bad input, and the optimisation path.

Every clip is generated here (tests/video_clips.py): tiny frames, a dozen of them."""

from __future__ import annotations

import json
import os
import re
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
from nst.cli import main  # noqa: E402
from nst.video import io  # noqa: E402
from nst.video.config import VideoConfig  # noqa: E402
from nst.video.consistency import MotionEstimator, StableModel, advance, previous_frames  # noqa: E402
from nst.video.flow import warp  # noqa: E402
from nst.video.paint import ModelPainter  # noqa: E402
from tests import video_clips  # noqa: E402
from tests.video_clips import moving_object, pan_zoom, with_cut, write_clip  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def decoded(path: Path) -> list[np.ndarray]:
    info = io.probe(path, None)
    return [f.rgb for f in io.read_frames(info)]


def packets(path: Path, kind: str) -> list[tuple[int | None, bytes]]:
    with av.open(str(path)) as container:
        stream = getattr(container.streams, kind)[0]
        return [(p.pts, bytes(p)) for p in container.demux(stream) if p.size]


def video_pts(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(float(f.pts * stream.time_base) for f in container.decode(stream))


@pytest.fixture(scope="module")
def model():
    return nst.load_style_model("starry-night")


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "pan.mp4", pan_zoom(64, 48, 10))


# ---------------------------------------------------------------- video in and out


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
    writer = io.SegmentWriter(out.with_suffix(".seg.mp4"), info.size, info.time_base, info.fps, 0, "ultrafast")
    writer.write(first, 0)
    writer.close()
    io.assemble([(out.with_suffix(".seg.mp4"), 0)], out, info, trimmed=False)
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


# ---------------------------------------------------------------- flow and consistency


def test_flow_follows_a_pan_and_the_check_finds_the_occluded_strip() -> None:
    frames = pan_zoom(128, 96, 8)
    truth, valid = video_clips.pan_zoom_motion(128, 96, 8)[3]
    motion = MotionEstimator(VideoConfig(flow_scale=1.0)).motion(frames[3], frames[4])
    # motion.back goes from frame 4 to frame 3: compare it with the true 4 -> 3 motion in the middle.
    expected = -truth[20:76, 20:108]
    assert np.median(np.abs(motion.back[20:76, 20:108] - expected)) < 0.5
    assert motion.share > 0.8 and not motion.cut
    a = frames[3].astype(np.float32)
    assert np.abs(warp(frames[3].astype(np.float32), np.zeros((96, 128, 2), np.float32)) - a).max() == 0


def test_repair_gives_the_band_along_a_moving_edge_its_true_motion() -> None:
    from nst.video.flow import repair_flow

    cv2 = pytest.importorskip("cv2")
    background = cv2.cvtColor(video_clips.texture(96, 64, 1), cv2.COLOR_RGB2GRAY)
    square = cv2.cvtColor(video_clips.texture(96, 64, 2), cv2.COLOR_RGB2GRAY)
    before, now = background.copy(), background.copy()
    before[20:44, 30:54] = square[20:44, 30:54]
    now[20:44, 34:58] = square[20:44, 30:54]  # the square moved 4 px right
    truth = np.zeros((64, 96, 2), np.float32)
    truth[20:44, 34:58, 0] = -4.0  # flow from now back to before
    # A smooth flow, as DIS gives across a moving edge: wrong in a band, which the checks failed.
    smooth = cv2.GaussianBlur(truth, (0, 0), 3.0)
    band = np.abs(smooth - truth).max(-1) > 0.5
    mask = (~band).astype(np.float32)
    flow, repaired = repair_flow(smooth, mask, before, now, tolerance=0.04)
    inner = band.copy()
    inner[20:44, 30:34] = False  # uncovered background: seen in `now` only, no motion explains it
    assert inner.sum() > 100
    error = np.abs(flow - truth).max(-1)
    fixed = (repaired == 1) & inner
    assert ((error < 0.5) & fixed)[inner].mean() > 0.7  # most of the band gets its true motion back
    assert (error[fixed] < 1.0).mean() > 0.85  # and what is repaired is nearly always right
    # (The rest: 3x3 patches that straddle the edge, and smooth texture that several motions fit.)
    assert (flow[~band] == smooth[~band]).all() and (repaired[~band] == 1).all()
    # Where no candidate explains the picture (new content), nothing is repaired.
    noise = np.random.default_rng(0).integers(0, 256, now.shape, dtype=np.uint8)
    _, none = repair_flow(smooth, mask, before, noise, tolerance=0.04)
    assert none[band].mean() < 0.05


def _run(model, frames, consistency):
    engine = StableModel(ModelPainter(model), VideoConfig(consistency=consistency))
    state, out, cuts = {}, [], []
    for i, rgb in enumerate(frames):
        painted, _, cut = engine.step(rgb, previous_frames(state, (1,) if consistency else ()))
        state = advance(state, rgb, painted, 1, cut)
        out.append(painted)
        cuts += [i] if cut else []
    engine.close()
    return out, cuts


def _warping_error(frames, motion):
    errors = []
    for t, (flow, valid) in enumerate(motion):
        if valid.any():
            errors.append(float((((warp(frames[t + 1], flow) - frames[t]) ** 2).mean(-1))[valid].mean()))
    return float(np.mean(errors))


@pytest.mark.parametrize("make", ["pan_zoom", "moving_object"])
def test_consistency_lowers_the_warping_error(model, make: str) -> None:
    w, h, n = 128, 96, 10
    frames = getattr(video_clips, make)(w, h, n)
    motion = getattr(video_clips, f"{make}_motion")(w, h, n)
    independent, _ = _run(model, frames, 0.0)
    stable, _ = _run(model, frames, VideoConfig().consistency)
    ratio = _warping_error(stable, motion) / _warping_error(independent, motion)
    assert ratio < (0.5 if make == "pan_zoom" else 0.9), ratio
    # Not by blurring into mush: the frames stay near the model's own pictures.
    rms = np.sqrt(np.mean([(a - b) ** 2 for a, b in zip(stable, independent, strict=True)])) * 255
    assert rms < 30


def test_a_cut_resets_the_state_so_shots_do_not_smear(model) -> None:
    frames = with_cut(96, 64, 10)
    stable, cuts = _run(model, frames, VideoConfig().consistency)
    independent, _ = _run(model, frames, 0.0)
    assert cuts == [5]
    assert np.array_equal(stable[5], independent[5])  # the new shot's first frame is its own


def test_state_keeps_the_frames_long_term_terms_need() -> None:
    state: dict = {}
    for i in range(6):
        state = advance(state, np.full((2, 2, 3), i, np.uint8), np.full((2, 2, 3), i / 10, np.float32), 4, False)
    assert sorted(state) == sorted(f"{k}_{j}" for k in ("input", "output") for j in (1, 2, 3, 4))
    assert [j for j, _, _ in previous_frames(state, (1, 2, 4))] == [1, 2, 4]
    assert state["input_4"][0, 0, 0] == 2 and state["output_1"][0, 0, 0] == pytest.approx(0.5)
    assert list(advance(state, state["input_1"], state["output_1"], 4, True)) == ["input_1", "output_1"]


# ---------------------------------------------------------------- resume


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


# ---------------------------------------------------------------- the command line


def test_cli_paints_a_clip(tmp_path: Path, clip: Path, capsys) -> None:
    out = tmp_path / "out.mkv"
    assert main(["video", str(clip), "-o", str(out), "--model", "starry-night", "--size", "32"]) == 0
    assert "wrote" in capsys.readouterr().err and io.probe(out, None).size == (32, 24)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.mp4", "--model", "starry-night"], "does not exist"),
        (["notvideo.mp4", "--model", "starry-night"], "is not a video"),
        (["CLIP", "--model", "no-such-model"], "unknown style model"),
        (["CLIP", "--model", "starry-night", "--start", "30"], "past the end"),
        (["CLIP", "--model", "starry-night", "--start", "x"], "--start"),
        (["CLIP", "--model", "starry-night", "--duration", "0"], "duration must be"),
        (["CLIP", "--model", "starry-night", "--iterations", "5"], "applies to the optimisation"),
        (["CLIP", "--model", "starry-night", "--consistency", "1.5"], "consistency"),
        (["CLIP"], "give a style image"),
        (["CLIP", "--model", "starry-night", "--resume"], "nothing to resume"),
        (["CLIP", "--model", "starry-night", "--jobs", "2"], "add --consistency 0"),
        (["CLIP", "--model", "starry-night", "--engine", "ray"], "add --consistency 0"),
        (["CLIP", "--model", "starry-night", "--consistency", "0", "--task-cpus", "2"], "applies to --engine ray"),
    ],
)
def test_cli_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, clip: Path, capsys, args, message) -> None:
    (tmp_path / "notvideo.mp4").write_text("hello")
    os.chdir(tmp_path)
    out = tmp_path / "out.mp4"
    argv = ["video", *[str(clip) if a == "CLIP" else a for a in args], "-o", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err and err.count("\n") == 1
    assert not out.exists() and not (tmp_path / "out.mp4.work").exists()


def test_cli_ray_frames_run_where_the_tasks_gpus_say(tmp_path: Path, clip: Path, monkeypatch) -> None:
    pytest.importorskip("ray", reason="ray is not installed")
    seen = {}

    def fake(*args, **kwargs):
        seen.update(kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(nst, "stylize_video", fake)
    argv = ["video", str(clip), "-o", str(tmp_path / "o.mp4"), "--model", "starry-night", "--consistency", "0",
            "--engine", "ray", "--quiet"]
    main([*argv, "--task-gpus", "1"])
    assert seen["device"] == "cuda" and seen["engine"].task_gpus == 1  # a CPU head may drive GPU workers
    main(argv)
    assert seen["device"] == "cpu" and seen["engine"].model_jobs == "tasks"


def test_cli_never_replaces_an_output_or_a_work_folder_unasked(tmp_path: Path, clip: Path, capsys) -> None:
    out = tmp_path / "out.mp4"
    out.write_bytes(b"mine")
    assert main(["video", str(clip), "-o", str(out), "--model", "starry-night"]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == b"mine"
    other = tmp_path / "other.mp4"
    nst.stylize_video(clip, other, model="starry-night", config=VideoConfig(chunk_frames=2),
                      callback=lambda p: p.frame == 3)
    assert main(["video", str(clip), "-o", str(other), "--model", "starry-night"]) == 2
    assert "add --resume" in capsys.readouterr().err
    assert main(["video", str(clip), "-o", str(other), "--model", "starry-night", "--overwrite"]) == 0
    assert len(decoded(other)) == 10


def test_fast_path_does_not_import_torch(tmp_path: Path, clip: Path) -> None:
    code = ("import sys, nst; nst.stylize_video(sys.argv[1], sys.argv[2], model='starry-night'); "
            "print('torch' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", code, str(clip), str(tmp_path / "o.mp4")], env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False"


# ---------------------------------------------------------------- the optimisation path


@pytest.mark.slow
def test_optimisation_path_paints_every_frame_from_the_previous_one(tmp_path: Path) -> None:
    from PIL import Image

    from nst.video.optimise import FrameOptimiser

    frames = pan_zoom(48, 32, 3)
    style = tmp_path / "style.png"
    Image.fromarray(video_clips.texture(48, 48, 3)).save(style)
    config = VideoConfig(size=48, frame_iterations=4, long_term=(1, 2))
    style_config = nst.StyleConfig(iterations=6, scales=1)
    engine = FrameOptimiser(style, style_config, config, (48, 32))
    state: dict = {}
    painted = []
    for rgb in frames:
        out, share, cut = engine.step(rgb, previous_frames(state, config.long_term))
        state = advance(state, rgb, out, 2, cut)
        painted.append(out)
    assert sorted(state) == ["input_1", "input_2", "output_1", "output_2"]
    assert all(p.shape == (32, 48, 3) for p in painted)
    # Frame 1 starts from frame 0 warped and is held to it: nearer to it than an independent frame.
    motion = engine.motion.motion(frames[0], frames[1])
    warped = warp(painted[0], motion.back)
    independent = engine.independent(frames[1])
    assert np.abs(painted[1] - warped).mean() < np.abs(independent - warped).mean()
    clip = write_clip(tmp_path / "c.mp4", frames, audio=False)
    result = nst.stylize_video(clip, tmp_path / "o.mp4", style=style, config=config, style_config=style_config)
    assert result.method == "optimisation" and result.frames == 3 and result.size == (48, 32)
    # Independent frames on an engine (here in this process) are those painted frame by frame.
    from nst.engines import make_engine

    independent = config.with_changes(consistency=0, optimise_chunk_frames=2)
    nst.stylize_video(clip, tmp_path / "a.mp4", style=style, config=independent, style_config=style_config)
    nst.stylize_video(clip, tmp_path / "b.mp4", style=style, config=independent, style_config=style_config,
                      engine=make_engine("local"))
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()


# ---------------------------------------------------------------- the documentation


def test_docs_describe_every_option_and_setting() -> None:
    import dataclasses

    from nst.cli import build_parser

    text = (ROOT / "docs" / "video.md").read_text()
    video = build_parser("video")._subparsers._group_actions[0].choices["video"]
    shared = {a.dest for a in build_parser("stylize")._subparsers._group_actions[0].choices["stylize"]._actions}
    for action in video._actions:
        long = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
        if long and (action.dest not in shared or action.dest in ("size", "preserve_color", "overwrite", "resume")):
            assert f"`{long[0]}" in text, long[0]
    for field in dataclasses.fields(VideoConfig):
        assert f"`--{field.name.replace('_', '-')}" in text or f"`{field.name}`" in text, field.name
    defaults = VideoConfig()
    assert f"| `--consistency C` | {defaults.consistency:g} |" in text
    assert f"| `--crf N` | {defaults.crf} |" in text
    assert f"| `--temporal-weight W` | {defaults.temporal_weight:g} |" in text
    readme = (ROOT / "README.md").read_text()
    parser = build_parser()
    for line in re.findall(r"^nst (video .*?)(?:\s+#.*)?$", readme + text, flags=re.M):
        parser.parse_args(line.split())
