"""Every bad input tried on the `nst` command line (the cases of tests/cli/bad_inputs.py): exit code,
one-line message, nothing written; and the flows around them: the printed resume command, --overwrite.

Cases that get as far as the optimisation loop share the session's prebuilt network, so each takes
about a second; the others fail before VGG is loaded.
"""

from __future__ import annotations

import re
import shlex

import pytest
from PIL import Image

import nst
import nst.optimise.transfer
from nst import cli
from tests.cli.bad_inputs import CASES, DOCS, Case, cached_builder, make_inputs, run_case, stylize


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path, extractor):
    if case.needs is not None and (reason := case.needs()):
        pytest.skip(reason)
    code, out, err, before, after = run_case(case, tmp_path, extractor)
    lines = err.splitlines()
    assert "Traceback" not in err
    assert code == case.code, err
    if case.code == 0:
        assert err == "" and out == ""
    else:
        assert len(lines) == 1, err
        line = lines[0]
        assert line.startswith("error: ") if case.code in (1, 2) else line.startswith("interrupted")
        assert re.search(case.message, line.removeprefix("error: ")), line
        assert out == ""
    # Nothing that was there changed; nothing new but what the case may leave (no temporaries).
    assert {k: v for k, v in after.items() if k in before} == before
    assert sorted(set(after) - set(before)) == sorted(case.leaves)


def test_every_case_is_in_the_docs_table():
    text = DOCS.read_text()
    missing = [c.id for c in CASES if f"`{c.id}`" not in text]
    assert not missing, f"regenerate the table (python -m tests.cli.bad_inputs): {missing}"


# --------------------------------------------------------------------------- flows


def test_the_printed_resume_command_finishes_the_run(tmp_path, extractor, capsys, monkeypatch):
    code, _, err, _, _ = run_case(next(c for c in CASES if c.id == "ctrl-c"), tmp_path, extractor)
    assert code == 130
    command = err.strip().split("resume with: ", 1)[1]
    argv = shlex.split(command)
    assert argv[0] == "nst"
    monkeypatch.setattr(nst.optimise.transfer, "build_extractor", cached_builder(extractor))
    assert cli.main(argv[1:]) == 0
    assert (tmp_path / "out.png").is_file()
    # The run is complete: its checkpoint and partial image are gone.
    assert not (tmp_path / "out.ckpt").exists() and not (tmp_path / "out.partial.png").exists()
    meta = nst.read_metadata(tmp_path / "out.png")
    assert meta["iterations"] == 2 and meta["settings"]["size"] == 32


def test_overwrite_replaces_every_file_of_ours(tmp_path, extractor, monkeypatch):
    make_inputs(tmp_path)
    for name in ("out.png", "out.ckpt", "out.partial.png", "out.iter00001.png"):
        (tmp_path / name).write_bytes(b"old")
    monkeypatch.setattr(nst.optimise.transfer, "build_extractor", cached_builder(extractor))
    argv = [a.replace("{d}", str(tmp_path)) for a in stylize("--overwrite", "--save-every", "1")]
    assert cli.main(argv) == 0
    assert Image.open(tmp_path / "out.png").size == (32, 24)
    assert Image.open(tmp_path / "out.iter00001.png").size == (32, 24)
    assert not (tmp_path / "out.ckpt").exists()  # a finished run leaves no checkpoint


def test_options_take_huge_and_odd_values_without_a_traceback(capsys):
    # Python's int() refuses more than 4300 digits with a ValueError: still one line.
    assert cli.main(["stylize", "a", "b", "-o", "c.png", "--size", "9" * 5000]) == 2
    assert "not an integer" in capsys.readouterr().err


def test_sigterm_handler_is_restored(tmp_path):
    import signal

    before = signal.getsignal(signal.SIGTERM)
    cli.main(["layers"])
    assert signal.getsignal(signal.SIGTERM) is before
