"""Fixtures of the video tests: the bundled style model, once per session, and a short clip."""

from __future__ import annotations

from pathlib import Path

import pytest

import nst


@pytest.fixture(scope="session")
def model():
    return nst.load_style_model("starry-night")


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    from nst.video.synthetic import pan_zoom, write_clip

    return write_clip(tmp_path / "pan.mp4", pan_zoom(64, 48, 10))
