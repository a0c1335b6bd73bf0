"""What the routes share: one `Server` per app (store, queue, painters, limits), and how a job is shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi import Path as PathParam

from nst.web.anypainting import AnyPainter
from nst.web.guard import Limits
from nst.web.instant import InstantPainter
from nst.web.jobs import JobQueue
from nst.web.records import ID_REGEX, QUEUED, RUNNING, JobRecord, kind_of
from nst.web.schemas import JobOut, ProgressOut
from nst.web.store import Store

#: A server-made id in a URL: no other text reaches a file name.
Id = Annotated[str, PathParam(pattern=ID_REGEX, description="a server-made id (32 hex digits)")]


@dataclass
class Server:
    """The state of one app, made by `nst.web.app.create_app`."""

    store: Store
    queue: JobQueue
    painter: InstantPainter
    limits: Limits
    device: str
    # How often a progress stream looks for news, in seconds.
    stream_interval: float
    # The any-painting decoder (loaded on first use), sharing ``painter``'s turn.
    anypainting: AnyPainter

    def job(self, job_id: str) -> JobRecord:
        """The job, or 404."""
        job = self.store.get_job(job_id)
        if job is None:
            raise HTTPException(404, "no such job")
        return job

    def job_out(self, job: JobRecord) -> JobOut:
        """A job as the API shows it: URLs, queue position, live progress while it runs."""
        progress = None
        if job.status == RUNNING:
            _, live = self.queue.progress(job.id)
            if live is not None:
                version = live.pop("preview_version", None)
                live["preview_url"] = f"/api/jobs/{job.id}/preview?v={version}" if version else None
                progress = ProgressOut(**live)
        done = job.status == "done"
        return JobOut(
            id=job.id,
            kind=kind_of(job),
            model=job.model,
            status=job.status,
            created=job.created,
            started=job.started,
            finished=job.finished,
            content_id=job.content_id,
            style_ids=job.style_ids,
            content_url=f"/api/images/{job.content_id}",
            style_urls=[f"/api/images/{i}" for i in job.style_ids],
            preset=job.preset,
            overrides=job.overrides,
            settings=job.settings,
            queue_position=self.store.queue_position(job) if job.status == QUEUED else None,
            progress=progress,
            result=job.result,
            result_url=f"/api/jobs/{job.id}/result" if done else None,
            error=job.error,
            attempts=job.attempts,
        )


def get_server(request: Request) -> Server:
    return request.app.state.server


#: The app's `Server`, for a route's parameters.
ServerDep = Annotated[Server, Depends(get_server)]

#: Cache-Control of what never changes under its URL (uploads, results).
IMMUTABLE = {"Cache-Control": "private, max-age=31536000, immutable"}
