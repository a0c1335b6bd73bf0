"""Jobs and uploads on disk: one SQLite database with the images as files beside it.

Layout of the data folder::

    nst.sqlite3          jobs, uploads and which job uses which upload
    images/<id>.png      uploads, re-encoded after validation
    images/<id>.thumb.jpg  their thumbnails, made on first request
    results/<id>.png     finished pictures (with their settings as PNG metadata), optimised
                         or painted at once by a bundled style model (an "instant" job) or by
                         the any-painting decoder (an "anypainting" job)
    checkpoints/<id>.pt  the state of a running job, so that a restart resumes it

Every file name is a server-made id (32 hex digits); `checked_id` refuses anything else, so no
text from a client can become a path. SQLite runs in WAL mode: a killed server loses no
committed row, which is what lets a restart carry on with the queue.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image

import nst
from nst.web.records import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    ImageRecord,
    JobRecord,
    checked_id,
    job_from_row,
    new_id,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    status TEXT NOT NULL,
    content_id TEXT NOT NULL,
    style_ids TEXT NOT NULL,
    preset TEXT,
    overrides TEXT NOT NULL,
    settings TEXT NOT NULL,
    error TEXT,
    result TEXT,
    started REAL,
    finished REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    model TEXT,
    kind TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq);
CREATE TABLE IF NOT EXISTS job_images (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    image_id TEXT NOT NULL REFERENCES images (id),
    PRIMARY KEY (job_id, image_id)
);
"""


class ImageInUse(nst.InputError):
    """An upload that a job still needs."""


class Store:
    """SQLite plus files. Thread-safe: one connection guarded by a lock (every query is tiny)."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.images_dir = self.data_dir / "images"
        self.results_dir = self.data_dir / "results"
        self.checkpoints_dir = self.data_dir / "checkpoints"
        for folder in (self.data_dir, self.images_dir, self.results_dir, self.checkpoints_dir):
            folder.mkdir(parents=True, exist_ok=True)
        # A server killed while writing a checkpoint leaves that write's temporary file behind
        # (`nst.optimise.checkpoint.Checkpoint.save`); nothing can resume from half a file.
        for partial in self.checkpoints_dir.glob(".*.part"):
            partial.unlink(missing_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.data_dir / "nst.sqlite3", check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process (only a power cut could lose the last commit).
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        # Databases made before instant jobs lack the model column; NULL marks an optimisation.
        # Those made before any-painting jobs lack the kind column; NULL: the kind follows from
        # the model (`nst.web.records.kind_of`).
        with self._lock:
            columns = {row["name"] for row in self._db.execute("PRAGMA table_info(jobs)")}
            if "model" not in columns:
                self._db.execute("ALTER TABLE jobs ADD COLUMN model TEXT")
            if "kind" not in columns:
                self._db.execute("ALTER TABLE jobs ADD COLUMN kind TEXT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # Paths ---------------------------------------------------------------------------------------

    def image_path(self, image_id: str) -> Path:
        return self.images_dir / f"{checked_id(image_id)}.png"

    def thumbnail_path(self, image_id: str) -> Path:
        return self.images_dir / f"{checked_id(image_id)}.thumb.jpg"

    def result_path(self, job_id: str) -> Path:
        return self.results_dir / f"{checked_id(job_id)}.png"

    def checkpoint_path(self, job_id: str) -> Path:
        return self.checkpoints_dir / f"{checked_id(job_id)}.pt"

    # Uploads -------------------------------------------------------------------------------------

    def add_image(self, image: Image.Image) -> ImageRecord:
        """Store a validated RGB image as PNG and record it."""
        image_id = new_id()
        path = nst.save_image(image, self.image_path(image_id))
        record = ImageRecord(image_id, time.time(), image.width, image.height, path.stat().st_size)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO images (id, created, width, height, bytes) VALUES (?, ?, ?, ?, ?)",
                (record.id, record.created, record.width, record.height, record.bytes),
            )
        return record

    def thumbnail(self, image_id: str, side: int = 192) -> Path:
        """A small JPEG of an upload (made once, then kept): galleries need no megapixels."""
        path = self.thumbnail_path(image_id)
        if not path.exists():
            with Image.open(self.image_path(image_id)) as image:
                small = image.convert("RGB")
                small.thumbnail((side, side), Image.Resampling.LANCZOS)
            nst.save_image(small, path)
        return path

    def get_image(self, image_id: str) -> ImageRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM images WHERE id = ?", (image_id,)).fetchone()
        return ImageRecord(**dict(row)) if row else None

    def delete_image(self, image_id: str) -> bool:
        """Remove an upload; `ImageInUse` if a job refers to it, False if there is none."""
        with self._transaction() as db:
            used = db.execute("SELECT 1 FROM job_images WHERE image_id = ? LIMIT 1", (image_id,)).fetchone()
            if used:
                raise ImageInUse("this image is used by a job; delete the job first")
            gone = db.execute("DELETE FROM images WHERE id = ?", (image_id,)).rowcount
        if gone:
            self.image_path(image_id).unlink(missing_ok=True)
            self.thumbnail_path(image_id).unlink(missing_ok=True)
        return bool(gone)

    def prune_images(self, older_than_seconds: float) -> int:
        """Delete uploads no job uses that are older than the given age; returns how many."""
        cutoff = time.time() - older_than_seconds
        with self._transaction() as db:
            rows = db.execute(
                "SELECT id FROM images WHERE created < ? AND id NOT IN (SELECT image_id FROM job_images)",
                (cutoff,),
            ).fetchall()
            db.executemany("DELETE FROM images WHERE id = ?", [(r["id"],) for r in rows])
        for row in rows:
            self.image_path(row["id"]).unlink(missing_ok=True)
            self.thumbnail_path(row["id"]).unlink(missing_ok=True)
        return len(rows)

    # Jobs ----------------------------------------------------------------------------------------

    def add_job(
        self,
        content_id: str,
        style_ids: list[str],
        preset: str | None,
        overrides: dict[str, Any],
        settings: dict[str, Any],
        *,
        max_queued: int,
    ) -> JobRecord | None:
        """Queue a job, or return None when ``max_queued`` jobs are already waiting (atomically)."""
        job_id = new_id()
        with self._transaction() as db:
            waiting = db.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (QUEUED,)).fetchone()[0]
            if waiting >= max_queued:
                return None
            for image_id in {content_id, *style_ids}:
                if not db.execute("SELECT 1 FROM images WHERE id = ?", (image_id,)).fetchone():
                    raise LookupError(image_id)
            db.execute(
                "INSERT INTO jobs (id, created, status, content_id, style_ids, preset, overrides, settings)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id, time.time(), QUEUED, content_id, json.dumps(style_ids), preset,
                    json.dumps(overrides), json.dumps(settings),
                ),
            )  # fmt: skip
            db.executemany(
                "INSERT INTO job_images (job_id, image_id) VALUES (?, ?)",
                [(job_id, image_id) for image_id in {content_id, *style_ids}],
            )
        job = self.get_job(job_id)
        assert job is not None
        return job

    def add_instant(
        self,
        content_id: str,
        model: str | None,
        overrides: dict[str, Any],
        settings: dict[str, Any],
        result: dict[str, Any],
        image: Image.Image,
        metadata: dict[str, Any],
        *,
        style_ids: list[str] | None = None,
        kind: str | None = None,
    ) -> JobRecord:
        """Record a picture painted at once (by a style model, or with ``kind`` "anypainting" by
        the any-painting decoder from the uploads ``style_ids``) as a finished job.

        The PNG is written (atomically) before the row exists, so a listed job always has its
        picture; if the row cannot be added (LookupError: an upload was deleted meanwhile), the
        file goes again.
        """
        style_ids = [checked_id(i) for i in style_ids or []]
        job_id = new_id()
        path = nst.save_image(image, self.result_path(job_id), {**metadata, "job": job_id}, fast=True)
        try:
            with self._transaction() as db:
                for image_id in (content_id, *style_ids):
                    if not db.execute("SELECT 1 FROM images WHERE id = ?", (image_id,)).fetchone():
                        raise LookupError(image_id)
                now = time.time()
                started = now - float(result.get("elapsed", 0.0))
                db.execute(
                    "INSERT INTO jobs (id, created, status, content_id, style_ids, preset, overrides,"
                    " settings, result, started, finished, attempts, model, kind)"
                    " VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, 1, ?, ?)",
                    (
                        job_id, started, DONE, content_id, json.dumps(style_ids), json.dumps(overrides),
                        json.dumps(settings), json.dumps(result), started, now, model, kind,
                    ),
                )  # fmt: skip
                db.executemany(
                    "INSERT INTO job_images (job_id, image_id) VALUES (?, ?)",
                    [(job_id, image_id) for image_id in {content_id, *style_ids}],
                )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        job = self.get_job(job_id)
        assert job is not None
        return job

    def get_job(self, job_id: str) -> JobRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return job_from_row(row) if row else None

    def list_jobs(self, limit: int = 100, status: str | None = None) -> list[JobRecord]:
        """Newest first."""
        query, args = "SELECT * FROM jobs", ()
        if status:
            query, args = query + " WHERE status = ?", (status,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY seq DESC LIMIT ?", (*args, limit)).fetchall()
        return [job_from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").fetchall()
        return {r["status"]: r["n"] for r in rows}

    def queue_position(self, job: JobRecord) -> int:
        """1 for the next job to run."""
        with self._lock:
            ahead = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE status = ? AND seq < ?", (QUEUED, job.seq)
            ).fetchone()[0]
        return ahead + 1

    def claim_next(self) -> JobRecord | None:
        """Mark the oldest queued job running and return it (None when the queue is empty)."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT id FROM jobs WHERE status = ? ORDER BY seq LIMIT 1", (QUEUED,)
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET status = ?, started = ?, attempts = attempts + 1 WHERE id = ?",
                (RUNNING, time.time(), row["id"]),
            )
        return self.get_job(row["id"])

    def requeue_running(self, max_attempts: int) -> tuple[list[str], list[str]]:
        """After a restart: jobs left 'running' go back to the queue (ahead of the rest, by seq).

        A job that already took the server down ``max_attempts`` times fails instead, so one bad
        job cannot crash the server in a loop. Returns (requeued ids, failed ids).
        """
        with self._transaction() as db:
            rows = db.execute("SELECT id, attempts FROM jobs WHERE status = ?", (RUNNING,)).fetchall()
            requeued = [r["id"] for r in rows if r["attempts"] < max_attempts]
            failed = [r["id"] for r in rows if r["attempts"] >= max_attempts]
            db.executemany("UPDATE jobs SET status = ? WHERE id = ?", [(QUEUED, i) for i in requeued])
            db.executemany(
                "UPDATE jobs SET status = ?, error = ?, finished = ? WHERE id = ?",
                [(FAILED, f"the server stopped during this job {max_attempts} times", time.time(), i)
                 for i in failed],
            )  # fmt: skip
        return requeued, failed

    def transition(self, job_id: str, source: str, target: str, **fields: Any) -> bool:
        """Set status ``target`` (and fields) only if the job is in ``source``; True if it was."""
        columns = {"error", "result", "finished", "started"}
        unknown = set(fields) - columns
        if unknown:
            raise ValueError(f"unknown job fields: {unknown}")
        values = {k: (json.dumps(v) if k == "result" and v is not None else v) for k, v in fields.items()}
        assignments = "".join(f", {k} = ?" for k in values)
        with self._transaction() as db:
            changed = db.execute(
                f"UPDATE jobs SET status = ?{assignments} WHERE id = ? AND status = ?",
                (target, *values.values(), job_id, source),
            ).rowcount
        return bool(changed)

    def release(self, job_id: str) -> bool:
        """Put a running job back in the queue after a clean shutdown; the start does not count."""
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE jobs SET status = ?, started = NULL, attempts = MAX(0, attempts - 1)"
                " WHERE id = ? AND status = ?",
                (QUEUED, job_id, RUNNING),
            ).rowcount
        return bool(changed)

    def delete_job(self, job_id: str) -> JobRecord | None:
        """Remove a job and its result file; returns what was removed."""
        with self._transaction() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        self.result_path(job_id).unlink(missing_ok=True)
        self.checkpoint_path(job_id).unlink(missing_ok=True)
        return job_from_row(row)

    def recent_durations(self, count: int = 10) -> list[float]:
        """Run times in seconds of the last finished jobs (for Retry-After estimates)."""
        with self._lock:
            rows = self._db.execute(
                # Instant and any-painting jobs take seconds and say nothing about how long the
                # queue takes.
                "SELECT finished - started AS d FROM jobs"
                " WHERE status = ? AND started IS NOT NULL AND model IS NULL AND kind IS NULL"
                " ORDER BY seq DESC LIMIT ?",
                (DONE, count),
            ).fetchall()
        return [r["d"] for r in rows if r["d"] is not None]
