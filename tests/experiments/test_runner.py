"""Running an experiment: images, the manifest, resume, a killed run, worker processes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nst.errors import InputError
from nst.experiments import manifest, plan, runner
from nst.experiments.params import parse_params
from tests.experiments.helpers import TINY, picture
from tests.experiments.helpers import run as _run
from tests.experiments.helpers import started as _started
from tests.experiments.helpers import sweep as _sweep

pytestmark = pytest.mark.usefixtures("one_thread")


def test_run_writes_images_manifest_sheet_and_plot(images: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "new" / "sweep"  # missing parents are created
    data, events = _run(_sweep(images), out, render=True)
    names = ["style_weight=10000", "style_weight=5000"]
    assert _started(events) == names
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{n}.png" for n in names] + ["manifest.json", "sheet.png", "losses.png", ".lock"]
    )
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == data
    manifest.validate(on_disk)
    assert on_disk["complete"] is True and on_disk["kind"] == "sweep"
    assert on_disk["params"] == {"style_weight": [10000.0, 5000.0]}
    for cell, weight in zip(on_disk["cells"], (1e4, 5e3), strict=True):
        assert cell["status"] == "done" and cell["settings"]["style_weight"] == weight
        assert cell["seed"] == 0 and cell["iterations"] == 2
        assert len(cell["history"]["total"]) == 2 and cell["final_losses"]["total"] > 0
        assert cell["image_sha256"] == runner.file_sha256(out / cell["image"])
        assert max(Image.open(out / cell["image"]).size) == 32
    assert on_disk["runs"][0]["outcome"] == "complete" and on_disk["runs"][0]["cells_run"] == 2
    # each cell ran with its own weight: the first iteration's style loss (same image, the
    # content) scales with beta
    first = [c["history"]["style"][0] for c in on_disk["cells"]]
    assert first[0] / first[1] == pytest.approx(2.0, rel=1e-4)
    assert Image.open(out / "losses.png").size[0] >= 1000


def test_manifest_validate_rejects_broken_records(images: dict[str, Path], tmp_path: Path) -> None:
    data = manifest.new_manifest(_sweep(images))
    manifest.validate(data)
    assert [c["status"] for c in data["cells"]] == ["pending", "pending"]
    for breaking in (
        lambda d: d.pop("cells"),
        lambda d: d.update(schema="something-else/1"),
        lambda d: d["cells"][0].update(status="half"),
        lambda d: d["cells"][0].update(status="done"),  # done without its results
        lambda d: d["cells"][1].update(row="0"),
    ):
        broken = json.loads(json.dumps(data))
        breaking(broken)
        with pytest.raises(InputError):
            manifest.validate(broken)
    folder = tmp_path / "m"
    folder.mkdir()
    manifest.write(folder, data)
    assert manifest.read(folder) == data
    assert [p.name for p in folder.iterdir()] == ["manifest.json"]  # no temporary file left
    (folder / "manifest.json").write_text("{ truncated")
    with pytest.raises(InputError, match="not a readable manifest"):
        manifest.read(folder)


def test_interrupted_run_resumes_only_missing_cells(images: dict[str, Path], tmp_path: Path) -> None:
    exp = _sweep(images, "1e4,5e3,1e3")
    out = tmp_path / "run"

    def stop_after_first(event: runner.Event) -> None:
        if event.kind == "done":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runner.execute(runner.prepare(exp, out), on_event=stop_after_first)
    data = json.loads((out / "manifest.json").read_text())  # valid JSON after the interruption
    manifest.validate(data)
    assert [c["status"] for c in data["cells"]] == ["done", "pending", "pending"]
    assert data["runs"][-1]["outcome"] == "interrupted" and not data["complete"]
    first = out / "style_weight=10000.png"
    before = (first.stat().st_mtime_ns, runner.file_sha256(first))

    data, events = _run(exp, out)
    assert [r["outcome"] for r in data["runs"]] == ["interrupted", "cells finished"]
    assert _started(events) == ["style_weight=5000", "style_weight=1000"]
    assert [e.name for e in events if e.kind == "skip"] == ["style_weight=10000"]
    assert (first.stat().st_mtime_ns, runner.file_sha256(first)) == before  # not rewritten
    assert all(c["status"] == "done" for c in data["cells"])
    assert [r["cells_run"] for r in data["runs"]] == [1, 2]

    data, events = _run(exp, out)  # all finished: nothing runs, the sheet is redrawn
    assert _started(events) == [] and data["runs"][-1]["cells_skipped"] == 3


def test_a_cell_whose_image_vanished_runs_again(images: dict[str, Path], tmp_path: Path) -> None:
    exp, out = _sweep(images), tmp_path / "run"
    _run(exp, out)
    (out / "style_weight=5000.png").unlink()
    data, events = _run(exp, out)
    assert _started(events) == ["style_weight=5000"] and data["cells"][1]["status"] == "done"


def test_resume_never_overwrites_an_image_it_cannot_vouch_for(
    images: dict[str, Path], tmp_path: Path
) -> None:
    exp, out = _sweep(images), tmp_path / "run"
    _run(exp, out)
    image = out / "style_weight=5000.png"
    Image.new("RGB", (32, 26), "red").save(image)  # edited after the run
    with pytest.raises(InputError, match="differs from the image manifest.json recorded"):
        runner.prepare(exp, out)
    # an image the manifest records as unfinished (say, put there by hand)
    data = json.loads((out / "manifest.json").read_text())
    data["cells"][1] = manifest.cell_entry(exp.cells[1])
    manifest.write(out, data)
    with pytest.raises(InputError, match="does not record it as finished"):
        runner.prepare(exp, out)
    assert Image.open(image).getpixel((0, 0)) == (255, 0, 0)


def test_prepare_refuses_other_folders(images: dict[str, Path], tmp_path: Path) -> None:
    exp, out = _sweep(images), tmp_path / "run"
    _run(exp, out)
    with pytest.raises(InputError, match=r"different experiment: .*different settings \(iterations\)"):
        runner.prepare(plan.sweep(images["content"], images["style"], TINY.with_changes(iterations=3),
                                  parse_params(["style_weight=1e4,5e3"])), out)  # fmt: skip
    with pytest.raises(InputError, match="has 2 cells, this command asks for 3"):
        runner.prepare(_sweep(images, "1e4,5e3,1e3"), out)
    picture(images["style"], 7)  # the same path, other pixels
    with pytest.raises(InputError, match="different style image"):
        runner.prepare(_sweep(images), out)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty and holds no nst experiment"):
        runner.prepare(exp, foreign)
    with pytest.raises(InputError, match="is not a folder"):
        runner.prepare(exp, foreign / "notes.txt")


def test_a_killed_run_is_recorded_and_a_running_one_is_not_disturbed(
    images: dict[str, Path], tmp_path: Path
) -> None:
    fcntl = pytest.importorskip("fcntl")
    exp, out = _sweep(images), tmp_path / "run"
    _run(exp, out)
    data = json.loads((out / "manifest.json").read_text())
    data["runs"][0].update(outcome="running", finished=None)  # what SIGKILL leaves behind
    manifest.write(out, data)
    with open(out / runner.LOCK_NAME, "a") as held:  # another run at work in the folder
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(InputError, match="another nst run is writing"):
            runner.execute(runner.prepare(exp, out), render=False)
    data, _ = _run(exp, out)
    assert [r["outcome"] for r in data["runs"]] == ["killed", "cells finished"]


@pytest.mark.system
@pytest.mark.slow
def test_jobs_run_cells_in_processes(images: dict[str, Path], tmp_path: Path) -> None:
    exp = plan.grid([images["content"], images["content2"]], [images["style"], images["style2"]], TINY)
    data, events = _run(exp, tmp_path / "grid", jobs=2)
    assert data["runs"][0]["jobs"] == 2 and all(c["status"] == "done" for c in data["cells"])
    assert data["runs"][0]["threads_per_job"] == runner.threads_per_job(2)
    assert sorted(_started(events)) == sorted(c.name for c in exp.cells)
    assert any(e.kind == "progress" for e in events)  # worker progress reaches the parent
    # the same cells computed here, in one process, give the same pictures (up to the rounding
    # of a different thread count)
    _run(exp, tmp_path / "here", jobs=1)
    for cell in exp.cells:
        a, b = (
            np.asarray(Image.open(tmp_path / d / f"{cell.name}.png"), dtype=int) for d in ("grid", "here")
        )
        assert np.abs(a - b).max() <= 2


def test_threads_per_job_divides_the_cores() -> None:
    assert runner.threads_per_job(1, cores=2) == 2
    assert runner.threads_per_job(2, cores=2) == 1
    assert runner.threads_per_job(4, cores=2) == 1
    assert runner.threads_per_job(3, cores=16) == 5
