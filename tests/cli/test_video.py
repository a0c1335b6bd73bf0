"""nst video on the command line: a clip painted, bad input in one line, Ray's devices, nothing replaced unasked."""

from __future__ import annotations

from pathlib import Path

import pytest

av = pytest.importorskip("av", reason="nst[video] is not installed")
cv2 = pytest.importorskip("cv2", reason="nst[video] is not installed")

import nst  # noqa: E402
from nst.cli import main  # noqa: E402
from nst.video import io  # noqa: E402
from nst.video.config import VideoConfig  # noqa: E402
from nst.video.synthetic import pan_zoom, write_clip  # noqa: E402
from tests.video.media import decoded  # noqa: E402


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "pan.mp4", pan_zoom(64, 48, 10))


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
def test_cli_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path, clip: Path, capsys, monkeypatch, args, message
) -> None:
    (tmp_path / "notvideo.mp4").write_text("hello")
    monkeypatch.chdir(tmp_path)
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
