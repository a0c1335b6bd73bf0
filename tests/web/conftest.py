"""Fixtures of the web API tests: clients, tiny style models, a tiny decoder."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")
httpx2 = pytest.importorskip("httpx2", reason="the web extra is not installed (pip install -e '.[web]')")


from nst.models import registry  # noqa: E402
from nst.web import anypainting  # noqa: E402
from nst.web.app import Limits  # noqa: E402
from tests.web.api import PAINTINGS, make_client  # noqa: E402
from tests.web.helpers import (  # noqa: E402
    make_decoder,
    make_style_models,
)


@pytest.fixture()
def client(tmp_path):
    with make_client(tmp_path / "data") as c:
        yield c


@pytest.fixture()
def idle_client(tmp_path):
    """A server whose worker does not run: jobs stay queued."""
    with make_client(tmp_path / "data", start_worker=False, limits=Limits(max_queued=2)) as c:
        yield c


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    return make_style_models(tmp_path_factory.mktemp("models"), PAINTINGS)


@pytest.fixture()
def with_models(models_dir, monkeypatch) -> Path:
    """The tiny models are this process's bundled ones."""
    monkeypatch.setattr(registry, "bundled_dir", lambda: models_dir)
    return models_dir


@pytest.fixture()
def instant_client(tmp_path, with_models):
    # No worker: an instant job needs none, and an idle CPU keeps the tests quick.
    with make_client(tmp_path / "data", start_worker=False) as c:
        yield c


@pytest.fixture(scope="module")
def decoder_file(tmp_path_factory) -> Path:
    return make_decoder(tmp_path_factory.mktemp("decoder") / "decoder.pt")


@pytest.fixture()
def with_decoder(decoder_file, random_weights, monkeypatch) -> list[str]:
    """The tiny decoder is this process's bundled one, with a random VGG as its encoder (the real
    one takes seconds to load). Returns the devices the painter was loaded for, one per load."""
    from nst.universal import paint
    from nst.universal.store import load_decoder
    from nst.universal.torch_networks import TorchNetworks

    loads: list[str] = []

    def load(device: str) -> paint.AnyPainting:
        loads.append(device)
        return paint.AnyPainting(TorchNetworks(*load_decoder(decoder_file), device=device, weights=random_weights))

    monkeypatch.setattr(paint, "bundled_decoder_path", lambda: decoder_file)
    monkeypatch.setattr(anypainting, "load_painter", load)
    return loads


@pytest.fixture()
def any_client(tmp_path, with_decoder):
    with make_client(tmp_path / "data", start_worker=False) as c:
        yield c
