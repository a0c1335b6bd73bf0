"""nst sweep / nst grid: parameter parsing, the product, planning, resume, the manifest, the sheet."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nst.cli import main
from nst.errors import InputError
from nst.experiments import manifest, plan, runner
from nst.experiments.params import Param, expand, format_value, parse_param, parse_params
from nst.experiments.sheet import Header, SheetSpec, load_font, render_sheet, wrap
from nst.optimise.config import StyleConfig

TINY = StyleConfig(size=32, iterations=2, tolerance=0.0)


def _picture(path: Path, seed: int, size: tuple[int, int] = (32, 32)) -> Path:
    rng = np.random.default_rng(seed)
    w, h = size
    x, y = np.meshgrid(np.linspace(0, 1, w), np.linspace(0, 1, h))
    base = np.stack([x, y, x * y], axis=-1) + 0.2 * rng.random((h, w, 3))
    Image.fromarray((np.clip(base, 0, 1) * 255).astype("uint8")).save(path)
    return path


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture()
def images(tmp_path: Path) -> dict[str, Path]:
    return {
        "content": _picture(tmp_path / "content.png", 0, (40, 32)),
        "content2": _picture(tmp_path / "photo.png", 1, (32, 40)),
        "style": _picture(tmp_path / "style.png", 2),
        "style2": _picture(tmp_path / "art.png", 3),
    }


# ---- parameters ----


def test_parse_param_types_follow_styleconfig() -> None:
    assert parse_param("style_weight=1e4,8000,5e3") == Param("style_weight", (1e4, 8000.0, 5000.0))
    assert parse_param("iterations=10,20").values == (10, 20)
    assert all(type(v) is int for v in parse_param("iterations=10,20").values)
    assert parse_param("size=none,64").values == (None, 64)
    assert parse_param("pooling=avg,max").values == ("avg", "max")
    assert parse_param("style-weight=1").name == "style_weight"  # the option's spelling works too
    assert parse_param("style_layers=conv1_1+conv2_1,conv3_1").values == (
        ("conv1_1", "conv2_1"),
        ("conv3_1",),
    )
    # '+' inside a number's exponent is not a separator
    assert parse_param("style_layer_weights=1e+2+0.5").values == ((100.0, 0.5),)
    # one number for every salient layer, or one per layer
    assert parse_param("salient_quantile=0.8,0.9+0.8").values == (0.8, (0.9, 0.8))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("style_wieght=1", "did you mean style_weight"),
        ("nonsense=1", "unknown setting 'nonsense'"),
        ("style_weight=abc", "'abc' is not a number"),
        ("iterations=1.5", "'1.5' is not an integer"),
        ("size=big", "not an integer"),
        ("style_weight=", "non-empty"),
        ("style_weight=1,,2", "non-empty"),
        ("style_weight", "expected NAME=VALUE"),
        ("=1,2", "expected NAME=VALUE"),
        ("style_weight=1,1.0", "listed twice"),
        ("style_layers=conv1_1++conv2_1", "empty item"),
    ],
)
def test_parse_param_refuses(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_param(text)


def test_parse_params_refuses_nothing_and_repeats() -> None:
    with pytest.raises(InputError, match="at least one"):
        parse_params([])
    with pytest.raises(InputError, match="more than once"):
        parse_params(["style_weight=1", "style-weight=2"])


def test_expand_is_the_cartesian_product_first_slowest() -> None:
    params = parse_params(["style_weight=1e4,5e3", "tv_weight=0,0.1,1"])
    combos = expand(TINY, params)
    assert [tuple(v.values()) for v, _ in combos] == [
        (1e4, 0.0), (1e4, 0.1), (1e4, 1.0), (5e3, 0.0), (5e3, 0.1), (5e3, 1.0)
    ]  # fmt: skip
    for varied, config in combos:
        assert config.style_weight == varied["style_weight"] and config.tv_weight == varied["tv_weight"]
        assert config.size == 32 and config.iterations == 2  # everything else from the base


def test_expand_refuses_a_combination_styleconfig_rejects() -> None:
    with pytest.raises(InputError, match=r"style_weight=-1: style_weight must be >= 0"):
        expand(TINY, [parse_param("style_weight=1,-1")])
    # valid alone, invalid together: five layer weights for two layers
    base = TINY.with_changes(style_layer_weights=(1.0,) * 5)
    with pytest.raises(InputError, match="style_layers=conv1_1\\+conv2_1"):
        expand(base, [parse_param("style_layers=conv1_1+conv2_1")])


def test_format_value_round_trips_through_parsing() -> None:
    for text in ("style_weight=10000,0.001", "size=none,96", "style_layers=conv1_1+conv5_1"):
        name, _, values = text.partition("=")
        parsed = parse_param(text)
        assert ",".join(format_value(v) for v in parsed.values) == values


# ---- planning ----


def test_sweep_plan_layout_and_names(images: dict[str, Path]) -> None:
    params = parse_params(["content_weight=1,2", "style_weight=1e4,5e3,1e3"])
    exp = plan.sweep(images["content"], images["style"], TINY, params)
    assert len(exp.cells) == 6
    assert exp.columns == ("10000", "5000", "1000") and exp.column_title == "style_weight"
    assert exp.rows == ("content_weight = 1", "content_weight = 2")
    assert [(c.row, c.col) for c in exp.cells] == [(r, k) for r in range(2) for k in range(3)]
    assert exp.cells[4].name == "content_weight=2__style_weight=5000"
    assert exp.cells[4].config.content_weight == 2.0 and exp.cells[4].config.style_weight == 5000.0
    assert len({c.name for c in exp.cells}) == 6


def test_grid_plan_and_input_checks(images: dict[str, Path], tmp_path: Path) -> None:
    exp = plan.grid([images["content"], images["content2"]], [images["style"], images["style2"]], TINY)
    assert [c.name for c in exp.cells] == ["content__style", "content__art", "photo__style", "photo__art"]
    assert exp.rows == ("content", "photo") and exp.columns == ("style", "art")
    with pytest.raises(InputError, match="listed twice"):
        plan.grid([images["content"], images["content"]], [images["style"]], TINY)
    with pytest.raises(InputError, match="does not exist"):
        plan.grid([tmp_path / "missing.jpg"], [images["style"]], TINY)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(InputError, match="not a raster image"):
        plan.sweep(images["content"], text, TINY, parse_params(["style_weight=1"]))
    with pytest.raises(InputError, match="init image"):
        plan.sweep(
            images["content"], images["style"], TINY, parse_params([f"init=noise,{tmp_path / 'x.png'}"])
        )


def test_grid_tells_equal_names_apart(images: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    twin = _picture(tmp_path / "other" / "content.png", 9)
    exp = plan.grid([images["content"], twin], [images["style"]], TINY)
    assert exp.rows == ("content", "content-2")
    assert [c.name for c in exp.cells] == ["content__style", "content-2__style"]


# ---- running, the manifest, resume ----


def _sweep(images: dict[str, Path], values: str = "1e4,5e3") -> plan.Experiment:
    return plan.sweep(images["content"], images["style"], TINY, parse_params([f"style_weight={values}"]))


def _run(exp: plan.Experiment, out: Path, render: bool = False, **kwargs) -> tuple[dict, list[runner.Event]]:
    """Run ``exp`` into ``out``; the sheet and the plot (a second each) only where a test looks at them."""
    events: list[runner.Event] = []
    data = runner.execute(runner.prepare(exp, out), on_event=events.append, render=render, **kwargs)
    return data, events


def _started(events: list[runner.Event]) -> list[str]:
    return [e.name for e in events if e.kind == "start"]


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
    _picture(images["style"], 7)  # the same path, other pixels
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


# ---- the contact sheet ----

COLOURS = [(230, 30, 30), (30, 200, 30), (30, 30, 230), (240, 200, 0), (200, 0, 200), (0, 200, 200)]


def _columns_of(sheet: Image.Image, colour: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    mask = np.all(np.asarray(sheet) == colour, axis=-1)
    ys, xs = np.nonzero(mask)
    return xs, ys


def test_sheet_places_every_cell_in_its_row_and_column() -> None:
    cells = [[Image.new("RGB", (32, 24), COLOURS[r * 3 + k]) for k in range(3)] for r in range(2)]
    spec = SheetSpec(
        title="a title",
        columns=[Header(f"column {k}") for k in range(3)],
        rows=[Header(f"row {r}") for r in range(2)],
        cells=cells,
        notes=[["note"] * 3 for _ in range(2)],
        cell_size=160,
    )
    sheet = render_sheet(spec)
    boxes = {}
    for i, colour in enumerate(COLOURS):
        xs, ys = _columns_of(sheet, colour)
        boxes[i] = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        # enlarged to the cell size, keeping the aspect ratio (32x24 -> 160x120)
        assert (boxes[i][2] - boxes[i][0], boxes[i][3] - boxes[i][1]) == (160, 120)
    for r in range(2):
        lefts = [boxes[r * 3 + k][0] for k in range(3)]
        assert lefts == sorted(lefts) and len({boxes[r * 3 + k][1] for k in range(3)}) == 1
    for k in range(3):
        assert boxes[k][0] == boxes[3 + k][0] and boxes[3 + k][1] >= boxes[k][3]
    assert sheet.width >= 3 * 160 and sheet.height >= 2 * 120


def test_sheet_grows_by_one_column_and_keeps_inputs_on_the_left() -> None:
    def spec(n: int) -> SheetSpec:
        return SheetSpec(
            title="t",
            columns=[Header(f"v{k}") for k in range(n)],
            rows=[Header("")],
            cells=[[Image.new("RGB", (40, 40), (9, 9, 9)) for _ in range(n)]],
            inputs=[Header("content: c", Image.new("RGB", (40, 30), COLOURS[0]))],
            cell_size=100,
        )

    three, four = render_sheet(spec(3)), render_sheet(spec(4))
    step = four.width - three.width
    assert 100 < step < 100 + 20  # one more column: its width and a gap
    assert three.height == four.height
    xs, _ = _columns_of(three, COLOURS[0])
    output_xs, _ = _columns_of(three, (9, 9, 9))
    assert xs.max() < output_xs.min()  # the input stands left of every output
    assert xs.max() - xs.min() + 1 == 100  # inputs at the cell size too


def test_wrap_breaks_names_at_underscores_before_letters() -> None:
    font = load_font(15, bold=True)
    assert wrap("picasso_selfport1907", font, 120) == ["picasso_", "selfport1907"]
    assert wrap("style_weight = 10000", font, 110) == ["style_weight", "= 10000"]
    lines = wrap("hoovertowernight", font, 60)
    assert "".join(lines) == "hoovertowernight" and all(font.getlength(x) <= 60 for x in lines)


def test_experiment_sheet_of_a_grid_folder(images: dict[str, Path], tmp_path: Path) -> None:
    exp = plan.grid([images["content"], images["content2"]], [images["style"]], TINY)
    data, _ = _run(exp, tmp_path / "grid", render=True)
    sheet = Image.open(tmp_path / "grid" / "sheet.png")
    # two rows of 160 px cells (32 px outputs enlarged), with a header row of style thumbnails
    assert sheet.height > 2 * 160 + 0.75 * 160
    assert sheet.width > 2 * 160  # a row-header column and one output column


# ---- the command line ----


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--param", "bogus=1"], "unknown setting 'bogus'"),
        (["--param", "style_weight=x"], "'x' is not a number"),
        (["--param", "style_weight="], "non-empty"),
        (["--param", "iterations=0,1"], "iterations must be between"),
        (["--jobs", "0", "--param", "style_weight=1"], "--jobs: must be at least 1"),
    ],
)
def test_cli_refuses_bad_arguments_before_any_work(
    argv: list[str], message: str, images: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["sweep", str(images["content"]), str(images["style"]), "-o", str(out), *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not out.exists()


def test_cli_refuses_missing_image_and_foreign_folder(
    images: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["grid", "--content", str(tmp_path / "nope.jpg"), "--style", str(images["style"]),
                 "-o", str(tmp_path / "out")])  # fmt: skip
    assert code == 2 and "does not exist" in capsys.readouterr().err
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.txt").write_text("x")
    code = main(["grid", "--content", str(images["content"]), "--style", str(images["style"]),
                 "-o", str(tmp_path / "busy")])  # fmt: skip
    assert code == 2 and "not empty" in capsys.readouterr().err
    assert os.listdir(tmp_path / "busy") == ["x.txt"]


def test_cli_sweep_runs_and_resumes(
    images: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["sweep", str(images["content"]), str(images["style"]), "--param", "style_weight=1e4,5e3",
            "--size", "32", "--iterations", "2", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "2 cells (2 run now, 0 already done)" in err
    data = json.loads((out / "manifest.json").read_text())
    assert data["command"].startswith("nst sweep ") and "--param style_weight=1e4,5e3" in data["command"]
    assert "--iterations 2" in data["command"] and data["base_settings"]["iterations"] == 2
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert json.loads((out / "manifest.json").read_text())["runs"][-1]["cells_run"] == 0
