"""nst batch on the local engine: unreadable photos, resume, the sheet, style models, a killed driver."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from nst.cli import main
from nst.engines.work import file_sha256
from tests.engines.pictures import picture, tiny_model

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture()
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        picture(folder / f"p{i}.png", i)
    (folder / "broken.jpg").write_bytes(b"not a jpeg at all")
    (folder / "notes.txt").write_text("not a picture, not a photo: ignored")
    return folder


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    return tiny_model(tmp_path / "tiny.pt")


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def test_model_batch_skips_unreadable_resumes_and_draws_a_sheet(
    photos: Path, model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["batch", str(photos), "--model", str(model), "--size", "32", "-o", str(out)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "warning: skipped" in err and "broken.jpg" in err
    assert "3 of 3 pictures (3 painted now, 0 already done; 1 unreadable files skipped)" in err
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["manifest.json", "p0.png", "p1.png", "p2.png", "sheet.png"]
    data = _manifest(out)
    assert data["kind"] == "batch" and data["complete"] and data["sheet"] == "sheet.png"
    assert [s["path"] for s in data["skipped"]] == [str(photos / "broken.jpg")]
    for cell in data["cells"]:
        assert cell["status"] == "done" and cell["model"]["model"] == str(model)
        assert file_sha256(out / cell["image"]) == cell["image_sha256"]
        assert max(Image.open(out / cell["image"]).size) == 32
    assert data["runs"][-1]["engine"] == "local"
    # a rerun skips every finished picture; a lost one is painted again, and only it
    assert main([*argv, "--quiet"]) == 0
    assert _manifest(out)["runs"][-1]["cells_run"] == 0
    before = (out / "p0.png").stat().st_mtime_ns
    (out / "p1.png").unlink()
    assert main([*argv, "--quiet"]) == 0
    run = _manifest(out)["runs"][-1]
    assert (run["cells_run"], run["cells_skipped"]) == (1, 2)
    assert (out / "p1.png").exists() and (out / "p0.png").stat().st_mtime_ns == before


def test_optimisation_batch_with_two_styles_and_a_photo_list(tmp_path: Path) -> None:
    a, b = picture(tmp_path / "a.png", 0), picture(tmp_path / "b.png", 1, (32, 40))
    s1, s2 = picture(tmp_path / "s1.png", 2, (32, 32)), picture(tmp_path / "s2.png", 3, (32, 32))
    out = tmp_path / "out"
    assert main(["batch", str(a), str(b), "--style", str(s1), str(s2), "--size", "32", "--iterations", "2",
                 "-o", str(out), "--quiet"]) == 0  # fmt: skip
    data = _manifest(out)
    assert sorted(c["image"] for c in data["cells"]) == ["a__s1.png", "a__s2.png", "b__s1.png", "b__s2.png"]
    assert all(c["status"] == "done" and c["iterations"] >= 1 for c in data["cells"])
    assert (out / "sheet.png").exists() and not (out / "losses.png").exists()
    meta = json.loads(Image.open(out / "a__s2.png").text["nst"])
    assert meta["experiment"] == {"kind": "batch", "cell": "a__s2", "varied": {"content": "a", "style": "s2"}}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "give --style IMAGE"),
        (["--model", "MODEL", "--iterations", "5"], "--iterations applies to the optimisation"),
        (["--model", "MODEL", "--task-cpus", "2"], "--task-cpus applies to --engine ray"),
        (["--model", "MODEL", "--strength", "2"], "--strength must be between 0 and 1"),
        (["--model", "MODEL", "--engine", "ray", "--jobs", "2"], "--jobs applies to --engine local"),
        (["--model", "nope-not-a-model"], "unknown style model"),
    ],
)
def test_batch_refuses_bad_arguments_in_one_line(
    extra: list[str], message: str, photos: Path, model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("ray") if "--engine" in extra else None
    extra = [str(model) if e == "MODEL" else e for e in extra]
    out = tmp_path / "out"
    assert main(["batch", str(photos), *extra, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert not out.exists()


def test_batch_refuses_when_no_photo_can_be_read(model: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.jpg").write_bytes(b"nope")
    assert main(["batch", str(tmp_path / "bad"), "--model", str(model), "-o", str(tmp_path / "out")]) == 2
    assert "none of the 1 photos could be read" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_photo_whose_data_is_cut_short_is_reported_after_planning(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    picture(folder / "good.png", 0)
    whole = picture(tmp_path / "big.jpg", 1, (256, 256)).read_bytes()
    (folder / "cut.jpg").write_bytes(whole[: len(whole) // 3])  # a valid header, then nothing
    out = tmp_path / "out"
    assert main(["batch", str(folder), "--model", str(model), "--size", "32", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: could not paint" in err and "cut.jpg" in err and "1 could not be painted" in err
    data = _manifest(out)
    cut = next(c for c in data["cells"] if c["name"] == "cut")
    assert cut["status"] == "pending" and "cut.jpg" in cut["error"] and not data["complete"]
    assert (out / "good.png").exists() and (out / "sheet.png").exists() and not (out / "cut.png").exists()


def test_ray_tasks_device_follows_task_gpus_not_the_drivers_machine() -> None:
    from nst.cli.options import UsageError, engine_device

    def args(**kw):
        import argparse

        return argparse.Namespace(**{"engine": "ray", "device": "auto", "task_gpus": 0.0, **kw})

    assert engine_device(args()) == "cpu"
    assert engine_device(args(task_gpus=0.5)) == "cuda"
    assert engine_device(args(device="cuda", task_gpus=1.0)) == "cuda"
    with pytest.raises(UsageError, match="--device cuda with --engine ray"):
        engine_device(args(device="cuda"))


@pytest.mark.system
@pytest.mark.slow
def test_a_killed_driver_resumes_from_the_manifest(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        picture(folder / f"p{i}.png", i)
    style = picture(tmp_path / "style.png", 9, (32, 32))
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "nst.cli", "batch", str(folder), "--style", str(style), "--size", "32",
            "--iterations", "60", "--tolerance", "0", "--scales", "1", "-o", str(out), "--quiet"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    driver = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600  # a loaded machine (CI beside other work) is slow to start
    while time.monotonic() < deadline:
        done = list(out.glob("p*.png"))
        if done:
            break
        time.sleep(0.05)
    assert done, "no picture was finished in time"
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    data = _manifest(out)
    assert data["runs"][-1]["outcome"] == "running" and not data["complete"]
    finished = {c["name"] for c in data["cells"] if c["status"] == "done"}
    assert 1 <= len(finished) < 3
    assert subprocess.run(argv, env=env).returncode == 0
    data = _manifest(out)
    assert data["complete"] and [r["outcome"] for r in data["runs"]] == ["killed", "complete"]
    assert data["runs"][-1]["cells_skipped"] == len(finished)
    for cell in data["cells"]:
        assert file_sha256(out / cell["image"]) == cell["image_sha256"]
    assert not [p for p in out.iterdir() if p.name.endswith((".part", ".partial.png"))]
