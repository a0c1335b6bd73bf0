"""The REST API in-process (FastAPI's TestClient), plus a real server killed mid-job.

Jobs are tiny (32-48 px, a few iterations) and use the real network, so a job takes about a
second on one CPU core. Instant styles use tiny untrained style models made once per module, and
any-painting pictures a tiny untrained decoder with a random VGG.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install 'nst[web]')")
httpx2 = pytest.importorskip("httpx2", reason="the web extra is not installed (pip install 'nst[web]')")

from fastapi.testclient import TestClient  # noqa: E402

import nst  # noqa: E402
from nst.cli.serve import is_loopback  # noqa: E402
from nst.models import registry  # noqa: E402
from nst.optimise.config import PRESETS  # noqa: E402
from nst.web import anypainting  # noqa: E402
from nst.web.app import Limits, create_app  # noqa: E402
from nst.web.guard import CLIENT_SETTINGS  # noqa: E402
from nst.web.instant import InstantPainter  # noqa: E402
from nst.web.jobs import QueueFull  # noqa: E402
from nst.web.progress import ProgressTracker  # noqa: E402
from nst.web.routes.page import STATIC_DIR  # noqa: E402
from nst.web.store import RUNNING, Store  # noqa: E402
from tests.web_helpers import (  # noqa: E402
    blank_png,
    make_decoder,
    make_style_models,
    picture_bytes,
    running_server,
    wait_for_job,
)

TINY = {"size": 32, "iterations": 3}
LOCAL = "http://127.0.0.1"


def make_client(data_dir: Path, **kwargs) -> TestClient:
    kwargs.setdefault("preview_interval", 0.0)
    kwargs.setdefault("stream_interval", 0.02)
    return TestClient(create_app(data_dir, **kwargs), base_url=LOCAL)


@pytest.fixture()
def client(tmp_path):
    with make_client(tmp_path / "data") as c:
        yield c


@pytest.fixture()
def idle_client(tmp_path):
    """A server whose worker does not run: jobs stay queued."""
    with make_client(tmp_path / "data", start_worker=False, limits=Limits(max_queued=2)) as c:
        yield c


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


# Info and schema ---------------------------------------------------------------------------------


def test_info_describes_defaults_presets_and_limits(client):
    info = client.get("/api/info").json()
    assert info["version"] == nst.__version__
    assert info["device"] == "cpu"
    assert info["defaults"] == nst.StyleConfig().to_dict()
    assert info["default_size"] == nst.StyleConfig().resolve_size("cpu")
    assert set(info["presets"]) == set(PRESETS)
    for name, settings in info["presets"].items():
        assert settings == nst.StyleConfig.preset(name).to_dict()
    assert info["preserve_color_modes"] == ["none", "luminance", "histogram"]
    assert info["limits"]["max_queued"] == 16
    assert info["counts"] == {}


def test_openapi_schema_documents_every_endpoint(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/info", "/api/images", "/api/images/{image_id}", "/api/jobs", "/api/jobs/{job_id}",
        "/api/jobs/{job_id}/events", "/api/jobs/{job_id}/preview", "/api/jobs/{job_id}/result",
        "/api/jobs/{job_id}/cancel", "/api/models", "/api/instant", "/api/anypainting",
    ):  # fmt: skip
        assert path in paths, path
    assert "429" in paths["/api/jobs"]["post"]["responses"]
    # The interactive docs would load scripts from a CDN: not served.
    assert client.get("/docs").status_code == 404


def test_page_and_assets_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/static/main.js">' in page.text
    scripts = sorted(p.name for p in STATIC_DIR.glob("*.js"))
    assert "main.js" in scripts and len(scripts) > 1
    for asset in ("/static/style.css", "/static/favicon.svg", *(f"/static/{name}" for name in scripts)):
        response = client.get(asset)
        assert response.status_code == 200, asset
        if asset.endswith(".js"):  # module scripts need a JavaScript type (and nosniff is on)
            assert "javascript" in response.headers["content-type"], asset
            imported = re.findall(r'from "\./([\w.]+)"', response.text)
            assert set(imported) <= set(scripts), (asset, imported)
    # Nothing the page loads comes from another host.
    assert "http://" not in page.text.replace("http://www.w3.org", "") and "https://" not in page.text


# Uploads -----------------------------------------------------------------------------------------


def test_upload_is_stored_under_a_server_id_and_served_back(client, tmp_path):
    image = upload(client, picture_bytes(64, 48), name="../../etc/passwd.png")
    assert len(image["id"]) == 32 and set(image["id"]) <= set("0123456789abcdef")
    assert (image["width"], image["height"]) == (64, 48)
    served = client.get(image["url"])
    assert served.headers["content-type"] == "image/png"
    assert nst.image.load_pil(served.content).size == (64, 48)
    # The client's file name went nowhere.
    stored = sorted(p.name for p in (tmp_path / "data" / "images").iterdir())
    assert stored == [f"{image['id']}.png"]


def test_thumbnails_are_small_jpegs_made_once(tmp_path):
    with make_client(tmp_path / "data", start_worker=False) as c:
        image = upload(c, picture_bytes(400, 200))
        thumb = c.get(f"{image['url']}/thumbnail")
        assert thumb.headers["content-type"] == "image/jpeg"
        assert nst.image.load_pil(thumb.content).size == (192, 96)
        assert c.get(f"{image['url']}/thumbnail").content == thumb.content
        assert c.delete(image["url"]).status_code == 204
        assert list((tmp_path / "data" / "images").iterdir()) == []


def test_upload_is_judged_by_content_not_by_name(client):
    jpeg = picture_bytes(40, 30, fmt="JPEG")
    accepted = client.post("/api/images", files={"file": ("notes.txt", jpeg, "text/plain")})
    assert accepted.status_code == 201
    refused = client.post("/api/images", files={"file": ("photo.png", b"<svg>not a png</svg>", "image/png")})
    assert refused.status_code == 400
    assert "not an image" in refused.json()["detail"]
    truncated = client.post(
        "/api/images", files={"file": ("photo.jpg", jpeg[: len(jpeg) // 2], "image/jpeg")}
    )
    assert truncated.status_code == 400
    assert "\n" not in truncated.json()["detail"]
    empty = client.post("/api/images", files={"file": ("e.png", b"", "image/png")})
    assert empty.status_code == 400


def test_upload_over_the_byte_limit_is_refused_before_parsing(tmp_path):
    with make_client(tmp_path / "data", limits=Limits(max_upload_bytes=4096)) as c:
        # Over the body cap: refused from Content-Length alone.
        response = c.post("/api/images", files={"file": ("big.png", b"\0" * 200_000, "image/png")})
        assert response.status_code == 413
        # Under the body cap but over the upload limit: refused by the endpoint.
        assert len(picture_bytes(120, 120)) > 4096
        slightly = c.post("/api/images", files={"file": ("big.png", picture_bytes(120, 120), "image/png")})
        assert slightly.status_code == 413
        assert list((tmp_path / "data" / "images").iterdir()) == []


def test_upload_over_the_pixel_limit_is_refused_without_decoding(tmp_path):
    with make_client(tmp_path / "data", limits=Limits(max_pixels=1000)) as c:
        response = c.post("/api/images", files={"file": ("p.png", picture_bytes(64, 48), "image/png")})
        assert response.status_code == 400
        assert "Mpx" in response.json()["detail"]
        assert list((tmp_path / "data" / "images").iterdir()) == []


def test_large_upload_is_kept_at_the_largest_output_size(tmp_path):
    with make_client(tmp_path / "data", limits=Limits(max_size=64)) as c:
        image = upload(c, picture_bytes(200, 100))
        assert (image["width"], image["height"]) == (64, 32)


def test_ids_in_urls_must_be_server_ids(client):
    assert client.get("/api/images/..%2F..%2Fnst.sqlite3").status_code in (404, 422)
    assert client.get("/api/images/not-an-id").status_code == 422
    assert client.get("/api/images/" + "0" * 32).status_code == 404
    assert client.get("/api/jobs/" + "a" * 31).status_code == 422
    assert client.get("/api/jobs/" + "a" * 32).status_code == 404


def test_an_image_a_job_uses_cannot_be_deleted(idle_client):
    job = submit(idle_client)
    assert idle_client.delete(f"/api/images/{job['content_id']}").status_code == 409
    spare = upload(idle_client)
    assert idle_client.delete(f"/api/images/{spare['id']}").status_code == 204
    assert idle_client.get(spare["url"]).status_code == 404


# Jobs --------------------------------------------------------------------------------------------


def test_a_job_runs_to_a_result_with_its_settings(client, tmp_path):
    job = submit(client, {"size": 32, "iterations": 3, "style_weight": 1e3})
    assert job["status"] in ("queued", "running")
    done = wait_for_job(client, job["id"], {"done", "failed"})
    assert done["status"] == "done", done["error"]
    assert done["settings"]["size"] == 32 and done["settings"]["style_weight"] == 1e3
    assert done["overrides"] == {"size": 32, "iterations": 3, "style_weight": 1e3}
    assert done["result"]["iterations"] == 3
    assert max(done["result"]["width"], done["result"]["height"]) == 32
    assert done["finished"] >= done["started"] >= done["created"]
    result = client.get(done["result_url"])
    assert result.headers["content-type"] == "image/png"
    path = tmp_path / "data" / "results" / f"{job['id']}.png"
    assert path.read_bytes() == result.content
    assert nst.read_metadata(path)["settings"] == done["settings"]
    download = client.get(done["result_url"], params={"download": "true"})
    assert download.headers["content-disposition"].startswith("attachment")
    listed = client.get("/api/jobs").json()
    assert [j["id"] for j in listed["jobs"]] == [job["id"]]
    assert listed["counts"] == {"done": 1}


def test_a_preset_is_the_base_and_settings_override_it(idle_client):
    name = next(iter(PRESETS))
    job = submit(idle_client, {"size": 48, "style_weight": 5.0}, preset=name)
    expected = nst.StyleConfig.preset(name).with_changes(size=48, style_weight=5.0).to_dict()
    assert job["settings"] == expected
    assert job["preset"] == name


def test_progress_streams_as_server_sent_events(tmp_path):
    with make_client(tmp_path / "data") as c:
        job = submit(c, {"size": 32, "iterations": 40, "tolerance": 0.0})
        events: list[tuple[str, dict]] = []
        with c.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            name = None
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    events.append((name, json.loads(line[6:])))
                    if name == "end":
                        break
    names = [n for n, _ in events]
    assert names[-1] == "end" and events[-1][1] == {"status": "done"}
    jobs = [data for n, data in events if n == "job"]
    assert jobs[-1]["status"] == "done"
    progress = [j["progress"] for j in jobs if j["progress"]]
    assert len(progress) >= 2, "no progress was streamed"
    iterations = [p["iteration"] for p in progress]
    assert iterations == sorted(iterations) and iterations[-1] > iterations[0]
    last = progress[-1]
    assert set(last["losses"]) == {"content", "style", "tv", "total"}
    assert 0 < last["fraction"] <= 1 and last["eta_seconds"] is not None
    assert any(p["preview_url"] for p in progress)


def test_preview_is_a_png_while_running(tmp_path):
    with make_client(tmp_path / "data") as c:
        job = submit(c, {"size": 32, "iterations": 2000, "tolerance": 0.0})
        deadline = time.monotonic() + 60
        while True:
            state = c.get(f"/api/jobs/{job['id']}").json()
            if state["progress"] and state["progress"]["preview_url"]:
                break
            assert time.monotonic() < deadline, "no preview appeared"
            time.sleep(0.05)
        preview = c.get(state["progress"]["preview_url"])
        assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
        assert max(nst.image.load_pil(preview.content).size) == 32
        c.post(f"/api/jobs/{job['id']}/cancel")
        wait_for_job(c, job["id"], {"cancelled"})
        assert c.get(f"/api/jobs/{job['id']}/preview").status_code == 404


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"size": 32, "colour": "red"}, "unknown setting"),
        ({"size": 32, "init": "/etc/passwd"}, "init must be one of content, noise"),
        ({"size": 32, "weights": "/tmp/evil.pth"}, "weights cannot be set through the web API"),
        ({"size": 32, "weights": "vgg19-torchvision"}, "weights cannot be set"),  # a download
        ({"size": 32, "mask": "/tmp/mask.png"}, "mask cannot be set through the web API"),
        ({"size": 32, "salient_layers": None}, "salient_layers must be a list of strings, got None"),
        ({"size": 32, "content_layers": "conv4_2"}, "content_layers must be a list of strings"),
        ({"size": "32"}, "size must be an integer or null, got '32'"),
        ({"size": 32, "level_detail": "yes"}, "level_detail must be true or false"),
        ({"size": 32, "style_layers": ["conv1_1"] * 500}, "style_layers names conv1_1 more than once"),
        ({"size": 32, "style_blend": [1, 2]}, "style_blend has 2 weight(s) for 1 painting(s)"),
        ({"size": 32, "history_size": 10_000}, "history_size 10000 is over this server's limit of 100"),
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


# What a client may name ---------------------------------------------------------------------------


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


def test_a_full_queue_answers_429_with_retry_after(idle_client):
    first, second = submit(idle_client), submit(idle_client)
    assert (first["queue_position"], second["queue_position"]) == (1, 2)
    content, style = upload(idle_client), upload(idle_client, seed=1)
    body = {"content_id": content["id"], "style_ids": [style["id"]], "settings": TINY}
    response = idle_client.post("/api/jobs", json=body)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    # Cancelling a waiting job frees its place.
    assert idle_client.post(f"/api/jobs/{first['id']}/cancel").json()["status"] == "cancelled"
    assert idle_client.post("/api/jobs", json=body).status_code == 202


def test_cancel_stops_a_running_job_and_keeps_nothing(client, tmp_path):
    job = submit(client, {"size": 32, "iterations": 5000, "tolerance": 0.0})
    wait_for_job(client, job["id"], {"running"})
    client.post(f"/api/jobs/{job['id']}/cancel")
    cancelled = wait_for_job(client, job["id"], {"cancelled", "done", "failed"}, timeout=30)
    assert cancelled["status"] == "cancelled"
    assert cancelled["result_url"] is None
    assert list((tmp_path / "data" / "results").iterdir()) == []
    # The worker is free again.
    after = submit(client)
    assert wait_for_job(client, after["id"], {"done", "failed"})["status"] == "done"


def test_delete_removes_a_job_and_its_result(client, tmp_path):
    job = submit(client)
    wait_for_job(client, job["id"], {"done"})
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
    assert client.get(f"/api/jobs/{job['id']}").status_code == 404
    assert client.get(f"/api/jobs/{job['id']}/result").status_code == 404
    assert list((tmp_path / "data" / "results").iterdir()) == []
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 404


def test_deleting_a_running_job_leaves_no_file_behind(client, tmp_path):
    job = submit(client, {"size": 32, "iterations": 5000, "tolerance": 0.0})
    wait_for_job(client, job["id"], {"running"})
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
    after = submit(client)
    assert wait_for_job(client, after["id"], {"done", "failed"})["status"] == "done"
    assert sorted(p.name for p in (tmp_path / "data" / "results").iterdir()) == [f"{after['id']}.png"]


def test_a_job_whose_image_is_unreadable_fails_with_a_message(client, tmp_path):
    content, style = upload(client), upload(client, seed=1)
    (tmp_path / "data" / "images" / f"{content['id']}.png").write_bytes(b"garbage")
    body = {"content_id": content["id"], "style_ids": [style["id"]], "settings": TINY}
    job = client.post("/api/jobs", json=body).json()
    failed = wait_for_job(client, job["id"], {"done", "failed"})
    assert failed["status"] == "failed"
    assert "the photo" in failed["error"] and "\n" not in failed["error"]
    assert str(tmp_path) not in failed["error"] and "data folder" not in failed["error"]


# Instant styles ----------------------------------------------------------------------------------

PAINTINGS = {"tiny": "Someone, A Tiny Painting (1900)", "other": "Another Painting"}


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


def instant(client: TestClient, image_id: str, **fields) -> httpx2.Response:
    return client.post("/api/instant", json={"image_id": image_id, "model": "tiny", **fields})


def test_models_lists_the_bundled_models_cards(instant_client):
    models = instant_client.get("/api/models").json()["models"]
    assert [m["name"] for m in models] == ["other", "tiny"]
    assert [m["painting"] for m in models] == [PAINTINGS["other"], PAINTINGS["tiny"]]
    assert "config" not in models[0]  # training settings stay private
    info = instant_client.get("/api/info").json()
    assert info["models"] == models and info["instant_size"] == 1024


def test_no_bundled_models_means_an_empty_list(client, tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "bundled_dir", lambda: tmp_path / "none")
    assert client.get("/api/models").json() == {"models": []}
    photo = upload(client)
    refused = instant(client, photo["id"])
    assert refused.status_code == 400 and "none on this server" in refused.json()["detail"]


def test_an_instant_picture_is_painted_at_once_and_kept_in_the_gallery(instant_client, tmp_path):
    photo = upload(instant_client, picture_bytes(64, 48))
    response = instant(instant_client, photo["id"], size=48, strength=0.5, preserve_color="luminance")
    assert response.status_code == 201, response.text
    job = response.json()
    assert response.headers["Location"] == f"/api/jobs/{job['id']}"
    assert (job["status"], job["kind"], job["model"]) == ("done", "instant", "tiny")
    assert job["settings"] == {"model": "tiny", "size": 48, "strength": 0.5, "preserve_color": "luminance"}
    assert job["overrides"] == {"model": "tiny", "size": 48, "strength": 0.5, "preserve_color": "luminance"}
    assert (job["result"]["width"], job["result"]["height"]) == (48, 36)
    assert job["result"]["painting"] == PAINTINGS["tiny"] and job["result"]["elapsed"] < 30
    assert job["content_url"] == photo["url"] and job["style_ids"] == [] and job["style_urls"] == []
    # The picture, with its settings inside, written where optimised results go.
    served = instant_client.get(job["result_url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert nst.image.load_pil(served.content).size == (48, 36)
    path = tmp_path / "data" / "results" / f"{job['id']}.png"
    assert path.read_bytes() == served.content
    metadata = nst.read_metadata(path)
    assert metadata["settings"] == job["settings"] and metadata["job"] == job["id"]
    assert metadata["painting"] == PAINTINGS["tiny"]
    # The gallery lists it like any finished job; its photo is kept while it is there.
    listed = instant_client.get("/api/jobs").json()
    assert [j["id"] for j in listed["jobs"]] == [job["id"]] and listed["counts"] == {"done": 1}
    assert instant_client.get(f"/api/jobs/{job['id']}").json() == job
    assert instant_client.delete(photo["url"]).status_code == 409
    assert instant_client.delete(f"/api/jobs/{job['id']}").status_code == 204
    assert list((tmp_path / "data" / "results").iterdir()) == []


def test_an_instant_picture_defaults_to_the_full_style_at_the_servers_size(tmp_path, with_models):
    with make_client(tmp_path / "data", start_worker=False, limits=Limits(max_size=96)) as c:
        assert c.get("/api/info").json()["instant_size"] == 96
        photo = upload(c, picture_bytes(64, 48))
        job = instant(c, photo["id"], model="other").json()
        assert job["settings"] == {"model": "other", "size": 96, "strength": 1.0, "preserve_color": "none"}
        assert job["overrides"] == {"model": "other"}
        assert (job["result"]["width"], job["result"]["height"]) == (96, 72)


def test_the_strength_blends_with_the_photo(instant_client):
    photo = upload(instant_client, picture_bytes(32, 32))
    none = instant(instant_client, photo["id"], size=32, strength=0.0).json()
    picture = nst.image.load_pil(instant_client.get(none["result_url"]).content)
    original = nst.image.load_pil(instant_client.get(photo["url"]).content)
    assert picture.tobytes() == original.tobytes()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"model": "nope"}, "unknown style model 'nope' (models: other, tiny)"),
        ({"model": str(Path(__file__))}, "unknown style model"),  # a path is only a name here
        ({"strength": 1.5}, "strength must be between 0"),
        ({"strength": -0.1}, "strength must be between 0"),
        ({"preserve_color": "histogram"}, "preserve_color must be one of none, luminance"),
        ({"size": 4096}, "limit of 1024 px"),
        ({"size": 8}, "size must be between 16"),
    ],
)
def test_bad_instant_requests_are_refused_with_one_line(instant_client, tmp_path, fields, message):
    photo = upload(instant_client)
    response = instant(instant_client, photo["id"], **fields)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert message in detail and "\n" not in detail
    assert instant_client.get("/api/jobs").json()["jobs"] == []
    assert list((tmp_path / "data" / "results").iterdir()) == []


def test_an_instant_picture_of_a_missing_or_unreadable_photo(instant_client, tmp_path):
    missing = instant(instant_client, "f" * 32)
    assert missing.status_code == 404 and "no such image" in missing.json()["detail"]
    assert instant(instant_client, "../etc/passwd").status_code == 422
    assert instant_client.post("/api/instant", json={"model": "tiny"}).status_code == 422
    photo = upload(instant_client)
    (tmp_path / "data" / "images" / f"{photo['id']}.png").write_bytes(b"garbage")
    unreadable = instant(instant_client, photo["id"])
    assert unreadable.status_code == 400
    detail = unreadable.json()["detail"]
    assert "cannot be read" in detail and "\n" not in detail and str(tmp_path) not in detail
    assert instant_client.get("/api/jobs").json()["jobs"] == []


def test_instant_pictures_are_painted_one_at_a_time_and_a_crowd_is_refused(with_models):
    painter = InstantPainter(max_waiting=0)
    photo = nst.image.load_pil(picture_bytes(32, 32))
    painter._paint_lock.acquire()  # the first request's painting cannot finish until released
    done: list[object] = []
    waiting = threading.Thread(target=lambda: done.append(painter.paint("tiny", photo, 32, 1.0, "none")))
    waiting.start()
    deadline = time.monotonic() + 10
    while painter._admitted < 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with pytest.raises(QueueFull):
        painter.paint("tiny", photo, 32, 1.0, "none")  # one at its turn, none may wait: refused
    assert done == []
    painter._paint_lock.release()
    waiting.join(10)
    assert len(done) == 1 and painter._admitted == 0


def test_instant_jobs_do_not_count_towards_retry_after_estimates(instant_client, tmp_path):
    photo = upload(instant_client)
    instant(instant_client, photo["id"], size=32)
    store = Store(tmp_path / "data")
    try:
        assert store.recent_durations() == []
    finally:
        store.close()


def test_a_database_from_before_instant_jobs_gains_their_columns(tmp_path):
    data = tmp_path / "data"
    with make_client(data, start_worker=False) as c:
        job = submit(c)
    import sqlite3

    db = sqlite3.connect(data / "nst.sqlite3")
    db.execute("ALTER TABLE jobs DROP COLUMN model")
    db.execute("ALTER TABLE jobs DROP COLUMN kind")
    db.close()
    with make_client(data, start_worker=False) as c:
        again = c.get(f"/api/jobs/{job['id']}").json()
    assert (again["kind"], again["model"], again["status"]) == ("optimisation", None, "queued")


# Any painting, instantly -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def decoder_file(tmp_path_factory) -> Path:
    return make_decoder(tmp_path_factory.mktemp("decoder") / "decoder.pt")


@pytest.fixture()
def with_decoder(decoder_file, random_weights, monkeypatch) -> list[str]:
    """The tiny decoder is this process's bundled one, with a random VGG as its encoder (the real
    one takes seconds to load). Returns the devices the painter was loaded for, one per load."""
    from nst.universal import paint
    from nst.universal.store import load_decoder

    loads: list[str] = []

    def load(device: str) -> paint.AnyPainting:
        loads.append(device)
        return paint.AnyPainting(*load_decoder(decoder_file), device=device, weights=random_weights)

    monkeypatch.setattr(paint, "bundled_decoder_path", lambda: decoder_file)
    monkeypatch.setattr(anypainting, "load_painter", load)
    return loads


@pytest.fixture()
def any_client(tmp_path, with_decoder):
    with make_client(tmp_path / "data", start_worker=False) as c:
        yield c


def paint_any(client: TestClient, image_id: str, painting_id: str, **fields) -> httpx2.Response:
    return client.post("/api/anypainting", json={"image_id": image_id, "painting_id": painting_id, **fields})


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


def test_a_restart_requeues_the_running_job_and_keeps_the_queue(tmp_path):
    data = tmp_path / "data"
    with make_client(data, start_worker=False) as c:
        first, second = submit(c), submit(c)
    # Leave the store as a killed server would: the first job marked running.
    store = Store(data)
    assert store.claim_next().id == first["id"]
    store.close()
    with make_client(data) as c:
        done = [wait_for_job(c, j["id"], {"done", "failed"}) for j in (first, second)]
        assert [d["status"] for d in done] == ["done", "done"]
        assert done[0]["attempts"] == 2 and done[1]["attempts"] == 1
        # The requeued job kept its place: it ran first.
        assert done[0]["finished"] <= done[1]["started"]


def test_a_clean_shutdown_puts_the_running_job_back_in_the_queue(tmp_path):
    data = tmp_path / "data"
    with make_client(data) as c:
        job = submit(c, {"size": 32, "iterations": 5000, "tolerance": 0.0})
        wait_for_job(c, job["id"], {"running"})
        started = time.monotonic()
    assert time.monotonic() - started < 10, "shutdown waited for the job"
    with make_client(data, start_worker=False) as c:
        waiting = c.get(f"/api/jobs/{job['id']}").json()
    assert (waiting["status"], waiting["attempts"], waiting["started"]) == ("queued", 0, None)
    assert list((data / "results").iterdir()) == []


def test_a_restarted_job_resumes_from_its_checkpoint(tmp_path):
    data = tmp_path / "data"
    with make_client(data, checkpoint_seconds=0.05) as c:
        job = submit(c, {"size": 32, "iterations": 50, "tolerance": 0.0})
        deadline = time.monotonic() + 60
        while (c.get(f"/api/jobs/{job['id']}").json().get("progress") or {}).get("iteration", 0) < 15:
            assert time.monotonic() < deadline, "the job never got going"
            time.sleep(0.02)
    assert (data / "checkpoints" / f"{job['id']}.pt").exists()
    events: list[dict] = []
    with make_client(data) as c:
        with c.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
            for line in stream.iter_lines():
                if line.startswith('data: {"id"'):
                    events.append(json.loads(line[6:]))
                if line.startswith("event: end"):
                    break
        done = c.get(f"/api/jobs/{job['id']}").json()
    assert done["status"] == "done" and done["result"]["resumed"] is True
    assert done["result"]["iterations"] == 50
    first = next(e["progress"] for e in events if e["progress"])
    assert first["iteration"] > 10, "it started over instead of resuming"
    assert first["fraction"] > 0.2
    assert list((data / "checkpoints").iterdir()) == []


def test_an_unusable_checkpoint_means_starting_over(tmp_path):
    data = tmp_path / "data"
    with make_client(data, start_worker=False) as c:
        job = submit(c)
    (data / "checkpoints" / f"{job['id']}.pt").write_bytes(b"not a checkpoint")
    with make_client(data) as c:
        done = wait_for_job(c, job["id"], {"done", "failed"})
    assert done["status"] == "done" and done["result"]["resumed"] is False
    assert done["result"]["iterations"] == 3


def test_a_job_that_keeps_crashing_the_server_fails(tmp_path):
    data = tmp_path / "data"
    with make_client(data, start_worker=False) as c:
        job = submit(c)
    store = Store(data)
    for _ in range(3):
        store.claim_next()
        assert store.transition(job["id"], RUNNING, "queued")
    store.claim_next()
    store.close()
    with make_client(data, start_worker=False) as c:
        failed = c.get(f"/api/jobs/{job['id']}").json()
    assert failed["status"] == "failed" and "stopped during this job" in failed["error"]


@pytest.mark.slow
def test_killing_the_server_mid_job_loses_nothing(tmp_path):
    """The acceptance test: SIGKILL while a job runs and one waits; a new server finishes both."""
    data = tmp_path / "data"
    with running_server(data, args=["--quiet", "--checkpoint-seconds", "0.2"]) as server:
        c = httpx2.Client(base_url=server.url, timeout=30)
        long = {"size": 32, "iterations": 40, "tolerance": 0.0}
        content = c.post("/api/images", files={"file": ("a.png", picture_bytes(seed=0))}).json()
        style = c.post("/api/images", files={"file": ("b.png", picture_bytes(seed=1))}).json()
        ids = {"content_id": content["id"], "style_ids": [style["id"]]}
        running = c.post("/api/jobs", json={**ids, "settings": long}).json()
        waiting = c.post("/api/jobs", json={**ids, "settings": TINY}).json()
        deadline = time.monotonic() + 60
        while (c.get(f"/api/jobs/{running['id']}").json().get("progress") or {}).get("iteration", 0) < 12:
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        server.kill()
    with running_server(data, args=["--quiet"]) as server:
        c = httpx2.Client(base_url=server.url, timeout=30)
        first = wait_for_job(c, running["id"], {"done", "failed"})
        second = wait_for_job(c, waiting["id"], {"done", "failed"})
        assert (first["status"], second["status"]) == ("done", "done"), (first["error"], second["error"])
        assert first["attempts"] == 2 and first["result"]["iterations"] == 40
        assert first["result"]["resumed"] is True and second["result"]["resumed"] is False
        assert list((data / "checkpoints").iterdir()) == []
        assert c.get(first["result_url"]).status_code == 200
        assert c.get(f"/api/images/{content['id']}").status_code == 200


# Safety ------------------------------------------------------------------------------------------


def test_a_token_is_needed_on_every_api_call(tmp_path):
    with make_client(tmp_path / "data", token="s3cret", start_worker=False) as c:
        assert c.get("/").status_code == 200  # the page itself, which asks for the token
        refused = c.get("/api/info")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert c.get("/openapi.json").status_code == 401
        assert c.post("/api/images", files={"file": ("a.png", picture_bytes())}).status_code == 401
        assert c.get("/api/models").status_code == 401
        assert c.post("/api/instant", json={"image_id": "f" * 32, "model": "tiny"}).status_code == 401
        ids = {"image_id": "f" * 32, "painting_id": "e" * 32}
        assert c.post("/api/anypainting", json=ids).status_code == 401
        assert c.get("/api/info", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/info", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/api/info", headers={"Cookie": "nst_token=s3cret"}).status_code == 200
        assert c.get("/api/info", headers={"Cookie": "nst_token=s3cre"}).status_code == 401
        # With a token, any host name may be used (the server is meant to be reached from others).
        assert (
            c.get("/api/info", headers={"Authorization": "Bearer s3cret", "Host": "studio.lan"}).status_code
            == 200
        )


def test_without_a_token_only_loopback_host_names_are_answered(client):
    assert client.get("/api/info", headers={"Host": "localhost:8000"}).status_code == 200
    assert client.get("/api/info", headers={"Host": "[::1]:8000"}).status_code == 200
    # A DNS-rebinding page reaches the server under its own name.
    assert client.get("/api/info", headers={"Host": "evil.example:8000"}).status_code == 400


def test_cross_site_writes_are_refused_and_no_cors_headers_are_sent(client):
    files = {"file": ("a.png", picture_bytes())}
    cross = client.post("/api/images", files=files, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    same = client.post("/api/images", files=files, headers={"Origin": LOCAL})
    assert same.status_code == 201
    for response in (
        client.get("/api/info", headers={"Origin": "https://evil.example"}),
        client.options(
            "/api/jobs", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        ),
    ):
        assert "access-control-allow-origin" not in response.headers


def test_serve_refuses_a_public_address_without_a_token(monkeypatch, capsys):
    from nst.cli import main

    monkeypatch.delenv("NST_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: listening on 0.0.0.0") and "\n" not in err


def test_serve_takes_the_token_from_the_environment(monkeypatch, tmp_path):
    import uvicorn

    from nst.cli import main

    seen = {}
    monkeypatch.setenv("NST_TOKEN", "from-env")
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    assert (
        main(["serve", "--host", "0.0.0.0", "--port", "9999", "--data-dir", str(tmp_path), "--device", "cpu"])
        == 0
    )
    assert (seen["host"], seen["port"]) == ("0.0.0.0", 9999)
    with TestClient(seen["app"], base_url="http://studio.lan") as c:
        assert c.get("/api/info").status_code == 401
        assert c.get("/api/info", headers={"Authorization": "Bearer from-env"}).status_code == 200


def test_serve_without_the_web_extra_says_what_to_install(monkeypatch, capsys):
    import sys

    from nst.cli import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    assert main(["serve"]) == 2
    assert "pip install 'nst[web]'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("example.com", False)],
)  # fmt: skip
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


# Progress arithmetic -------------------------------------------------------------------------------


def _progress(iteration: int, scale: int, scales: int, total: int, elapsed: float) -> nst.Progress:
    import torch

    losses = nst.LossBreakdown(1.0, 2.0, 0.0, 3.0, {}, {})
    return nst.Progress(iteration, total, scale, scales, (8, 8), losses, elapsed, torch.zeros(1, 3, 8, 8))


def test_progress_is_weighted_by_pixels_across_scales():
    tracker = ProgressTracker([(50, 10), (100, 10)])  # the second scale costs 4x per iteration
    fractions = [tracker.update(_progress(i, 1, 2, 20, i * 0.1))["fraction"] for i in range(1, 11)]
    assert fractions[-1] == pytest.approx(10 * 2500 / (10 * 2500 + 10 * 10000))
    assert fractions == sorted(fractions)
    last = None
    for i in range(1, 11):
        last = tracker.update(_progress(10 + i, 2, 2, 20, 1 + i * 0.4))
    assert last["fraction"] == pytest.approx(1.0)
    assert last["eta_seconds"] == pytest.approx(0.0)


def test_a_scale_that_converges_early_hands_its_share_on():
    tracker = ProgressTracker([(50, 10), (100, 10)])
    for i in range(1, 4):  # converged after 3 of 10
        tracker.update(_progress(i, 1, 2, 20, i * 0.1))
    snapshot = tracker.update(_progress(4, 2, 2, 20, 0.5))
    assert snapshot["fraction"] == pytest.approx((3 * 2500 + 10000) / (3 * 2500 + 10 * 10000))
    assert snapshot["eta_seconds"] == pytest.approx(0.5 * (1 - snapshot["fraction"]) / snapshot["fraction"])


def test_a_checkpoint_half_written_by_a_killed_server_is_removed_on_start(tmp_path):
    checkpoints = tmp_path / "data" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / ".job1.pt.x7k2.part").write_bytes(b"half a checkpoint")
    (checkpoints / "job2.pt").write_bytes(b"a whole one")
    Store(tmp_path / "data")
    assert sorted(p.name for p in checkpoints.iterdir()) == ["job2.pt"]
