"""The Ray engine on a real local Ray (2 CPUs): same pictures as the local pool, a worker killed
mid-task, style models through Ray Data, and the one-line error without Ray."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from nst.cli import main
from nst.engines import Job
from nst.engines.local import LocalEngine
from nst.errors import InputError
from nst.experiments import plan, runner
from nst.optimise.config import StyleConfig
from tests.engines.pictures import picture, tiny_model

#: Tasks long enough (a few seconds) to be killed in the middle.
CONFIG = StyleConfig(size=32, iterations=40, tolerance=0.0, scales=1)


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install -e '.[ray]')")
    ray.init(num_cpus=2, object_store_memory=100 * 2**20, include_dashboard=False, log_to_driver=False,
             logging_level="ERROR")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory):
    """A 2 x 2 grid and its pictures from the local pool (2 processes, 1 thread each)."""
    d = tmp_path_factory.mktemp("grid")
    exp = plan.grid([picture(d / "a.png", 0), picture(d / "b.png", 1, (32, 40))],
                    [picture(d / "s.png", 2, (32, 32)), picture(d / "t.png", 3, (32, 32))], CONFIG)
    runner.execute(runner.prepare(exp, d / "local"), engine=LocalEngine(2), render=False)
    return exp, d / "local"


def _check_outputs(folder: Path, reference: Path, exp: plan.Experiment) -> None:
    data = runner.manifest.read(folder)
    assert all(c["status"] == "done" for c in data["cells"])
    for cell in exp.cells:
        assert (folder / f"{cell.name}.png").read_bytes() == (reference / f"{cell.name}.png").read_bytes(), cell.name
        assert runner.file_sha256(folder / f"{cell.name}.png") == data["cells"][cell.index]["image_sha256"]
    leftovers = sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != ".lock")
    assert leftovers == []  # nothing half-written, no second copy of any picture
    assert sorted(p.name for p in folder.glob("*.png")) == sorted(f"{c.name}.png" for c in exp.cells)


@pytest.mark.ray
def test_ray_grid_gives_the_local_pools_pictures_byte_for_byte(ray_cluster, grid, tmp_path: Path) -> None:
    from nst.engines.ray import RayEngine

    exp, local = grid
    data = runner.execute(runner.prepare(exp, tmp_path / "ray"), engine=RayEngine(task_cpus=1), render=False)
    assert data["runs"][-1]["engine"] == "ray" and data["runs"][-1]["threads_per_job"] == 1
    _check_outputs(tmp_path / "ray", local, exp)


def _ray_workers_running(name: str) -> list[int]:
    """Pids of Ray workers whose process title says they are running task ``name``."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    title = handle.read().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            if title.startswith(f"ray::{name}"):
                pids.append(int(entry))
    return pids


@pytest.mark.ray
def test_a_worker_killed_mid_task_loses_and_duplicates_nothing(ray_cluster, grid, tmp_path: Path) -> None:
    from nst.engines.ray import RayEngine

    exp, local = grid
    killed: list[int] = []

    def kill_one() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            pids = _ray_workers_running("nst_job")
            if pids:
                time.sleep(0.5)  # well inside the task (each takes seconds)
                if pids[0] in _ray_workers_running("nst_job"):
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one, daemon=True)
    killer.start()
    data = runner.execute(runner.prepare(exp, tmp_path / "ray"), engine=RayEngine(task_cpus=1, max_retries=3),
                          render=False)
    killer.join()
    assert killed, "no running task was found to kill"
    assert data["runs"][-1]["cells_run"] == len(exp.cells)
    _check_outputs(tmp_path / "ray", local, exp)


@pytest.mark.ray
def test_model_batch_on_ray_data_matches_the_local_engine(ray_cluster, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(5):
        picture(photos / f"p{i}.png", i)
    (photos / "broken.png").write_bytes(b"\x89PNG broken")
    model = tiny_model(tmp_path / "tiny.pt")
    common = ["batch", str(photos), "--model", str(model), "--size", "32", "--quiet"]
    assert main([*common, "-o", str(tmp_path / "local")]) == 0
    assert main([*common, "-o", str(tmp_path / "ray"), "--engine", "ray", "--task-cpus", "1"]) == 0
    for i in range(5):
        assert (tmp_path / "ray" / f"p{i}.png").read_bytes() == (tmp_path / "local" / f"p{i}.png").read_bytes()
    assert runner.manifest.read(tmp_path / "ray")["runs"][-1]["engine"] == "ray"


@pytest.mark.ray
def test_video_frames_on_ray_are_the_local_engines(ray_cluster, tmp_path: Path) -> None:
    pytest.importorskip("av", reason="nst[video] is not installed")
    from nst.video.synthetic import moving_object, write_clip

    clip = write_clip(tmp_path / "c.mp4", moving_object(48, 32, 5))
    common = ["video", str(clip), "--model", "starry-night", "--consistency", "0", "--chunk-frames", "2", "--quiet"]
    assert main([*common, "-o", str(tmp_path / "local.mp4")]) == 0
    assert main([*common, "-o", str(tmp_path / "ray.mp4"), "--engine", "ray", "--task-cpus", "1"]) == 0
    assert (tmp_path / "ray.mp4").read_bytes() == (tmp_path / "local.mp4").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mp4", "local.mp4", "ray.mp4"]


@pytest.mark.ray
def test_every_node_must_see_inputs_and_outputs(ray_cluster, tmp_path: Path) -> None:
    from nst.engines.ray import check_shared_paths

    job = Job(0, "x", str(tmp_path), str(tmp_path / "elsewhere.png"), model="m.pt")
    with pytest.raises(InputError, match="input '.*elsewhere.png' is not visible on Ray node"):
        check_shared_paths(ray_cluster, [job])
    assert [p.name for p in tmp_path.iterdir()] == []  # the probe file is gone


def test_engine_ray_without_ray_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    photo = picture(tmp_path / "a.png", 0)
    for argv in (["batch", str(photo), "--model", "x.pt"], ["grid", "--content", str(photo), "--style", str(photo)]):
        assert main([*argv, "--engine", "ray", "-o", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert err == "error: --engine ray needs Ray, which is not installed: pip install -e '.[ray]'\n"
        assert not (tmp_path / "out").exists()
