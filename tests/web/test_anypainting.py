"""Any painting over the API: a tiny untrained decoder with a random VGG."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")
httpx2 = pytest.importorskip("httpx2", reason="the web extra is not installed (pip install -e '.[web]')")


import nst  # noqa: E402
from nst.web.app import Limits  # noqa: E402
from nst.web.store import Store  # noqa: E402
from tests.web.api import make_client, paint_any, submit, upload  # noqa: E402
from tests.web.helpers import (  # noqa: E402
    picture_bytes,
)


def test_any_painting_paints_the_photo_in_the_style_of_an_upload(any_client, with_decoder, tmp_path):
    info = any_client.get("/api/info").json()
    assert info["anypainting"] is True and info["stroke_scales"] == [0.25, 4.0]
    assert with_decoder == []  # loaded on the first picture, not before
    photo, painting = upload(any_client, picture_bytes(64, 48)), upload(any_client, seed=1)
    response = paint_any(
        any_client, photo["id"], painting["id"], size=48, strength=0.5, preserve_color="luminance",
        stroke_scale=2,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    job = response.json()
    assert response.headers["Location"] == f"/api/jobs/{job['id']}"
    assert (job["status"], job["kind"], job["model"]) == ("done", "anypainting", None)
    settings = {"size": 48, "strength": 0.5, "preserve_color": "luminance", "stroke_scale": 2.0}
    assert job["settings"] == settings and job["overrides"] == settings
    assert job["content_url"] == photo["url"]
    assert job["style_ids"] == [painting["id"]] and job["style_urls"] == [painting["url"]]
    assert (job["result"]["width"], job["result"]["height"]) == (48, 36) and job["result"]["elapsed"] < 60
    # The picture, with its settings inside, written where optimised results go.
    served = any_client.get(job["result_url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert nst.image.load_pil(served.content).size == (48, 36)
    metadata = nst.read_metadata(tmp_path / "data" / "results" / f"{job['id']}.png")
    assert (metadata["engine"], metadata["settings"], metadata["job"]) == ("anypainting", settings, job["id"])
    assert metadata["config"]["stroke_scale"] == 2.0 and metadata["config"]["max_style_size"] == 1024
    # The gallery lists it like any finished job; both its uploads are kept while it is there.
    listed = any_client.get("/api/jobs").json()
    assert [j["id"] for j in listed["jobs"]] == [job["id"]] and listed["counts"] == {"done": 1}
    assert any_client.get(f"/api/jobs/{job['id']}").json() == job
    assert any_client.delete(photo["url"]).status_code == 409
    assert any_client.delete(painting["url"]).status_code == 409
    # The painter is loaded once and kept.
    assert paint_any(any_client, photo["id"], painting["id"], size=32).status_code == 201
    assert with_decoder == ["cpu"]
    for listed_job in any_client.get("/api/jobs").json()["jobs"]:
        assert any_client.delete(f"/api/jobs/{listed_job['id']}").status_code == 204
    assert list((tmp_path / "data" / "results").iterdir()) == []
    assert any_client.delete(painting["url"]).status_code == 204


def test_an_any_painting_picture_defaults_to_the_full_style_at_the_servers_size(tmp_path, with_decoder):
    with make_client(tmp_path / "data", start_worker=False, limits=Limits(max_size=96)) as c:
        photo, painting = upload(c, picture_bytes(64, 48)), upload(c, seed=1)
        job = paint_any(c, photo["id"], painting["id"]).json()
    assert job["settings"] == {"size": 96, "strength": 1.0, "preserve_color": "none", "stroke_scale": 1.0}
    assert job["overrides"] == {}
    assert (job["result"]["width"], job["result"]["height"]) == (96, 72)
    store = Store(tmp_path / "data")
    try:
        assert store.recent_durations() == []  # seconds: no guide to the queue's minutes
        metadata = nst.read_metadata(store.result_path(job["id"]))
        assert metadata["config"]["max_style_size"] == 96  # the painting is no larger than allowed
    finally:
        store.close()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"stroke_scale": 0.1}, "stroke_scale must be between 0.25 and 4, got 0.1"),
        ({"stroke_scale": 5}, "stroke_scale must be between 0.25 and 4, got 5.0"),
        ({"stroke_scale": 0}, "stroke_scale must be between 0.25 and 4"),
        ({"stroke_scale": -1}, "stroke_scale must be between 0.25 and 4"),
        ({"strength": 1.5}, "strength must be between 0"),
        ({"preserve_color": "histogram"}, "preserve_color must be one of none, luminance"),
        ({"size": 4096}, "limit of 1024 px"),
        ({"size": 8}, "size must be between 16"),
    ],
)
def test_bad_any_painting_requests_are_refused_with_one_line(
    any_client, with_decoder, tmp_path, fields, message
):
    photo, painting = upload(any_client), upload(any_client, seed=1)
    response = paint_any(any_client, photo["id"], painting["id"], **fields)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert message in detail and "\n" not in detail
    assert any_client.get("/api/jobs").json()["jobs"] == []
    assert list((tmp_path / "data" / "results").iterdir()) == []
    assert with_decoder == []  # refused before anything was loaded


def test_an_any_painting_request_takes_ids_and_its_settings_only(any_client, tmp_path):
    photo, painting = upload(any_client), upload(any_client, seed=1)
    ids = {"image_id": photo["id"], "painting_id": painting["id"]}
    for field in ("model", "decoder", "weights", "path", "device", "max_style_size", "tile_size",
                  "transform", "style_blend"):  # fmt: skip
        response = any_client.post("/api/anypainting", json={**ids, field: str(tmp_path / "x.pt")})
        assert response.status_code == 422, (field, response.text)
        assert response.json()["detail"][0]["type"] == "extra_forbidden"
    for bad in ("../etc/passwd", str(tmp_path / "painting.png"), "F" * 32, ""):
        assert any_client.post("/api/anypainting", json={**ids, "painting_id": bad}).status_code == 422
    assert any_client.post("/api/anypainting", json={"image_id": photo["id"]}).status_code == 422
    assert any_client.post("/api/anypainting", json={**ids, "stroke_scale": "big"}).status_code == 422
    assert any_client.get("/api/jobs").json()["jobs"] == []


def test_an_any_painting_picture_of_a_missing_or_unreadable_upload(any_client, tmp_path):
    photo, painting = upload(any_client), upload(any_client, seed=1)
    for ids in ((photo["id"], "f" * 32), ("f" * 32, painting["id"])):
        missing = paint_any(any_client, *ids)
        assert missing.status_code == 404 and missing.json()["detail"] == f"no such image: {'f' * 32}"
    (tmp_path / "data" / "images" / f"{painting['id']}.png").write_bytes(b"garbage")
    unreadable = paint_any(any_client, photo["id"], painting["id"])
    assert unreadable.status_code == 400
    detail = unreadable.json()["detail"]
    assert (
        "the stored painting cannot be read" in detail and "\n" not in detail and str(tmp_path) not in detail
    )
    assert any_client.get("/api/jobs").json()["jobs"] == []


def test_a_server_without_a_usable_decoder_says_so(client, tmp_path, monkeypatch):
    from nst.universal import paint

    photo, painting = upload(client), upload(client, seed=1)
    decoder = tmp_path / "secret" / "decoder.pt"
    monkeypatch.setattr(paint, "bundled_decoder_path", lambda: decoder)
    monkeypatch.setattr(paint, "bundled_onnx_paths", lambda: (decoder.with_suffix(".onnx"),) * 2)
    assert client.get("/api/info").json()["anypainting"] is False
    absent = paint_any(client, photo["id"], painting["id"])
    assert absent.status_code == 503
    assert absent.json()["detail"] == "this server has no any-painting decoder"
    decoder.parent.mkdir()
    decoder.write_bytes(b"not a decoder")  # there, but damaged
    assert client.get("/api/info").json()["anypainting"] is True
    damaged = paint_any(client, photo["id"], painting["id"])
    assert damaged.status_code == 503
    assert damaged.json()["detail"] == "this server's any-painting decoder cannot be loaded"
    assert client.get("/api/jobs").json()["jobs"] == []


def test_any_painting_takes_the_instant_turn_and_a_crowd_gets_429(any_client, with_decoder):
    photo, painting = upload(any_client), upload(any_client, seed=1)
    painter = any_client.app.state.server.painter  # the style models' turn, shared
    painter._admitted = painter.max_waiting + 1  # one painting and a full line waiting
    try:
        response = paint_any(any_client, photo["id"], painting["id"], size=32)
    finally:
        painter._admitted = 0
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert any_client.get("/api/jobs").json()["jobs"] == []
    assert paint_any(any_client, photo["id"], painting["id"], size=32).status_code == 201


def test_a_jobs_error_names_no_decoder_file(idle_client):
    # init "instant" starts an optimisation from the decoder's picture; its errors name the file.
    from nst.universal.paint import bundled_decoder_path

    job = idle_client.app.state.server.store.get_job(submit(idle_client)["id"])
    queue = idle_client.app.state.server.queue
    message = f"decoder file '{bundled_decoder_path()}' does not exist"
    assert queue._public(job, message) == "the any-painting decoder does not exist"
