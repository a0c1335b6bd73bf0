"""Fixtures of the style-model tests: photos, a painting and a tiny model, in the test's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.models.helpers import make_photos, make_style, make_tiny_model


@pytest.fixture()
def photos(tmp_path: Path) -> Path:
    return make_photos(tmp_path / "photos")


@pytest.fixture()
def style(tmp_path: Path) -> Path:
    return make_style(tmp_path / "style.png")


@pytest.fixture()
def tiny_model(tmp_path: Path) -> Path:
    return make_tiny_model(tmp_path / "tiny.pt")
