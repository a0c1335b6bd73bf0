"""The REST API in-process (FastAPI's TestClient): info, uploads and jobs (what a client may send: test_guard.py)."""

from __future__ import annotations

import json
import re
import time

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")
httpx2 = pytest.importorskip("httpx2", reason="the web extra is not installed (pip install -e '.[web]')")


import nst  # noqa: E402
from nst.optimise.presets import PRESETS  # noqa: E402
from nst.web.app import Limits  # noqa: E402
from nst.web.routes.page import STATIC_DIR  # noqa: E402
from tests.web.api import SHALLOW, TINY, make_client, submit, upload  # noqa: E402
from tests.web.helpers import (  # noqa: E402
    picture_bytes,
    wait_for_job,
)


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
        job = submit(c, {"size": 32, "iterations": 40, "tolerance": 0.0, **SHALLOW})
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
