"""Every bad input tried on the `nst` command line, as a table of cases: the input, the expected exit
code and one-line message, and the files the command may leave (tests/cli/test_bad_input.py runs them).

Each `Case` below is one row of the table in docs/robustness.md; ``python -m tests.cli.bad_inputs``
runs them all and prints that table (see the docs for how it is regenerated). A case passes when
the exit code is the expected one, stderr is exactly one line matching the expected message (and
no traceback), stdout is empty, and the work folder holds exactly the files it should: nothing
new (no output, no temporary) unless the case says so, and nothing that was there is changed.

Cases that get as far as the optimisation loop share one prebuilt network, so each takes about
a second; the others fail before VGG is loaded.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from PIL import Image

import nst
import nst.optimise.transfer
from nst import cli
from nst.cli import optimisation
from nst.optimise.objective import Objective
from tests.interrupts import ctrl_c_inside_lbfgs_step

# --------------------------------------------------------------------------- inputs


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def _gradient(width: int, height: int) -> Image.Image:
    x = torch.linspace(0, 1, width).view(1, -1).expand(height, width)
    y = torch.linspace(0, 1, height).view(-1, 1).expand(height, width)
    return nst.image.tensor_to_pil(torch.stack([x, y, 1 - x * y]))


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but holds almost no data: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def make_inputs(folder: Path) -> None:
    """The good content and style images every case starts from."""
    (folder / "c.png").write_bytes(_png(_gradient(64, 48)))
    noise = torch.rand(3, 48, 48, generator=torch.Generator().manual_seed(3))
    noise[:, ::4] = 0.9
    (folder / "s.png").write_bytes(_png(nst.image.tensor_to_pil(noise)))


def _write(name: str, data: bytes | Callable[[], bytes]) -> Callable[..., None]:
    def prepare(folder: Path, extractor=None) -> None:
        (folder / name).write_bytes(data() if callable(data) else data)

    return prepare


def _mkdir(name: str) -> Callable[..., None]:
    def prepare(folder: Path, extractor=None) -> None:
        (folder / name).mkdir()

    return prepare


def _weights(name: str, mutate: Callable[[dict], None]) -> Callable[..., None]:
    def prepare(folder: Path, extractor=None) -> None:
        from tests.conftest import random_state_dict

        state = random_state_dict()
        mutate(state)
        torch.save(state, folder / name)

    return prepare


def _checkpoint_of_another_run(folder: Path, extractor) -> None:
    """A real checkpoint, made with the default style weight, of the run the case resumes."""
    config = nst.StyleConfig(size=32, iterations=2)
    content, style = nst.image.load_pil(folder / "c.png"), nst.image.load_pil(folder / "s.png")

    def stop(progress):
        raise KeyboardInterrupt

    with contextlib.suppress(nst.Interrupted):
        nst.transfer_style(
            content, [style], config, extractor=extractor, checkpoint=folder / "out.ckpt", callback=stop
        )


# --------------------------------------------------------------------------- faults injected into a run


def _objective_fails(
    make_error: Callable[[int], BaseException | None],
) -> Callable[[pytest.MonkeyPatch], None]:
    def patch(mp: pytest.MonkeyPatch) -> None:
        original = Objective.__call__
        calls = {"n": 0}

        def call(self, image):
            calls["n"] += 1
            error = make_error(calls["n"])
            if error is not None:
                raise error
            return original(self, image)

        mp.setattr(Objective, "__call__", call)

    return patch


def _always_nan(mp: pytest.MonkeyPatch) -> None:
    original = Objective.__call__
    calls = {"n": 0}

    def call(self, image):
        calls["n"] += 1
        total, terms = original(self, image)
        return (total * math.nan if calls["n"] > 1 else total), terms

    mp.setattr(Objective, "__call__", call)


def _disk_full(mp: pytest.MonkeyPatch) -> None:
    def save(image, path, metadata=None):
        raise OSError(28, "No space left on device", str(path))

    mp.setattr(nst, "save_image", save)


def _free_memory(gib: int) -> Callable[[pytest.MonkeyPatch], None]:
    """Pretend the device has ``gib`` GiB free: what fits must not depend on the test machine."""

    def patch(mp: pytest.MonkeyPatch) -> None:
        mp.setattr(nst.optimise.memory, "available_memory", lambda device="cpu": gib * 2**30)

    return patch


def _ctrl_c_inside_step(call: int) -> Callable[[pytest.MonkeyPatch], None]:
    return lambda mp: ctrl_c_inside_lbfgs_step(mp, call)


def _ctrl_c_at_first_iteration(mp: pytest.MonkeyPatch) -> None:
    def press(self, progress):
        raise KeyboardInterrupt

    mp.setattr(optimisation.ProgressPrinter, "__call__", press)


# --------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    id: str
    what: str  # the input, in words: the docs table's first column
    argv: tuple[str, ...]  # "{d}" is the work folder
    code: int
    message: str  # a regular expression the one line on stderr must match
    prepare: Callable[..., None] | None = None
    runs: bool = False  # reaches the optimisation loop (with the shared prebuilt network)
    patch: Callable[[pytest.MonkeyPatch], None] | None = None
    leaves: tuple[str, ...] = ()  # files the command may create
    needs: Callable[[], str | None] | None = None  # a reason to skip here, or None


def stylize(
    *extra: str, content: str = "c.png", style: str = "s.png", out: str = "out.png"
) -> tuple[str, ...]:
    def where(name: str) -> str:
        return name if name.startswith("/") else "{d}/" + name

    return ("stylize", where(content), where(style), "-o", where(out), "--size", "32", "--iterations", "2",
            "--quiet", *extra)  # fmt: skip


def _no_cuda() -> str | None:
    return "a CUDA GPU is present" if torch.cuda.is_available() else None


def _sys_read_only() -> str | None:
    probe = Path("/sys")
    if not probe.is_dir():
        return "no /sys here"
    try:
        (probe / ".nst-probe").touch()
    except OSError:
        return None
    (probe / ".nst-probe").unlink()
    return "/sys is writable here"


PNG, JPEG = _png(_gradient(64, 48)), _jpeg(_gradient(64, 48))
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48"/></svg>'

CASES: list[Case] = [
    # --- image files
    Case("missing", "content file does not exist", stylize(content="nope.jpg"), 2, "image '.*nope.jpg' does not exist"),
    Case("directory", "content is a directory", stylize(content="folder"), 2, "is a directory, not a file", _mkdir("folder")),
    Case("empty", "empty file (0 bytes)", stylize(content="empty.png"), 2, r"is empty \(0 bytes\)", _write("empty.png", b"")),
    Case("truncated-png", "truncated PNG", stylize(content="cut.png"), 2, "truncated or corrupt|unreadable", _write("cut.png", PNG[: len(PNG) // 2])),
    Case("truncated-jpeg", "truncated JPEG", stylize(content="cut.jpg"), 2, "truncated or corrupt|unreadable", _write("cut.jpg", JPEG[: len(JPEG) // 2])),
    Case("text", "a text file named .jpg", stylize(content="notes.jpg"), 2, "not a raster image Pillow can read", _write("notes.jpg", b"hello, not a picture\n")),
    Case("svg", "an SVG drawing", stylize(content="drawing.svg"), 2, "not a raster image Pillow can read", _write("drawing.svg", SVG)),
    Case("random", "random bytes", stylize(content="noise.bin"), 2, "not a raster image Pillow can read", _write("noise.bin", bytes(range(256)) * 8)),
    Case("bomb", "decompression bomb: a PNG declaring 100000x100000 px", stylize(content="bomb.png"), 2, "too large .* decompression bomb", _write("bomb.png", _png_header_only(100_000, 100_000))),
    Case("style-broken", "style image not an image", stylize(style="style.txt"), 2, "image '.*style.txt' is not a raster image", _write("style.txt", b"{}")),
    Case("aspect", "absurd aspect ratio (1000x20 px)", stylize(content="strip.png"), 2, "aspect ratio of 50:1; more than 20:1 is refused", _write("strip.png", lambda: _png(_gradient(1000, 20)))),
    Case("too-small", "too small after resizing (200x40 at --size 48: 48x10 px)", stylize("--size", "48", content="wide.png"), 2, r"would be 48x10 px at 48 px, too small for layer conv5_1, which needs at least 16 px", _write("wide.png", lambda: _png(_gradient(200, 40)))),
    Case("style-too-small", "style image too small after resizing (--style-size 20, 3:1)", stylize("--style-size", "20", style="band.png"), 2, r"style image would be 20x7 px", _write("band.png", lambda: _png(_gradient(60, 20)))),
    Case("pyramid-too-small", "a pyramid level too small (--scales 4 at --size 64, 3:1: 32x11 px)", stylize("--size", "64", "--scales", "4", content="wide3.png"), 2, "would be 32x11 px at 32 px, .* use a larger size or fewer scales", _write("wide3.png", lambda: _png(_gradient(96, 32)))),
    Case("wrong-extension", "a PNG named .jpg (wrong extension)", stylize(content="photo.jpg"), 0, r"^$", _write("photo.jpg", PNG), runs=True, leaves=("out.png",)),
    Case("one-pixel", "a 1x1 px image (upscaled)", stylize(content="dot.png"), 0, r"^$", _write("dot.png", lambda: _png(Image.new("RGB", (1, 1), (200, 30, 30)))), runs=True, leaves=("out.png",)),
    Case("cmyk", "a CMYK JPEG", stylize(content="cmyk.jpg"), 0, r"^$", _write("cmyk.jpg", lambda: _jpeg(_gradient(64, 48).convert("CMYK"))), runs=True, leaves=("out.png",)),
    # --- numbers
    Case("size-negative", "--size -5", stylize("--size", "-5"), 2, "size must be between 1 and 16384, got -5"),
    Case("size-zero", "--size 0", stylize("--size", "0"), 2, "size must be between 1 and 16384, got 0"),
    Case("size-tiny", "--size 8", stylize("--size", "8"), 2, "size must be at least 16 px"),
    Case("size-nan", "--size nan", stylize("--size", "nan"), 2, "argument --size: not an integer: 'nan'"),
    Case("size-float", "--size 1e3", stylize("--size", "1e3"), 2, "argument --size: not an integer: '1e3'"),
    Case("size-huge", "--size 99999999", stylize("--size", "99999999"), 2, "size must be between 1 and 16384"),
    Case("size-memory", "--size 16384 with 16 GiB free (injected)", stylize("--size", "16384"), 2, r"a 16384 px run needs about .* GiB of memory but only 16.0 GiB is available on (cpu|cuda); the largest size that fits is \d+ px", patch=_free_memory(16)),
    Case("iterations-zero", "--iterations 0", stylize("--iterations", "0"), 2, "iterations must be between 1 and 1000000, got 0"),
    Case("iterations-huge", "--iterations 10000000", stylize("--iterations", "10000000"), 2, "iterations must be between 1 and 1000000"),
    Case("style-weight-nan", "--style-weight nan", stylize("--style-weight", "nan"), 2, "style_weight must be finite, got nan"),
    Case("style-weight-inf", "--style-weight inf", stylize("--style-weight", "inf"), 2, "style_weight must be finite, got inf"),
    Case("style-weight-overflow", "--style-weight 1e400 (overflows to inf)", stylize("--style-weight", "1e400"), 2, "style_weight must be finite"),
    Case("style-weight-huge", "--style-weight 1e300 (finite, but the loss overflows float32)", stylize("--style-weight", "1e300"), 2, "the loss of the starting image is inf .* a weight is too large", runs=True),
    Case("content-weight-negative", "--content-weight -1", stylize("--content-weight", "-1"), 2, "content_weight must be >= 0, got -1"),
    Case("tv-weight-inf", "--tv-weight inf", stylize("--tv-weight", "inf"), 2, "tv_weight must be finite"),
    Case("lr-zero", "--lr 0 (Adam)", stylize("--optimizer", "adam", "--lr", "0"), 2, "lr must be > 0, got 0"),
    Case("lr-text", "--lr fast", stylize("--lr", "fast"), 2, "argument --lr: not a number: 'fast'"),
    Case("tolerance-negative", "--tolerance -1", stylize("--tolerance", "-1"), 2, "tolerance must be >= 0"),
    Case("seed-negative", "--seed -1", stylize("--seed", "-1"), 2, "seed must be a non-negative integer"),
    Case("seed-huge", "--seed 2**70 with --init noise", stylize("--init", "noise", "--seed", str(2**70)), 2, "seed must be below 2\\*\\*64"),
    Case("scales-zero", "--scales 0", stylize("--scales", "0"), 2, "scales must be between 1 and 12"),
    Case("scale-ratio-one", "--scale-ratio 1", stylize("--scales", "2", "--scale-ratio", "1"), 2, "scale_ratio must be > 1"),
    Case("scale-iterations-count", "--scale-iterations 5 with --scales 2", stylize("--scales", "2", "--scale-iterations", "5"), 2, r"scale_iterations has 1 value\(s\) for 2 scale\(s\)"),
    Case("style-scale-zero", "--style-scale 0", stylize("--style-scale", "0"), 2, "style_scale must be > 0"),
    Case("style-blend-zero", "--style-blend 0,0", stylize("--style-blend", "0,0"), 2, "style_blend weights must not all be zero"),
    Case("style-blend-count", "--style-blend 0.5,0.5 for one style", stylize("--style-blend", "0.5,0.5"), 2, r"style blend has 2 weight\(s\) for 1 style image\(s\)"),
    Case("save-every-negative", "--save-every -1", stylize("--save-every", "-1"), 2, "--save-every must be >= 0"),
    Case("checkpoint-every-negative", "--checkpoint-every -3", stylize("--checkpoint-every", "-3"), 2, "argument --checkpoint-every: needs iterations"),
    Case("checkpoint-every-nan", "--checkpoint-every nans", stylize("--checkpoint-every", "nans"), 2, "argument --checkpoint-every: needs iterations"),
    # --- layers
    Case("layer-unknown", "--style-layers conv9_9", stylize("--style-layers", "conv9_9"), 2, "unknown style layer 'conv9_9'"),
    Case("layer-typo", "--content-layers conv4_22", stylize("--content-layers", "conv4_22"), 2, r"unknown content layer 'conv4_22' \(did you mean conv4_2\?\)"),
    Case("layer-empty", "--style-layers ''", stylize("--style-layers", ""), 2, "--style-layers needs a comma-separated list"),
    Case("layer-weights-count", "--style-layer-weights 1,2 for five layers", stylize("--style-layer-weights", "1,2"), 2, r"style_layer_weights has 2 value\(s\) but there are 5 layer\(s\)"),
    # --- weights
    Case("weights-missing", "--weights of a file that does not exist", stylize("--weights", "{d}/vgg.pth"), 2, "weights '.*vgg.pth' is neither vgg19-caffe nor vgg19-torchvision nor an existing file"),
    Case("weights-garbage", "--weights of a file that is not a state dict", stylize("--weights", "{d}/junk.pth"), 2, r"is not a readable state dict", _write("junk.pth", b"PK\x03\x04 not really a zip")),
    Case("weights-shape", "--weights with a wrong layer shape", stylize("--weights", "{d}/odd.pth"), 2, r"conv1_1 has shape \(64, 3, 5, 5\), expected \(64, 3, 3, 3\)", _weights("odd.pth", lambda s: s.update({"features.0.weight": torch.zeros(64, 3, 5, 5)}))),
    Case("weights-keys", "--weights lacking a layer", stylize("--weights", "{d}/short.pth"), 2, "lacks features.34.weight", _weights("short.pth", lambda s: s.pop("features.34.weight"))),
    Case("weights-nan", "--weights holding NaN", stylize("--weights", "{d}/nan.pth"), 2, "conv1_2 holds NaN or infinite values", _weights("nan.pth", lambda s: s["features.2.weight"].fill_(math.nan))),
    # --- outputs
    Case("out-folder", "output in a missing folder", stylize(out="missing/out.png"), 2, "output folder '.*missing' does not exist"),
    Case("out-extension", "output with an unsupported extension (.gif)", stylize(out="out.gif"), 2, "unsupported extension '.gif'"),
    Case("out-no-extension", "output without an extension", stylize(out="out"), 2, r"unsupported extension '\(none\)'"),
    Case("out-exists", "output exists, no --overwrite", stylize(), 2, r"output '.*out.png' already exists \(use --overwrite to replace it\)", _write("out.png", b"precious")),
    Case("out-directory", "output is a directory", stylize(out="taken.png"), 2, "is a directory", _mkdir("taken.png")),
    Case("out-is-input", "output is the content image, with --overwrite", stylize("--overwrite", out="c.png"), 2, "is one of the input images"),
    Case("out-no-permission", "output where writing is not permitted (/sys)", stylize(out="/sys/nst-out.png"), 2, "no permission to write in '/sys'|cannot write '/sys/nst-out.png': Permission denied", needs=_sys_read_only),
    Case("report-exists", "--report file exists, no --overwrite", stylize("--report", "{d}/r.json"), 2, "report '.*r.json' already exists", _write("r.json", b"{}")),
    Case("report-is-output", "--report is the output file", stylize("--report", "{d}/out.png"), 2, "the report and the output are the same file"),
    Case("save-every-exists", "--save-every would replace an earlier run's images", stylize("--save-every", "1"), 2, r"out.iter00001.png' already exists \(use --overwrite", _write("out.iter00001.png", b"old")),
    Case("leftover-checkpoint", "a checkpoint is left from an interrupted run", stylize(), 2, "out.ckpt' is left from an interrupted run: add --resume to continue it, or use --overwrite", _write("out.ckpt", b"state")),
    Case("leftover-partial", "a partial image is left from an interrupted run", stylize(), 2, "out.partial.png' is left from an interrupted run: use --overwrite", _write("out.partial.png", b"partial")),
    Case("resume-nothing", "--resume without a checkpoint", stylize("--resume"), 2, "nothing to resume: there is no checkpoint '.*out.ckpt'"),
    Case("resume-damaged", "--resume with a damaged checkpoint", stylize("--resume"), 2, "checkpoint '.*out.ckpt' is damaged or not a checkpoint", _write("out.ckpt", b"\x00" * 100)),
    Case("resume-changed", "--resume with changed settings", stylize("--resume", "--style-weight", "5"), 2, r"cannot resume from '.*out.ckpt': this run differs from it in style_weight \(70000.0 -> 5.0\)", _checkpoint_of_another_run, runs=True),
    # --- usage
    Case("no-arguments", "no arguments", (), 2, "the following arguments are required: command"),
    Case("unknown-option", "an unknown option (--sizee)", stylize("--sizee", "5"), 2, "unrecognized arguments: --sizee 5"),
    Case("no-output", "no -o", ("stylize", "{d}/c.png", "{d}/s.png"), 2, "the following arguments are required: -o/--output"),
    Case("bad-preset", "--preset bogus", stylize("--preset", "bogus"), 2, "argument --preset: invalid choice: 'bogus'"),
    Case("no-cuda", "--device cuda without a GPU", stylize("--device", "cuda"), 2, "--device cuda: no CUDA GPU is available here", needs=_no_cuda),
    Case("info-plain", "nst info on an image nst did not make", ("info", "{d}/c.png"), 2, "carries no nst settings"),
    # --- during the run
    Case("nan", "NaN loss at every step (injected)", stylize(), 1, r"gave up after 4 numerical faults \(loss nan at iteration 1\); the last good image is in .*out.partial.png$", runs=True, patch=_always_nan, leaves=("out.partial.png",)),
    Case("oom", "out of memory during the run (injected)", stylize(), 1, r"ran out of memory on (cpu|cuda) \(32x24 px\); use a smaller size", runs=True, patch=_objective_fails(lambda n: torch.OutOfMemoryError("CUDA out of memory") if n == 3 else None)),
    Case("disk-full", "disk full when saving the output (injected)", stylize(), 1, "cannot read or write '.*out.png': No space left on device", runs=True, patch=_disk_full),
    Case("ctrl-c", "Ctrl-C during the run (injected)", stylize(), 130, r"^interrupted at iteration 1 of 2; best image so far in .*out.partial.png; resume with: nst stylize .* --resume$", runs=True, patch=_ctrl_c_at_first_iteration, leaves=("out.partial.png", "out.ckpt")),
    Case("ctrl-c-mid-step", "Ctrl-C inside an optimiser step, 1 iteration after the last checkpoint (injected)", stylize("--iterations", "4", "--checkpoint-every", "2"), 130, r"^interrupted at iteration 3 of 4; best image so far in .*out.partial.png; the checkpoint holds iteration 2 \(the run stopped where it cannot be saved: inside an optimiser step or a tile\); resume with: nst stylize .* --resume$", runs=True, patch=_ctrl_c_inside_step(4), leaves=("out.partial.png", "out.ckpt")),
]  # fmt: skip


# --------------------------------------------------------------------------- running a case


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def cached_builder(extractor):
    real = nst.optimise.transfer.build_extractor

    def build(config, device="cpu"):
        wanted = set(config.content_layers) | set(config.style_layers)
        default = nst.StyleConfig()
        # The cached network lives on the CPU; where the CLI picks a GPU, build one there.
        if (
            torch.device(device).type == "cpu"
            and (config.weights, config.pooling) == (default.weights, default.pooling)
            and wanted <= set(extractor.layers)
        ):
            return extractor
        return real(config, device)

    return build


def run_case(case: Case, folder: Path, extractor) -> tuple[int, str, str, dict, dict]:
    """Run ``case`` in ``folder``: (exit code, stdout, stderr, files before, files after)."""
    make_inputs(folder)
    if case.prepare is not None:
        case.prepare(folder, extractor)
    before = _snapshot(folder)
    argv = [arg.replace("{d}", str(folder)) for arg in case.argv]
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        if case.runs:
            mp.setattr(nst.optimise.transfer, "build_extractor", cached_builder(extractor))
        if case.patch is not None:
            case.patch(mp)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv)
    return code, out.getvalue(), err.getvalue(), before, _snapshot(folder)


# --------------------------------------------------------------------------- the docs table


def markdown_table(extractor) -> str:
    """Run every case and render the table of docs/robustness.md."""
    import tempfile

    rows = ["| case | bad input | exit | what happens (stderr, one line) |", "| --- | --- | --- | --- |"]
    for case in CASES:
        if case.needs is not None and (reason := case.needs()):
            rows.append(f"| `{case.id}` | {case.what} | - | not tried here: {reason} |")
            continue
        with tempfile.TemporaryDirectory() as work:
            folder = Path(work)
            code, _, err, before, after = run_case(case, folder, extractor)
        said = " ".join(err.split()).replace(str(folder) + "/", "").replace(str(folder), ".")
        said = re.sub(
            r"about [\d.]+ GiB of memory but only [\d.]+ [GM]iB", "about N GiB of memory but only M GiB", said
        )
        said = re.sub(r"the largest size that fits is \d+ px", "the largest size that fits is S px", said)
        new = sorted(set(after) - set(before))
        if code == 0:
            said = f"runs; writes {', '.join(new)}"
        elif new:
            said += f" (keeps {', '.join(new)})"
        rows.append(f"| `{case.id}` | {case.what} | {code} | {said.replace('|', '/')} |")
    return "\n".join(rows) + "\n"


DOCS = Path(__file__).resolve().parents[2] / "docs" / "robustness.md"
START, END = (
    "<!-- bad-input table: generated by `python -m tests.cli.bad_inputs --write` -->",
    "<!-- end of table -->",
)


if __name__ == "__main__":
    # python -m tests.cli.bad_inputs           prints the table
    # python -m tests.cli.bad_inputs --write   replaces it in docs/robustness.md
    table = markdown_table(nst.build_extractor(nst.StyleConfig()))
    if "--write" in sys.argv[1:]:
        text = DOCS.read_text()
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        DOCS.write_text(f"{head}{START}\n{table}{END}{tail}")
    else:
        sys.stdout.write(table)
