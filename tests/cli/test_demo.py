"""`nst demo`, the README's first command: inputs every install has, the usual output rules."""

import pytest

import nst
from nst import cli
from nst.cli.demo import demo_content_path, painted_style


def test_painted_style_is_deterministic_and_square():
    first, second = painted_style(size=96), painted_style(size=96)
    assert first.size == (96, 96) and first.tobytes() == second.tobytes()
    assert painted_style(size=96, seed=2).tobytes() != first.tobytes()


def test_demo_content_ships_with_matplotlib():
    assert demo_content_path().is_file()


def test_demo_writes_the_picture_and_its_style(tmp_path, capsys):
    out = tmp_path / "painted.png"
    code = cli.main(["demo", "--optimise", "-o", str(out), "--size", "32", "--iterations", "2", "--scales", "1", "--quiet"])
    assert code == 0
    assert out.is_file() and (tmp_path / "painted-style.png").is_file()
    settings = nst.read_metadata(out)["settings"]
    assert settings["style_scale"] == cli.DEMO_STYLE_SCALE


def test_demo_keeps_a_given_style_scale(tmp_path):
    out = tmp_path / "painted.png"
    argv = ["demo", "--optimise", "-o", str(out), "--size", "32", "--iterations", "2", "--scales", "1", "--quiet"]
    assert cli.main([*argv, "--style-scale", "2"]) == 0
    assert nst.read_metadata(out)["settings"]["style_scale"] == 2


@pytest.mark.parametrize("existing", ["painted.png", "painted-style.png"])
def test_demo_never_overwrites_silently(tmp_path, capsys, existing):
    (tmp_path / existing).write_bytes(b"mine")
    code = cli.main(["demo", "--optimise", "-o", str(tmp_path / "painted.png"), "--size", "32", "--iterations", "2"])
    assert code == cli.EXIT_USAGE
    assert (tmp_path / existing).read_bytes() == b"mine"
    assert "already exists" in capsys.readouterr().err
