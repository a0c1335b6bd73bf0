"""The FastAPI application: REST API under /api, the page at /, the schema at /openapi.json.

`create_app` builds the app from its parts:

* `nst.web.routes`: the routes, one module per resource (page, info, images, jobs, events,
  instant, anypainting);
* `nst.web.schemas`: the request and response bodies;
* `nst.web.guard`: every check of what a client sends: the settings a client may set (an
  allowlist: nothing that names a file, a path or weights), uploads, sizes, and the
  `RequestGuard` middleware (Host, token, cross-site writes, body size, security headers);
* `nst.web.dependencies`: the `Server` state the routes share;
* `nst.web.store`, `nst.web.jobs`, `nst.web.instant`, `nst.web.anypainting`: jobs and uploads on
  disk, the queue and its worker, the bundled style models, the any-painting decoder.

Three kinds of job share the store and the gallery: an optimisation (queued, minutes, the finest
picture), an instant job (a bundled style model paints the photo inside the request, about a
second, and the job is stored already done) and an any-painting job (the photo in the style of
an uploaded painting, painted inside the request in seconds by `nst.universal`'s decoder, stored
already done).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

import nst
from nst._version import __version__
from nst.web.anypainting import AnyPainter
from nst.web.dependencies import Server
from nst.web.guard import LOOPBACK_HOSTS, Limits, RequestGuard
from nst.web.instant import InstantPainter
from nst.web.jobs import JobQueue, QueueFull
from nst.web.routes import ROUTERS
from nst.web.routes.page import STATIC_DIR
from nst.web.store import Store
from nst.web.uploads import TooLarge

__all__ = ["Limits", "create_app"]


def create_app(
    data_dir: str | Path,
    token: str | None = None,
    *,
    device: str = "cpu",
    limits: Limits | None = None,
    preview_interval: float = 2.0,
    stream_interval: float = 0.25,
    checkpoint_seconds: float | None = None,
    allowed_hosts: tuple[str, ...] | None = None,
    start_worker: bool = True,
) -> FastAPI:
    """The web app over the jobs and images in ``data_dir``.

    Args:
        data_dir: folder for the database and images (created if missing).
        token: required on every API call when given (see `nst.web.guard.RequestGuard`).
        device: torch device of the worker.
        limits: sizes and counts one client may ask for.
        preview_interval: seconds between preview images of the running job.
        stream_interval: how often a progress stream looks for news, in seconds.
        checkpoint_seconds: seconds between checkpoints of the running job (None: the core's
            default); a restart resumes from the last one.
        allowed_hosts: Host header names answered; default: loopback names without a token,
            any with one.
        start_worker: False leaves the queue undrained (tests of the queue itself).
    """
    limits = limits or Limits()
    store = Store(data_dir)
    queue = JobQueue(
        store,
        device=device,
        max_queued=limits.max_queued,
        preview_interval=preview_interval,
        checkpoint_seconds=checkpoint_seconds,
    )
    if allowed_hosts is None and not token:
        allowed_hosts = LOOPBACK_HOSTS

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Uploads no job used for a day were abandoned in the page.
        await run_in_threadpool(store.prune_images, 24 * 3600)
        await run_in_threadpool(queue.recover)
        if start_worker:
            queue.start()
        try:
            yield
        finally:
            await run_in_threadpool(queue.stop)
            store.close()

    app = FastAPI(
        title="nst",
        version=__version__,
        summary="Neural style transfer (Gatys et al. 2015): upload a photo and a painting, get a painting.",
        lifespan=lifespan,
        # The interactive docs pages load scripts from a CDN; the schema alone is served.
        docs_url=None,
        redoc_url=None,
    )
    # Loaded style models and the any-painting decoder live as long as this app (the first picture
    # of each loads it); they paint one picture at a time between them.
    painter = InstantPainter(device)
    app.state.server = Server(
        store, queue, painter, limits, device, stream_interval, AnyPainter(device, painter.turn)
    )
    app.add_middleware(RequestGuard, token=token, allowed_hosts=allowed_hosts, limits=limits)

    @app.exception_handler(nst.InputError)
    async def bad_input(request: Request, exc: nst.InputError) -> JSONResponse:
        return JSONResponse({"detail": " ".join(str(exc).split())}, status_code=400)

    @app.exception_handler(TooLarge)
    async def too_large(request: Request, exc: TooLarge) -> JSONResponse:
        return JSONResponse({"detail": " ".join(str(exc).split())}, status_code=413)

    @app.exception_handler(QueueFull)
    async def queue_full(request: Request, exc: QueueFull) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc), "retry_after": exc.retry_after},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )

    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
