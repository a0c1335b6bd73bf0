"""Load: many concurrent submissions and status polls at a real `nst serve` on loopback.

What must hold: no request errors out or hangs, the API stays quick while the worker paints,
every accepted job finishes, and every submission beyond the queue's bound gets 429 with a
Retry-After. The figures are printed (run with ``-s`` to see them) and, when NST_LOAD_REPORT
names a file, written there as JSON; docs/web.md quotes them.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")
httpx2 = pytest.importorskip("httpx2", reason="the web extra is not installed (pip install -e '.[web]')")

from tests.web.helpers import picture_bytes, running_server  # noqa: E402

pytestmark = pytest.mark.system

QUEUE_SIZE = 4
SUBMISSIONS = 100
SUBMIT_CONCURRENCY = 25
POLL_CONCURRENCY = 16
TINY = {"size": 32, "iterations": 5, "tolerance": 0.0}


@dataclass
class Tally:
    """Latencies and outcomes of one kind of request."""

    name: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, call: Callable[[], httpx2.Response]) -> httpx2.Response | None:
        started = time.perf_counter()
        try:
            response = call()
        except Exception as exc:  # a timeout or a dropped connection is a failure of the server
            with self.lock:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            return None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies.append(elapsed)
            self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        return response

    def figures(self) -> dict[str, object]:
        ordered = sorted(self.latencies)

        def percentile(p: float) -> float:
            return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

        return {
            "requests": len(ordered) + len(self.errors),
            "concurrency": self.concurrency,
            "statuses": dict(sorted(self.statuses.items())),
            "errors": len(self.errors),
            "p50_ms": round(percentile(50), 1),
            "p95_ms": round(percentile(95), 1),
            "p99_ms": round(percentile(99), 1),
            "max_ms": round(ordered[-1] * 1000, 1),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
        }

    def per_second(self, seconds: float) -> float:
        return round(len(self.latencies) / seconds, 1)


def test_concurrent_submissions_and_polls(tmp_path):
    with running_server(tmp_path / "data", args=["--quiet", "--queue-size", str(QUEUE_SIZE)]) as server:
        limits = httpx2.Limits(max_connections=SUBMIT_CONCURRENCY + POLL_CONCURRENCY)
        client = httpx2.Client(base_url=server.url, timeout=30, limits=limits)
        content = client.post("/api/images", files={"file": ("a.png", picture_bytes(seed=0))}).json()
        style = client.post("/api/images", files={"file": ("b.png", picture_bytes(seed=1))}).json()
        body = {"content_id": content["id"], "style_ids": [style["id"]], "settings": TINY}

        submits = Tally("submit", SUBMIT_CONCURRENCY)
        polls = Tally("poll", POLL_CONCURRENCY)
        accepted: list[str] = []
        finished = threading.Event()

        def submit_one(_: int) -> None:
            response = submits.timed(lambda: client.post("/api/jobs", json=body))
            if response is not None and response.status_code == 202:
                with submits.lock:
                    accepted.append(response.json()["id"])
            elif response is not None and response.status_code == 429:
                assert int(response.headers["Retry-After"]) >= 1

        def poll_loop(worker: int) -> None:
            # Status polls of every kind a client makes, until all accepted jobs are over.
            turn = worker
            while not finished.is_set():
                turn += 1
                with submits.lock:
                    ids = list(accepted)
                if turn % 3 == 0 or not ids:
                    polls.timed(lambda: client.get("/api/jobs", params={"limit": 20}))
                elif turn % 3 == 1:
                    url = f"/api/jobs/{ids[turn % len(ids)]}"
                    polls.timed(lambda url=url: client.get(url))
                else:
                    polls.timed(lambda: client.get("/api/info"))

        started = time.perf_counter()
        with ThreadPoolExecutor(POLL_CONCURRENCY) as pollers:
            poll_futures = [pollers.submit(poll_loop, i) for i in range(POLL_CONCURRENCY)]
            with ThreadPoolExecutor(SUBMIT_CONCURRENCY) as submitters:
                list(submitters.map(submit_one, range(SUBMISSIONS)))
            submitted = time.perf_counter() - started
            deadline = time.monotonic() + 180
            states: dict[str, str] = {}
            while True:
                states = {i: client.get(f"/api/jobs/{i}").json()["status"] for i in accepted}
                if all(s in ("done", "failed", "cancelled") for s in states.values()):
                    break
                assert time.monotonic() < deadline, f"jobs still pending: {states}"
                time.sleep(0.2)
            finished.set()
            for future in poll_futures:
                future.result()
        drained = time.perf_counter() - started

    report = {
        "submissions": submits.figures(),
        "polls": {**polls.figures(), "per_second": polls.per_second(drained)},
        "accepted": len(accepted),
        "rejected_429": submits.statuses.get(429, 0),
        "queue_size": QUEUE_SIZE,
        "job": TINY,
        "burst_seconds": round(submitted, 2),
        "drain_seconds": round(drained, 2),
        "cpu_count": os.cpu_count(),
    }
    print("\nload test:", json.dumps(report, indent=2))
    if os.environ.get("NST_LOAD_REPORT"):
        with open(os.environ["NST_LOAD_REPORT"], "w") as handle:
            json.dump(report, handle, indent=2)

    assert submits.errors == [] and polls.errors == [], submits.errors[:3] + polls.errors[:3]
    # Every submission got a clear answer: accepted, or told to come back later.
    assert set(submits.statuses) <= {202, 429}
    assert len(accepted) + submits.statuses.get(429, 0) == SUBMISSIONS
    # The bound held: at most the queue plus the jobs the worker took off it during the burst.
    assert QUEUE_SIZE <= len(accepted) < SUBMISSIONS
    assert submits.statuses.get(429, 0) > 0
    assert set(states.values()) == {"done"}, states
    assert set(polls.statuses) == {200}
    # Responsive while the worker paints: status polls stay well under a second.
    figures = polls.figures()
    assert figures["requests"] > 50
    assert figures["p95_ms"] < 1000, figures
