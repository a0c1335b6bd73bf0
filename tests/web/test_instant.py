"""Instant styles over the API: tiny untrained style models made once per module."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")
httpx2 = pytest.importorskip("httpx2", reason="the web extra is not installed (pip install -e '.[web]')")


import nst  # noqa: E402
from nst.models import registry  # noqa: E402
from nst.web.app import Limits  # noqa: E402
from nst.web.instant import InstantPainter  # noqa: E402
from nst.web.jobs import QueueFull  # noqa: E402
from nst.web.store import Store  # noqa: E402
from tests.web.api import PAINTINGS, instant, make_client, submit, upload  # noqa: E402
from tests.web.helpers import (  # noqa: E402
    picture_bytes,
)


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
