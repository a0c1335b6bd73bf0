"""A job's progress as Server-Sent Events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from nst.web.dependencies import Id, Server, ServerDep
from nst.web.records import TERMINAL

router = APIRouter(tags=["jobs"])


@router.get(
    "/api/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def job_events(server: ServerDep, job_id: Id) -> StreamingResponse:
    """Progress as Server-Sent Events.

    Each ``job`` event carries the job as GET /api/jobs/{id} returns it (iteration, losses,
    ETA, a preview URL that changes every few seconds); the stream sends an ``end`` event
    and closes when the job is done, failed or cancelled, and ``deleted`` if it goes away.
    """
    server.job(job_id)
    return StreamingResponse(
        _event_stream(server, job_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _event_stream(server: Server, job_id: str) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    last: tuple[str, int] | None = None
    last_sent = time.monotonic()
    while True:
        job = server.store.get_job(job_id)
        if job is None:
            yield "event: deleted\ndata: {}\n\n"
            return
        version, _ = server.queue.progress(job_id)
        if (job.status, version) != last:
            last, last_sent = (job.status, version), time.monotonic()
            yield f"event: job\ndata: {server.job_out(job).model_dump_json()}\n\n"
        elif time.monotonic() - last_sent > 15:
            last_sent = time.monotonic()
            yield ": keep-alive\n\n"  # proxies close silent connections
        if job.status in TERMINAL:
            yield f"event: end\ndata: {json.dumps({'status': job.status})}\n\n"
            return
        await asyncio.sleep(server.stream_interval)
