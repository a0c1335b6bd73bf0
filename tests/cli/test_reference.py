"""docs/options.md is the configs' field metadata, as `--help` shows it."""

from __future__ import annotations

from pathlib import Path

from nst.cli.reference import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "options.md"


def test_the_options_page_is_current():
    assert DOC.read_text() == render(), "run: python -m nst.cli.reference > docs/options.md"


def test_the_options_page_names_every_setting_of_the_three_configs():
    text = render()
    for option in ("--style-weight B", "--stroke-scale X", "--residual-blocks N", "--preserve-color none\\|"):
        assert option in text
