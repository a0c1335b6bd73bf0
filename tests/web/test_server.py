"""The server's life: restarts, checkpoints, a server killed mid-job, tokens, serve, progress."""

from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")
httpx2 = pytest.importorskip("httpx2", reason="the web extra is not installed (pip install -e '.[web]')")

from fastapi.testclient import TestClient  # noqa: E402

from nst.cli.serve import is_loopback  # noqa: E402
from nst.web.progress import ProgressTracker  # noqa: E402
from nst.web.store import RUNNING, Store  # noqa: E402
from tests.web.api import LOCAL, SHALLOW, TINY, _progress, make_client, submit  # noqa: E402
from tests.web.helpers import (  # noqa: E402
    picture_bytes,
    running_server,
    wait_for_job,
)


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
        job = submit(c, {"size": 32, "iterations": 50, "tolerance": 0.0, **SHALLOW})
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
    assert "pip install -e '.[web]'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("example.com", False)],
)  # fmt: skip
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


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
