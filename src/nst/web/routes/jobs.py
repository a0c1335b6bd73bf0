"""Optimisation jobs: queued, run one at a time by the worker (`nst.web.jobs.JobQueue`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse, Response

import nst
from nst.web.dependencies import IMMUTABLE, Id, ServerDep
from nst.web.guard import resolve_settings
from nst.web.schemas import JobIn, JobList, JobOut

router = APIRouter(tags=["jobs"])


@router.post(
    "/api/jobs",
    status_code=202,
    response_model=JobOut,
    responses={429: {"description": "the queue is full; see Retry-After"}},
)
def submit_job(server: ServerDep, request: JobIn, response: Response) -> JobOut:
    """Queue a stylization. Settings are StyleConfig fields, within the server's limits; fields
    that would name a file on the server (mask, weights) cannot be set."""
    limits = server.limits
    if len(request.style_ids) > limits.max_styles:
        raise nst.InputError(f"at most {limits.max_styles} style images, got {len(request.style_ids)}")
    settings = resolve_settings(
        request.preset, request.settings, server.device, limits, styles=len(request.style_ids)
    )
    try:
        job = server.queue.submit(
            request.content_id, request.style_ids, request.preset, request.settings, settings
        )
    except LookupError as exc:
        raise HTTPException(404, f"no such image: {exc.args[0]}") from None
    response.headers["Location"] = f"/api/jobs/{job.id}"
    return server.job_out(job)


@router.get("/api/jobs", response_model=JobList)
def list_jobs(
    server: ServerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    status: Annotated[str | None, Query(pattern="^(queued|running|done|failed|cancelled)$")] = None,
) -> JobList:
    """Jobs, newest first, with counts by status."""
    jobs = server.store.list_jobs(limit, status)
    return JobList(jobs=[server.job_out(j) for j in jobs], counts=server.store.counts())


@router.get("/api/jobs/{job_id}", response_model=JobOut)
def get_job(server: ServerDep, job_id: Id) -> JobOut:
    """A job's status, settings, live progress (while running) and result summary."""
    return server.job_out(server.job(job_id))


@router.get("/api/jobs/{job_id}/preview", response_class=Response)
def job_preview(server: ServerDep, job_id: Id) -> Response:
    """The latest preview PNG of a running job (404 when there is none yet)."""
    data = server.queue.preview(job_id)
    if data is None:
        raise HTTPException(404, "no preview (the job is not running, or has not started)")
    return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/api/jobs/{job_id}/result", response_class=FileResponse)
def job_result(server: ServerDep, job_id: Id, download: bool = False) -> FileResponse:
    """The finished picture (PNG, with its settings as metadata)."""
    job = server.job(job_id)
    path = server.store.result_path(job_id)
    if job.status != "done" or not path.exists():
        raise HTTPException(404, f"no result: the job is {job.status}")
    return FileResponse(
        path,
        media_type="image/png",
        filename=f"nst-{job_id[:8]}.png" if download else None,
        headers=IMMUTABLE,
        content_disposition_type="attachment" if download else "inline",
    )


@router.post("/api/jobs/{job_id}/cancel", status_code=202, response_model=JobOut)
def cancel_job(server: ServerDep, job_id: Id) -> JobOut:
    """Cancel a queued job now, or a running one after its current iteration."""
    job = server.queue.cancel(job_id)
    if job is None:
        raise HTTPException(404, "no such job")
    return server.job_out(job)


@router.delete("/api/jobs/{job_id}", status_code=204)
def delete_job(server: ServerDep, job_id: Id) -> Response:
    """Delete a job and its result (a running job is stopped). Uploads stay."""
    if not server.queue.delete(job_id):
        raise HTTPException(404, "no such job")
    return Response(status_code=204)
