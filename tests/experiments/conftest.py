"""Fixtures of the experiment tests: two photos and two paintings in the test's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.experiments.helpers import pictures


@pytest.fixture()
def images(tmp_path: Path) -> dict[str, Path]:
    return pictures(tmp_path)
