"""What the web API tests share: a client maker, uploads, jobs, instant and any-painting requests."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")
httpx2 = pytest.importorskip("httpx2", reason="the web extra is not installed (pip install -e '.[web]')")

from fastapi.testclient import TestClient  # noqa: E402

import nst  # noqa: E402
from nst.web.app import create_app  # noqa: E402
from tests.web.helpers import (  # noqa: E402
    picture_bytes,
)

TINY = {"size": 32, "iterations": 3}
#: The network's first two blocks (tests/optimise/helpers.py), for jobs that run many iterations.
SHALLOW = {"content_layers": ["conv2_2"], "style_layers": ["conv1_1", "conv2_1"], "final_only_style_layers": [],
           "salient_quantile": 1.0, "subject_weight": 1.0}


LOCAL = "http://127.0.0.1"


def make_client(data_dir: Path, **kwargs) -> TestClient:
    kwargs.setdefault("preview_interval", 0.0)
    kwargs.setdefault("stream_interval", 0.02)
    return TestClient(create_app(data_dir, **kwargs), base_url=LOCAL)


def upload(client: TestClient, data: bytes | None = None, name: str = "picture.png", seed: int = 0) -> dict:
    response = client.post(
        "/api/images", files={"file": (name, data or picture_bytes(seed=seed), "image/png")}
    )
    assert response.status_code == 201, response.text
    return response.json()


def submit(client: TestClient, settings: dict | None = None, preset: str | None = None) -> dict:
    content, style = upload(client, seed=0), upload(client, seed=1)
    body = {
        "content_id": content["id"],
        "style_ids": [style["id"]],
        "preset": preset,
        "settings": settings or TINY,
    }
    response = client.post("/api/jobs", json=body)
    assert response.status_code == 202, response.text
    return response.json()


PAINTINGS = {"tiny": "Someone, A Tiny Painting (1900)", "other": "Another Painting"}


def instant(client: TestClient, image_id: str, **fields) -> httpx2.Response:
    return client.post("/api/instant", json={"image_id": image_id, "model": "tiny", **fields})


def paint_any(client: TestClient, image_id: str, painting_id: str, **fields) -> httpx2.Response:
    return client.post("/api/anypainting", json={"image_id": image_id, "painting_id": painting_id, **fields})


def _progress(iteration: int, scale: int, scales: int, total: int, elapsed: float) -> nst.Progress:
    import torch

    losses = nst.LossBreakdown(1.0, 2.0, 0.0, 3.0, {}, {})
    return nst.Progress(iteration, total, scale, scales, (8, 8), losses, elapsed, torch.zeros(1, 3, 8, 8))
