"""Real `nst stylize` processes stopped by real signals: SIGKILL then --resume, SIGINT, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

import nst
from nst.optimise.checkpoint import load_checkpoint

pytestmark = pytest.mark.system

NST = [sys.executable, "-m", "nst.cli"]


def _inputs(folder: Path) -> tuple[Path, Path]:
    """A small content photo and style painting: the real ones when present, else made here."""
    from tests.conftest import SHARED_IMAGES

    content, style = folder / "content.png", folder / "style.png"
    if (SHARED_IMAGES / "tubingen.jpg").is_file():
        Image.open(SHARED_IMAGES / "tubingen.jpg").convert("RGB").resize((64, 48)).save(content)
        Image.open(SHARED_IMAGES / "starry_night.jpg").convert("RGB").resize((64, 40)).save(style)
    else:
        nst.save_image(torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(1)), content)
        nst.save_image(torch.rand(1, 3, 40, 64, generator=torch.Generator().manual_seed(2)), style)
    return content, style


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    # Ctrl-C as a user's terminal delivers it: a test run started in the background of a
    # non-interactive shell (`pytest &`) ignores SIGINT, and a child inherits that, so the
    # SIGINT test would wait for ever.
    return subprocess.Popen(
        NST + args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"nst ended before writing {path.name}: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no {path.name} after {timeout} s")
        time.sleep(0.05)


RUN = ["stylize", "content.png", "style.png", "-o", "out.png", "--size", "32", "--iterations", "60",
       "--tolerance", "0", "--checkpoint-every", "2", "--quiet"]  # fmt: skip


# For the interrupt tests: a run that cannot finish before the signal lands, however fast the machine.
ENDLESS = [("100000" if arg == "60" else arg) for arg in RUN]


@pytest.mark.slow
def test_sigkill_then_resume_finishes_with_the_same_settings(tmp_path):
    _inputs(tmp_path)
    process = _start(RUN, tmp_path)
    _wait_for(tmp_path / "out.ckpt", process)
    process.send_signal(signal.SIGKILL)  # no handler runs: only the last checkpoint survives
    assert process.wait(timeout=30) == -signal.SIGKILL
    killed_at = load_checkpoint(tmp_path / "out.ckpt")
    assert 2 <= len(killed_at.history) < 60
    assert not (tmp_path / "out.png").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]

    refused = subprocess.run(NST + RUN, cwd=tmp_path, capture_output=True, text=True)
    assert refused.returncode == 2 and "--resume" in refused.stderr

    resumed = _start(RUN + ["--resume"], tmp_path)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert not (tmp_path / "out.ckpt").exists()  # deleted once the output is safe
    info = subprocess.run(NST + ["info", "out.png"], cwd=tmp_path, capture_output=True, text=True, check=True)
    data = json.loads(info.stdout)
    assert data["settings"] == killed_at.identity["settings"]
    assert data["settings"]["size"] == 32 and data["settings"]["iterations"] == 60
    assert data["iterations"] == 60
    final = Image.open(tmp_path / "out.png")
    assert final.size == (32, 24)
    assert 0.05 < nst.load_image(final).std() and nst.load_image(final).isfinite().all()


def test_sigint_keeps_the_best_image_and_says_how_to_resume(tmp_path):
    _inputs(tmp_path)
    process = _start(ENDLESS, tmp_path)
    _wait_for(tmp_path / "out.ckpt", process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert (
        lines[0].startswith("interrupted at iteration ")
        and "best image so far in out.partial.png" in lines[0]
    )
    assert lines[0].endswith("resume with: nst " + " ".join(ENDLESS) + " --resume")
    partial = tmp_path / "out.partial.png"
    meta = nst.read_metadata(partial)
    assert meta["partial"] is True and 2 <= meta["iterations"] < 100000
    assert Image.open(partial).size == (32, 24)
    assert not (tmp_path / "out.png").exists()
    assert (tmp_path / "out.ckpt").is_file()


def test_sigterm_stops_like_ctrl_c(tmp_path):
    _inputs(tmp_path)
    process = _start(ENDLESS, tmp_path)
    _wait_for(tmp_path / "out.ckpt", process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "resume with:" in err
    assert (tmp_path / "out.partial.png").is_file()
