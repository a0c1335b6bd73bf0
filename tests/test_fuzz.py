"""Fuzzing: the option parser and the image loader meet inputs nobody would write by hand.

Properties (hypothesis):
* any command line either parses into a valid `StyleConfig` or fails with the CLI's own usage
  or input error; `nst stylize` with it exits 0 or 2, prints at most one line, never a traceback,
  and writes an output only when it succeeds;
* any bytes, and any image in any Pillow mode and format cut or mutated anywhere, either load as
  a finite (1, 3, H, W) tensor in [0, 1] or raise `nst.InputError`, and nothing else.

A bounded, seeded fuzz run also mutates the real test images (../shared/images) in every output
format: bit flips, overwritten spans, cut tails, repeated spans and huge size fields. Each load is
given a time limit, so a hang fails the test instead of stalling it.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

import nst
from nst import cli
from nst.errors import InputError
from tests.conftest import SHARED_IMAGES

# --------------------------------------------------------------------------- helpers


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: int):
    """Fail (rather than stall) when the body runs longer than ``seconds`` (main thread, Unix)."""

    def expire(signum, frame):
        raise Hang(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def load_or_refuse(source) -> torch.Tensor | None:
    """The loader's contract: a sane tensor, or InputError. Anything else propagates (a failure)."""
    with time_limit(20):
        try:
            tensor = nst.load_image(source)
        except InputError as exc:
            assert str(exc)  # (a newline in a file name may reach it; the CLI joins lines)
            return None
    assert tensor.dtype == torch.float32 and tensor.dim() == 4 and tensor.shape[:2] == (1, 3)
    assert tensor.shape[2] >= 1 and tensor.shape[3] >= 1
    assert torch.isfinite(tensor).all() and tensor.min() >= 0 and tensor.max() <= 1
    return tensor


# Pillow warns about odd tags in mangled files; what matters here is what the loader raises.
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore:IM image format is deprecated:DeprecationWarning"),
]

# NST_FUZZ_EXAMPLES=5000 for a longer hunt than the suite's.
FAST = settings(
    max_examples=int(os.environ.get("NST_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --------------------------------------------------------------------------- the option parser


def _stylize_options() -> dict[str, bool]:
    """Every option of `nst stylize`: name -> whether it takes a value."""
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["stylize"]
    options = {}
    for action in sub._actions:
        for name in action.option_strings:
            if name.startswith("--") and name not in ("--help", "--version"):
                options[name] = action.nargs != 0
    return options


OPTIONS = _stylize_options()
TEXT = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12)
VALUES = st.one_of(
    st.integers(-(10**25), 10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        [
            "nan",
            "inf",
            "-inf",
            "1e400",
            "-0",
            "0",
            "1",
            "0x10",
            "1_000",
            " 5 ",
            "",
            ",",
            "1,,2",
            "5s",
            "2m",
            "-1s",
            "conv1_1",
            "conv1_1,conv9_9",
            "pool5",
            "relu5_4",
            "1,2,3,4,5",
            "0.7,0.3",
            "content",
            "noise",
            "vgg19-caffe",
            "auto",
            "cpu",
            "avg",
            "max",
            "adam",
            "lbfgs",
            "luminance",
            "draft",
            "high",
        ]
    ),  # fmt: skip
    TEXT,
)
PAIRS = st.lists(st.tuples(st.sampled_from(sorted(OPTIONS)), VALUES), max_size=6)


def _argv(pairs, folder: Path) -> list[str]:
    argv = ["stylize", str(folder / "c.png"), str(folder / "s.png"), "-o", str(folder / "out.png")]
    for option, value in pairs:
        argv += [option, value] if OPTIONS[option] else [option]
    return argv


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    nst.save_image(torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(0)), folder / "c.png")
    nst.save_image(torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(1)), folder / "s.png")
    return folder


@FAST
@given(pairs=PAIRS)
def test_any_command_line_parses_to_a_valid_config_or_a_clean_error(work, pairs):
    argv = _argv(pairs, work)
    try:
        args = cli.build_parser().parse_args(argv)
        args.given = cli.given_options(argv)
        config = cli.config_from_args(args)
    except (cli.UsageError, InputError) as exc:
        assert str(exc)
        return
    assert nst.StyleConfig.from_dict(config.to_dict()) == config  # it really is valid
    plan = config.scale_plan(config.resolve_size("cpu"))
    assert plan and all(size >= 16 and iterations >= 1 for size, iterations in plan)
    assert nst.estimate_memory(config, (64, 48), "cpu") > 0


def _fake_transfer(content, styles, config, **kwargs):
    """Stands in for the optimisation: the CLI's own checks, files and messages are under test."""
    size = nst.image.scaled_size(*content.size, min(config.resolve_size("cpu"), 64))
    image = content.resize(size)
    losses = nst.LossBreakdown(1.0, 2.0, 0.0, 3.0, {"conv4_2": 1.0}, {"conv1_1": 2.0})
    return nst.StyleResult(image, nst.load_image(image), config, losses, [losses], 1, "reached 1 iterations")


@FAST
@given(pairs=PAIRS)
def test_any_command_line_exits_cleanly_and_writes_only_on_success(work, pairs):
    argv = _argv(pairs, work)
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nst, "transfer_style", _fake_transfer)
        mp.chdir(work)  # a relative --report or -o from the fuzzer lands here, not in the repository
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = cli.main(argv)
            except SystemExit as exit:  # --help or --version turned up as a value: argparse's own exit
                assert exit.code == 0 and {"--help", "-h", "--version"} & set(argv)
                code = None
    written = sorted(p.name for p in work.rglob("*") if p.name not in ("c.png", "s.png"))
    for path in sorted(work.rglob("*"), reverse=True):
        if path.name not in ("c.png", "s.png"):
            path.rmdir() if path.is_dir() else path.unlink()
    text = err.getvalue()
    assert "Traceback" not in text
    assert not [name for name in written if name.endswith((".part", ".probe"))], written
    if code is None:
        return
    assert code in (0, 2), text
    if code == 0:
        assert written, "a successful run wrote nothing"
    else:
        assert written == [] and len(text.splitlines()) == 1 and text.startswith("error: "), (written, text)


# --------------------------------------------------------------------------- the loader: generated inputs


@FAST
@given(name=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=600))
@example(name="n" * 300)  # longer than a file name may be (255 bytes): the OS refuses to look
@example(name="é" * 200)  # 400 bytes in UTF-8
@example(name="x\x00y")
@example(name=".")
def test_any_path_name_loads_or_raises_input_error(name):
    """Names too long for the file system, with NULs, or naming folders and non-images."""
    load_or_refuse(name)
    load_or_refuse(Path("/nonexistent-folder") / name)


MAGICS = [
    b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"GIF87a", b"II*\x00", b"MM\x00*", b"BM",
    b"RIFF\x00\x00\x00\x00WEBP", b"P6\n", b"\x00\x00\x01\x00", b"8BPS", b"<svg", b"%PDF-1.4", b"\x00\x00\x00\x0cjP  ",
]  # fmt: skip


@FAST
@given(data=st.binary(max_size=4096))
def test_any_bytes_load_or_raise_input_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "x.img"
    path.write_bytes(data)
    load_or_refuse(path)
    load_or_refuse_bytes(data)


def load_or_refuse_bytes(data: bytes) -> None:
    with time_limit(20):
        try:
            image = nst.image.load_pil(data)
        except InputError:
            return
    assert image.mode == "RGB" and min(image.size) >= 1


@FAST
@given(header=st.sampled_from(MAGICS), body=st.binary(max_size=1024))
def test_image_headers_with_garbage_load_or_raise_input_error(tmp_path_factory, header, body):
    path = tmp_path_factory.mktemp("magic") / "x.img"
    path.write_bytes(header + body)
    load_or_refuse(path)


MODES = ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "I", "I;16", "F"]
FORMATS = ["PNG", "JPEG", "GIF", "TIFF", "WEBP", "BMP", "PPM", "TGA", "ICO", "PCX", "SGI", "IM", "EPS"]


@st.composite
def encoded_images(draw):
    mode = draw(st.sampled_from(MODES))
    size = (draw(st.integers(1, 40)), draw(st.integers(1, 40)))
    seed = draw(st.integers(0, 2**16))
    fmt = draw(st.sampled_from(FORMATS))
    gen = torch.Generator().manual_seed(seed)
    rgb = Image.frombytes(
        "RGB", size, (torch.rand(size[1], size[0], 3, generator=gen) * 255).byte().numpy().tobytes()
    )
    try:
        image = rgb.convert(mode)
    except ValueError:
        image = rgb
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=fmt)
    except (OSError, ValueError, KeyError, TypeError):
        try:  # the format does not take this mode: store RGB instead
            buffer = io.BytesIO()
            rgb.save(buffer, format=fmt)
        except (OSError, ValueError, KeyError, TypeError):
            buffer = io.BytesIO()
            rgb.save(buffer, format="PNG")
    return buffer.getvalue()


@FAST
@given(
    data=encoded_images(),
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 7)), max_size=4),
)
def test_every_mode_and_format_cut_or_flipped_loads_or_raises_input_error(tmp_path_factory, data, cut, flips):
    whole = tmp_path_factory.mktemp("enc") / "whole.img"
    whole.write_bytes(data)
    load_or_refuse(whole)
    mutated = bytearray(data[: max(1, round(len(data) * cut))] if cut < 1 else data)
    for where, bit in flips:
        mutated[min(len(mutated) - 1, int(where * len(mutated)))] ^= 1 << bit
    broken = whole.with_name("broken.img")
    broken.write_bytes(bytes(mutated))
    load_or_refuse(broken)


# --------------------------------------------------------------------------- the loader: mutated real images


def _mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    kind = rng.randrange(6)
    if kind == 0:  # flip a few bits
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # overwrite a span with random bytes
        start = rng.randrange(len(out))
        out[start : start + rng.randint(1, 64)] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == 2:  # cut the tail
        del out[rng.randrange(1, len(out)) :]
    elif kind == 3:  # repeat a span
        start = rng.randrange(len(out))
        span = out[start : start + rng.randint(1, 256)]
        out[start:start] = span * rng.randint(1, 4)
    elif kind == 4:  # a size field gone huge: a 16- or 32-bit word of 0xFF near the header
        start = rng.randrange(min(len(out), 64))
        out[start : start + rng.choice((2, 4))] = b"\xff" * rng.choice((2, 4))
    else:  # a header from another format
        out[:4] = rng.choice(MAGICS)[:4]
    return bytes(out) or b"\0"


def _encodings(path: Path) -> dict[str, bytes]:
    image = Image.open(path)
    image.thumbnail((48, 48))
    encoded = {}
    for fmt, options in [("PNG", {}), ("JPEG", {"quality": 80}), ("JPEG", {"progressive": True}), ("GIF", {}),
                         ("TIFF", {"compression": "tiff_deflate"}), ("WEBP", {}), ("BMP", {})]:  # fmt: skip
        buffer = io.BytesIO()
        image.convert("RGB" if fmt != "GIF" else "P").save(buffer, format=fmt, **options)
        encoded[f"{fmt}{'-progressive' if options.get('progressive') else ''}"] = buffer.getvalue()
    return encoded


# NST_FUZZ_MUTATIONS=100 for a longer hunt than the suite's.
MUTATIONS_PER_ENCODING = int(os.environ.get("NST_FUZZ_MUTATIONS", "10"))


@pytest.mark.slow
@pytest.mark.images
def test_mutated_real_images_load_or_raise_input_error(tmp_path):
    originals = sorted(SHARED_IMAGES.glob("*.jpg")) if SHARED_IMAGES.is_dir() else []
    if not originals:
        pytest.skip(f"{SHARED_IMAGES} is absent (real test images live in ../shared/images)")
    rng = random.Random(20150826)  # seeded: a failure reproduces
    loaded = refused = 0
    slowest = 0.0
    target = tmp_path / "mutant.img"
    for original in originals:
        for name, data in _encodings(original).items():
            assert load_or_refuse(_write(target, data)) is not None, name  # the unmutated file loads
            for _ in range(MUTATIONS_PER_ENCODING):
                mutant = _mutate(data, rng)
                started = time.perf_counter()
                try:
                    outcome = load_or_refuse(_write(target, mutant))
                except Exception as exc:  # report the input that broke the contract
                    keep = tmp_path / f"failing-{original.stem}-{name}.img"
                    keep.write_bytes(mutant)
                    raise AssertionError(f"{type(exc).__name__}: {exc} (input kept in {keep})") from exc
                slowest = max(slowest, time.perf_counter() - started)
                loaded += outcome is not None
                refused += outcome is None
    total = loaded + refused
    assert total == len(originals) * 7 * MUTATIONS_PER_ENCODING
    # Both outcomes occur: the mutations neither all miss nor all break the files.
    assert loaded > total // 20 and refused > total // 20, (loaded, refused)
    assert slowest < 10


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_the_time_limit_fires():
    with pytest.raises(Hang), time_limit(1):
        time.sleep(3)
