"""What a client may send, in-process (FastAPI's TestClient): settings, job requests, names, uploads, bodies and paths (nst.web.guard, nst.web.uploads)."""

from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")
httpx2 = pytest.importorskip("httpx2", reason="the web extra is not installed (pip install -e '.[web]')")


import nst  # noqa: E402
from nst.web.guard import CLIENT_SETTINGS  # noqa: E402
from tests.web.api import instant, submit, upload  # noqa: E402
from tests.web.helpers import (  # noqa: E402
    blank_png,
    picture_bytes,
)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"size": 32, "colour": "red"}, "unknown setting"),
        ({"size": 32, "init": "/etc/passwd"}, "init must be one of content, noise"),
        ({"size": 32, "weights": "/tmp/evil.pth"}, "weights cannot be set through the web API"),
        ({"size": 32, "weights": "vgg19-torchvision"}, "weights cannot be set"),  # a download
        ({"size": 32, "mask": "/tmp/mask.png"}, "mask cannot be set through the web API"),
        ({"size": 32, "style_layers": None}, "style_layers must be a list of strings, got None"),
        ({"size": 32, "content_layers": "conv4_2"}, "content_layers must be a list of strings"),
        ({"size": "32"}, "size must be an integer or null, got '32'"),
        ({"size": 32, "tv_weight": "lots"}, "tv_weight must be a number"),
        ({"size": 32, "style_layers": ["conv1_1"] * 500}, "style_layers names conv1_1 more than once"),
        ({"size": 32, "style_blend": [1, 2]}, "style_blend has 2 weight(s) for 1 painting(s)"),
        # A tiled level runs its iterations once per tile: 1024 px in 64 px tiles is 441 tiles.
        ({"size": 1024, "tile_size": 64, "iterations": 20}, "iterations in all is over this server's limit"),
        ({"size": 4096}, "over this server's limit"),
        ({"size": 32, "iterations": 100_000}, "over this server's limit"),
        ({"size": 32, "style_size": 4096}, "over this server's limit"),
        ({"size": 32, "content_weight": -1}, "content_weight must be"),
        ({"size": 32, "optimizer": "sgd"}, "optimizer must be one of"),
    ],
)
def test_bad_settings_are_refused_with_one_line(idle_client, settings, message):
    content, style = upload(idle_client), upload(idle_client, seed=1)
    body = {"content_id": content["id"], "style_ids": [style["id"]], "settings": settings}
    response = idle_client.post("/api/jobs", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["detail"] and "\n" not in response.json()["detail"]
    assert idle_client.get("/api/jobs").json()["jobs"] == []


def test_bad_job_requests(idle_client):
    image = upload(idle_client)
    unknown = idle_client.post("/api/jobs", json={"content_id": "f" * 32, "style_ids": [image["id"]]})
    assert unknown.status_code == 404
    malformed = idle_client.post("/api/jobs", json={"content_id": "../x", "style_ids": [image["id"]]})
    assert malformed.status_code == 422
    no_style = idle_client.post("/api/jobs", json={"content_id": image["id"], "style_ids": []})
    assert no_style.status_code == 422
    preset = idle_client.post(
        "/api/jobs", json={"content_id": image["id"], "style_ids": [image["id"]], "preset": "nope"}
    )
    assert preset.status_code == 400 and "unknown preset" in preset.json()["detail"]


def test_the_allowlist_leaves_out_exactly_the_settings_that_name_files():
    fields = {f.name for f in dataclasses.fields(nst.StyleConfig)}
    assert CLIENT_SETTINGS <= fields
    # A field the core gains later is refused until someone judges it safe and lists it.
    assert fields - CLIENT_SETTINGS == {"mask", "weights"}


@pytest.mark.parametrize(
    ("name", "template"),
    [("mask", "{path}"), ("weights", "{path}"), ("init", "{path}"), ("init", "model:{path}")],
)
def test_a_setting_that_names_a_file_is_refused_alike_whether_it_exists_or_not(
    idle_client, tmp_path, name, template
):
    real = tmp_path / "on-the-server.png"
    real.write_bytes(picture_bytes(300, 200))
    content, style = upload(idle_client), upload(idle_client, seed=1)
    details = []
    for path in (real, tmp_path / "missing.png", tmp_path):
        settings = {"size": 32, name: template.format(path=path)}
        body = {"content_id": content["id"], "style_ids": [style["id"]], "settings": settings}
        response = idle_client.post("/api/jobs", json=body)
        assert response.status_code == 400, response.text
        details.append(response.json()["detail"])
    # One line that says nothing of the file: not whether it exists, nor what it is, nor its size.
    assert details[0] == details[1] == details[2]
    assert "\n" not in details[0] and str(tmp_path) not in details[0]
    assert idle_client.get("/api/jobs").json()["jobs"] == []


def test_a_jobs_own_settings_can_be_sent_back(idle_client):
    # They include the file settings at the values the server uses anyway (no mask, built-in weights).
    first = submit(idle_client)
    assert (first["settings"]["mask"], first["settings"]["weights"]) == (None, "vgg19-caffe")
    again = submit(idle_client, first["settings"])
    assert again["settings"] == first["settings"]


def test_a_job_of_an_older_nst_sent_back_is_painted_as_nst_paints_now():
    from nst.web.guard import Limits, resolve_settings

    today = resolve_settings(None, {"size": 64}, "cpu", Limits())
    # level_detail and padding are settings nst no longer has (RETIRED_SETTINGS).
    assert resolve_settings(None, {"size": 64, "level_detail": True, "padding": "zeros"}, "cpu", Limits()) == today


def test_a_request_takes_no_fields_beyond_its_schema(idle_client, with_models, tmp_path):
    image = upload(idle_client)
    for field in ("mask", "weights", "init", "path", "device"):
        job = {"content_id": image["id"], "style_ids": [image["id"]], field: str(tmp_path / "x.png")}
        painted = {"image_id": image["id"], "model": "tiny", field: str(tmp_path / "x.png")}
        for path, body in (("/api/jobs", job), ("/api/instant", painted)):
            response = idle_client.post(path, json=body)
            assert response.status_code == 422, (path, response.text)
            assert response.json()["detail"][0]["type"] == "extra_forbidden"
    assert idle_client.get("/api/jobs").json()["jobs"] == []


def test_a_style_model_is_only_ever_a_name(idle_client, with_models, models_dir, tmp_path):
    photo = upload(idle_client)
    details = []
    for path in (models_dir / "tiny.onnx", models_dir / "tiny", tmp_path / "missing.onnx"):
        response = instant(idle_client, photo["id"], model=str(path))
        assert response.status_code == 400, response.text
        details.append(response.json()["detail"].replace(str(path), "PATH"))
    assert details == ["unknown style model 'PATH' (models: other, tiny)"] * 3
    assert idle_client.get("/api/jobs").json()["jobs"] == []


def test_an_upload_with_too_many_pixels_says_so(client, tmp_path):
    # A valid PNG of 400 Mpx: over twice Pillow's own limit, where it will not say how large.
    huge = blank_png(20_000, 20_000)
    response = client.post("/api/images", files={"file": ("huge.png", huge, "image/png")})
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "the image is 20000x20000 (400.0 Mpx): too many pixels; the limit is 40.0 Mpx"
    )
    assert list((tmp_path / "data" / "images").iterdir()) == []


def test_an_upload_no_job_could_use_is_refused(client):
    response = client.post("/api/images", files={"file": ("strip.png", blank_png(2100, 100), "image/png")})
    assert response.status_code == 400
    assert (
        response.json()["detail"] == "the image is 2100x100: more elongated than 20:1, which no job can use"
    )
    assert client.post("/api/images", files={"file": ("ok.png", blank_png(2000, 100))}).status_code == 201


def test_request_bodies_other_than_uploads_are_small(idle_client):
    image = upload(idle_client)
    ids = {"content_id": image["id"], "style_ids": [image["id"]]}
    big = idle_client.post("/api/jobs", json={**ids, "settings": {"style_layers": ["conv1_1"] * 10_000}})
    assert big.status_code == 413 and big.json()["detail"] == "the request is over 64 KiB"
    assert idle_client.post("/api/jobs", json={**ids, "preset": "x" * 1000}).status_code == 422
    assert (
        idle_client.post("/api/instant", json={"image_id": image["id"], "model": "x" * 1000}).status_code
        == 422
    )
    assert idle_client.get("/api/jobs").json()["jobs"] == []


def test_query_parameters_and_static_paths_are_checked(client):
    for query in ("limit=0", "limit=501", "limit=x", "status=deleted", "status=done%0A"):
        assert client.get(f"/api/jobs?{query}").status_code == 422, query
    assert client.get("/api/jobs?limit=500&status=done").status_code == 200
    assert client.get(f"/api/jobs/{'a' * 32}/result?download=maybe").status_code == 422
    for path in ("/static/..%2Fapp.py", "/static/%2e%2e/app.py", "/static/..%2F..%2Fnst%2F__init__.py"):
        assert client.get(path).status_code == 404, path
