"""The optimisation's tests run the real (embedded) network cut after conv2_2, built once per
session: what they check is the run (its loop, levels, tiles, state), which the deeper layers
would only make slower. Tests of what the deep layers do (the salient cut, the subject weight)
use the whole network (`deep_extractor`)."""

from __future__ import annotations

import pytest

import nst
from tests.optimise.helpers import SHALLOW


@pytest.fixture(scope="session")
def shallow_extractor():
    return nst.build_extractor(nst.StyleConfig(**SHALLOW))


@pytest.fixture(scope="session")
def deep_extractor():
    return nst.build_extractor(nst.StyleConfig())
