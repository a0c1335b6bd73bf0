"""The job queue: bounded, persisted in SQLite (`Store`), drained by one worker thread.

One worker per device: a second stylization on the same device would only halve the speed of
both. The worker reuses the VGG network across jobs with the same weights and layers.

Progress of the running job lives in memory (it changes every iteration and is worthless after a
restart); everything else is in the database, and the run's own state in a checkpoint file that
the core writes every so often (`nst.transfer_style`'s ``checkpoint``). A restart finds jobs that
were running and queues them again ahead of the rest; each resumes from its checkpoint, or starts
over when there is none (stopped before the first one) or it cannot be used.
"""

from __future__ import annotations

import io
import logging
import math
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Any

import nst
from nst._version import __version__
from nst.web.progress import ProgressTracker
from nst.web.records import CANCELLED, DONE, FAILED, QUEUED, RUNNING, JobRecord
from nst.web.store import Store

log = logging.getLogger("nst.web")


class QueueFull(Exception):
    """The queue holds its maximum of waiting jobs; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the queue is full; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass
class _Live:
    job_id: str
    version: int = 0
    progress: dict[str, Any] | None = None
    preview: bytes | None = None
    preview_version: int = 0


class JobQueue:
    """Submit, cancel and delete jobs; one daemon thread runs them in order.

    Args:
        store: where jobs and images live.
        device: torch device of the worker ("cpu", "cuda", "mps").
        max_queued: waiting jobs allowed (the running one not counted); more raise `QueueFull`.
        preview_interval: seconds between preview images of the running job.
        preview_side: longest side of a preview image in px.
        max_attempts: a job that was running when the server died this many times fails.
        checkpoint_seconds: seconds between checkpoints of the running job; None: the core's
            default. A restart repeats at most this much work.
    """

    def __init__(
        self,
        store: Store,
        *,
        device: str = "cpu",
        max_queued: int = 16,
        preview_interval: float = 2.0,
        preview_side: int = 512,
        max_attempts: int = 3,
        checkpoint_seconds: float | None = None,
    ) -> None:
        if max_queued < 1:
            raise nst.InputError(f"the queue must hold at least 1 job, got {max_queued}")
        self.store = store
        self.device = device
        self.max_queued = max_queued
        self.preview_interval = preview_interval
        self.preview_side = preview_side
        self.max_attempts = max_attempts
        self.checkpoint_seconds = checkpoint_seconds
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._cancelled: set[str] = set()
        self._live: _Live | None = None
        self._thread: threading.Thread | None = None
        self._extractor: Any = None
        self._extractor_key: tuple[Any, ...] | None = None

    # Life cycle ----------------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Put jobs a previous server left running back in the queue; returns their ids.

        Call once at startup, before `start`.
        """
        requeued, failed = self.store.requeue_running(self.max_attempts)
        for job_id in failed:
            log.warning("job %s failed: the server stopped during it %d times", job_id, self.max_attempts)
        if requeued:
            log.info("restarting %d job(s) that were running when the server stopped", len(requeued))
        return requeued

    def start(self) -> None:
        """Start the worker thread."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="nst-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the worker; a job it is running goes back to the queue (it restarts next time)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # Requests ------------------------------------------------------------------------------------

    def submit(
        self,
        content_id: str,
        style_ids: list[str],
        preset: str | None,
        overrides: dict[str, Any],
        settings: dict[str, Any],
    ) -> JobRecord:
        """Queue a job. `QueueFull` when the queue is full; LookupError for an unknown image id."""
        job = self.store.add_job(
            content_id, style_ids, preset, overrides, settings, max_queued=self.max_queued
        )
        if job is None:
            raise QueueFull(self.retry_after())
        self._wake.set()
        return job

    def cancel(self, job_id: str) -> JobRecord | None:
        """Cancel a queued job at once, or ask the running one to stop after its iteration."""
        job = self.store.get_job(job_id)
        if job is None:
            return None
        if job.status == QUEUED and self.store.transition(job_id, QUEUED, CANCELLED, finished=time.time()):
            return self.store.get_job(job_id)
        if job.status == RUNNING:
            with self._lock:
                self._cancelled.add(job_id)
        return self.store.get_job(job_id)

    def delete(self, job_id: str) -> bool:
        """Remove a job and its result; a running one is stopped first (its result discarded)."""
        with self._lock:
            self._cancelled.add(job_id)
        return self.store.delete_job(job_id) is not None

    def progress(self, job_id: str) -> tuple[int, dict[str, Any] | None]:
        """(version, latest progress) of a running job; the version changes with every update."""
        with self._lock:
            live = self._live
            if live is None or live.job_id != job_id:
                return 0, None
            progress = dict(live.progress) if live.progress else None
            if progress is not None:
                progress["preview_version"] = live.preview_version or None
            return live.version, progress

    def preview(self, job_id: str) -> bytes | None:
        """The latest preview PNG of a running job."""
        with self._lock:
            live = self._live
            return live.preview if live is not None and live.job_id == job_id else None

    def retry_after(self) -> int:
        """Seconds until a queue slot is likely to free: the running job's ETA, else a typical run."""
        with self._lock:
            eta = self._live.progress.get("eta_seconds") if self._live and self._live.progress else None
        if eta is None:
            durations = self.store.recent_durations()
            eta = statistics.median(durations) if durations else 10.0
        return int(min(3600, max(1, math.ceil(eta))))

    # Worker --------------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping.is_set():
            job = self.store.claim_next()
            if job is None:
                self._wake.wait(timeout=1.0)
                self._wake.clear()
                continue
            try:
                self._run(job)
            except Exception:  # never let one job kill the worker
                log.exception("job %s: unexpected error in the worker", job.id)
                self.store.transition(job.id, RUNNING, FAILED, error="internal error", finished=time.time())
            finally:
                with self._lock:
                    self._live = None
                    self._cancelled.discard(job.id)

    def _run(self, job: JobRecord) -> None:
        with self._lock:
            self._live = _Live(job.id)
            if job.id in self._cancelled:  # cancelled between claim and start
                self.store.transition(job.id, RUNNING, CANCELLED, finished=time.time())
                return
        stop_reason: list[str] = []
        try:
            config = nst.StyleConfig.from_dict(job.settings)
            tracker = ProgressTracker(config.scale_plan(config.resolve_size(self._device_type())))
            last_preview = [-math.inf]

            def callback(progress: nst.Progress) -> bool:
                snapshot = tracker.update(progress)
                now = time.monotonic()
                preview = None
                if now - last_preview[0] >= self.preview_interval:
                    preview, last_preview[0] = self._encode_preview(progress), now
                with self._lock:
                    live = self._live
                    if live is not None and live.job_id == job.id:
                        live.version += 1
                        live.progress = snapshot
                        if preview is not None:
                            live.preview, live.preview_version = preview, live.version
                    if self._stopping.is_set():
                        stop_reason.append("shutdown")
                    elif job.id in self._cancelled:
                        stop_reason.append("cancel")
                return bool(stop_reason)

            checkpoint = self.store.checkpoint_path(job.id)
            resumed = checkpoint.exists()
            try:
                result = self._transfer(job, config, callback, resume=resumed)
            except nst.InputError as exc:
                if not resumed:
                    raise
                # A damaged checkpoint, or one from other settings: better to start over than fail.
                log.warning("job %s: cannot resume (%s); starting over", job.id, " ".join(str(exc).split()))
                checkpoint.unlink(missing_ok=True)
                resumed = False
                tracker = ProgressTracker(config.scale_plan(config.resolve_size(self._device_type())))
                result = self._transfer(job, config, callback, resume=False)
        except nst.NSTError as exc:
            self._fail(job, self._public(job, str(exc)))
            return
        except MemoryError:
            self._fail(job, "out of memory; try a smaller size")
            return
        except RuntimeError as exc:
            message = " ".join(str(exc).split())
            if "out of memory" in message.lower():
                self._fail(job, "out of memory; try a smaller size")
                return
            raise
        if stop_reason[:1] == ["shutdown"]:
            # Back to the queue, checkpoint kept: the next server start resumes it.
            self.store.release(job.id)
            return
        self.store.checkpoint_path(job.id).unlink(missing_ok=True)
        if stop_reason[:1] == ["cancel"]:
            self.store.transition(job.id, RUNNING, CANCELLED, finished=time.time())
            return
        self._finish(job, result, resumed=resumed)

    def _transfer(
        self, job: JobRecord, config: nst.StyleConfig, callback: Any, *, resume: bool
    ) -> nst.StyleResult:
        options: dict[str, Any] = {"checkpoint": self.store.checkpoint_path(job.id), "resume": resume}
        if self.checkpoint_seconds is not None:
            options["checkpoint_seconds"] = self.checkpoint_seconds
        return nst.transfer_style(
            self.store.image_path(job.content_id),
            [self.store.image_path(i) for i in job.style_ids],
            config,
            callback=callback,
            device=self.device,
            extractor=self._extractor_for(config),
            **options,
        )

    def _finish(self, job: JobRecord, result: nst.StyleResult, *, resumed: bool) -> None:
        summary = {
            "width": result.image.width,
            "height": result.image.height,
            "iterations": result.iterations,
            "stop_reason": result.stop_reason,
            "elapsed": result.elapsed,
            "losses": {
                "content": result.losses.content,
                "style": result.losses.style,
                "tv": result.losses.tv,
                "total": result.losses.total,
            },
            "resumed": resumed,
            # Numerical faults the core recovered from, and whether it finally gave up on them.
            "events": list(result.events),
            "gave_up_on_faults": result.failed,
        }
        path = self.store.result_path(job.id)
        metadata = {"settings": job.settings, "version": __version__, "job": job.id, **summary}
        nst.save_image(result.image, path, metadata)
        if not self.store.transition(job.id, RUNNING, DONE, result=summary, finished=time.time()):
            # Deleted while it ran: the row is gone, so the file must go too.
            path.unlink(missing_ok=True)

    def _fail(self, job: JobRecord, message: str) -> None:
        log.info("job %s failed: %s", job.id, message)
        self.store.checkpoint_path(job.id).unlink(missing_ok=True)
        self.store.transition(job.id, RUNNING, FAILED, error=message, finished=time.time())

    def _public(self, job: JobRecord, message: str) -> str:
        """An error for the client: one line, the uploads named as the photo and the paintings,
        and no path of the server's in it."""
        named = [(self.store.image_path(job.content_id), "the photo")]
        many = len(job.style_ids) > 1
        for number, style_id in enumerate(job.style_ids, start=1):
            named.append((self.store.image_path(style_id), f"painting {number}" if many else "the painting"))
        # init "instant" starts from the any-painting decoder's picture: its file is the server's.
        from nst.universal.paint import bundled_decoder_path, bundled_onnx_paths

        named += [(path, "the any-painting decoder") for path in (bundled_decoder_path(), *bundled_onnx_paths())]
        for path, name in named:
            for form in (f"decoder file '{path}'", f"network file '{path}'", f"image '{path}'", f"'{path}'", str(path)):
                message = message.replace(form, name)
        for folder in {str(self.store.data_dir.resolve()), str(self.store.data_dir)}:
            message = message.replace(folder, "the server's data folder")
        return " ".join(message.split())

    def _device_type(self) -> str:
        return self.device.split(":", 1)[0]

    def _extractor_for(self, config: nst.StyleConfig) -> Any:
        # Building VGG costs about a second; most jobs share weights, pooling and layers.
        key = config.extractor_key()
        if key != self._extractor_key:
            self._extractor = None  # free the old network before building the new one
            self._extractor = nst.build_extractor(config, self.device)
            self._extractor_key = key
        return self._extractor

    def _encode_preview(self, progress: nst.Progress) -> bytes:
        image = nst.image.tensor_to_pil(progress.image)
        image.thumbnail((self.preview_side, self.preview_side))
        buffer = io.BytesIO()
        # Fast compression: a preview is shown once and thrown away.
        image.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()


__all__ = ["JobQueue", "QueueFull"]
