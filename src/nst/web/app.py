"""The FastAPI application: REST API under /api, the page at /, the schema at /openapi.json.

Safety, in one place (`_Guard`, a plain ASGI middleware so it also covers streams):

* a token, when the app has one, is required on every /api call and on the schema: as
  ``Authorization: Bearer TOKEN`` or as the ``nst_token`` cookie the page sets (so that
  ``<img>`` and ``EventSource`` requests carry it without putting it in URLs and logs);
* without a token only loopback host names are answered, which stops DNS-rebinding pages from
  reaching a local server; a state-changing request whose Origin is another site is refused;
* request bodies are capped while they stream in, before anything is parsed;
* no CORS headers are ever sent, so other sites' scripts cannot read answers.

Uploads are validated by content (`nst.web.uploads`), stored under server-made ids, and ids in
URLs must be 32 hex digits: no client text reaches a file path. Style models are named, never
given by path (`nst.web.instant`).

Two kinds of job share the store and the gallery: an optimisation (queued, minutes, the finest
picture) and an instant job (a bundled style model paints the photo inside the request, about a
second, and the job is stored already done).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import nst
from nst.web.instant import InstantPainter, card_summary
from nst.web.jobs import JobQueue, QueueFull
from nst.web.store import ID_REGEX, QUEUED, RUNNING, TERMINAL, ImageInUse, JobRecord, Store
from nst.web.uploads import read_upload

STATIC_DIR = Path(__file__).with_name("static")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
#: The only values of these settings a client may choose: anything else would be a server path.
SAFE_INITS = ("content", "noise")
TOKEN_COOKIE = "nst_token"
#: Longest side of an instant picture when the client names none (the server's limit if lower).
INSTANT_SIZE = 1024

Id = Annotated[str, PathParam(pattern=ID_REGEX, description="a server-made id (32 hex digits)")]


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one client may ask of the server."""

    max_upload_bytes: int = 20 * 2**20
    max_pixels: int = 40_000_000
    # Longest side of an output (and of a stored upload), in px.
    max_size: int = 1024
    # Iterations of one job, all scales together.
    max_iterations: int = 5000
    max_styles: int = 4
    max_queued: int = 16


# API models ----------------------------------------------------------------------------------------


class ImageOut(BaseModel):
    id: str
    width: int
    height: int
    bytes: int
    url: str


class JobIn(BaseModel):
    content_id: str = Field(pattern=ID_REGEX, description="id of an uploaded photo")
    style_ids: list[Annotated[str, Field(pattern=ID_REGEX)]] = Field(
        min_length=1, description="ids of one or more uploaded paintings"
    )
    preset: str | None = Field(default=None, description="a preset name from GET /api/info")
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="StyleConfig fields to change (on top of the preset, or of the defaults)",
    )


class InstantIn(BaseModel):
    image_id: str = Field(pattern=ID_REGEX, description="id of an uploaded photo")
    model: str = Field(description="a bundled style model's name, from GET /api/models")
    size: int | None = Field(
        default=None,
        description=f"longest side in px (default {INSTANT_SIZE}, or the server's limit if lower)",
    )
    strength: float = Field(default=1.0, description="0 gives the photo, 1 the full style")
    preserve_color: str = Field(default="none", description="none, or luminance to keep the photo's colours")


class ModelOut(BaseModel):
    name: str
    painting: str = Field(description="the painting whose style the model paints")
    style_file: str
    style_sha256: str
    photos: int = Field(description="how many photos it was trained on")
    photos_source: str
    steps: int
    seconds: float
    device: str
    nst_version: str


class ModelList(BaseModel):
    models: list[ModelOut]


class ProgressOut(BaseModel):
    iteration: int
    max_iterations: int
    scale: int
    scales: int
    size: list[int]
    losses: dict[str, float]
    elapsed: float
    fraction: float = Field(description="share of the work done, 0 to 1 (weighted by pixels)")
    eta_seconds: float | None
    preview_url: str | None


class JobOut(BaseModel):
    id: str
    kind: str = Field(description="optimisation (queued) or instant (a style model, done at once)")
    model: str | None = Field(description="the style model of an instant job")
    status: str = Field(description="queued, running, done, failed or cancelled")
    created: float
    started: float | None
    finished: float | None
    content_id: str
    style_ids: list[str]
    content_url: str
    style_urls: list[str]
    preset: str | None
    overrides: dict[str, Any]
    settings: dict[str, Any]
    queue_position: int | None
    progress: ProgressOut | None
    result: dict[str, Any] | None
    result_url: str | None
    error: str | None
    attempts: int


class JobList(BaseModel):
    jobs: list[JobOut]
    counts: dict[str, int]


class InfoOut(BaseModel):
    version: str
    device: str
    defaults: dict[str, Any]
    default_size: int
    presets: dict[str, dict[str, Any]]
    preset_summaries: dict[str, str]
    preserve_color_modes: list[str] | None
    models: list[ModelOut] = Field(description="the bundled style models (as GET /api/models)")
    instant_size: int = Field(description="default longest side of an instant picture")
    limits: dict[str, int]
    counts: dict[str, int]


# The app -------------------------------------------------------------------------------------------


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
        token: required on every API call when given; see the module docstring.
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
        version=nst.__version__,
        summary="Neural style transfer (Gatys et al. 2015): upload a photo and a painting, get a painting.",
        lifespan=lifespan,
        # The interactive docs pages load scripts from a CDN; the schema alone is served.
        docs_url=None,
        redoc_url=None,
    )
    # Loaded models live as long as this app (the first picture of each style loads it).
    instant = InstantPainter(device)
    app.state.store, app.state.queue, app.state.limits = store, queue, limits
    app.state.instant = instant
    app.add_middleware(
        _Guard,
        token=token,
        allowed_hosts=allowed_hosts,
        max_body=limits.max_upload_bytes + 64 * 1024,
    )

    @app.exception_handler(nst.InputError)
    async def bad_input(request: Request, exc: nst.InputError) -> JSONResponse:
        return JSONResponse({"detail": " ".join(str(exc).split())}, status_code=400)

    @app.exception_handler(QueueFull)
    async def queue_full(request: Request, exc: QueueFull) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc), "retry_after": exc.retry_after},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )

    def job_out(job: JobRecord) -> JobOut:
        progress = None
        if job.status == RUNNING:
            _, live = queue.progress(job.id)
            if live is not None:
                version = live.pop("preview_version", None)
                live["preview_url"] = f"/api/jobs/{job.id}/preview?v={version}" if version else None
                progress = ProgressOut(**live)
        done = job.status == "done"
        return JobOut(
            id=job.id,
            kind="optimisation" if job.model is None else "instant",
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
            queue_position=store.queue_position(job) if job.status == QUEUED else None,
            progress=progress,
            result=job.result,
            result_url=f"/api/jobs/{job.id}/result" if done else None,
            error=job.error,
            attempts=job.attempts,
        )

    def found(job: JobRecord | None) -> JobRecord:
        if job is None:
            raise HTTPException(404, "no such job")
        return job

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/api/info", response_model=InfoOut, tags=["server"])
    def info() -> InfoOut:
        """Version, device, defaults, presets, limits and queue counts: what a client needs to start."""
        defaults = nst.StyleConfig()
        return InfoOut(
            version=nst.__version__,
            device=device,
            defaults=defaults.to_dict(),
            default_size=min(defaults.resolve_size(device.split(":")[0]), limits.max_size),
            presets=_presets(),
            preset_summaries=dict(getattr(nst.config, "PRESET_SUMMARIES", {})),
            preserve_color_modes=_preserve_color_modes(),
            models=[ModelOut(**card_summary(card)) for card in instant.cards()],
            instant_size=min(INSTANT_SIZE, limits.max_size),
            limits=dataclasses.asdict(limits),
            counts=store.counts(),
        )

    @app.post("/api/images", status_code=201, response_model=ImageOut, tags=["images"])
    async def upload_image(
        file: Annotated[UploadFile, File(description="a PNG, JPEG, WebP, GIF, BMP or TIFF")],
    ) -> ImageOut:
        """Upload a photo or a painting. It is checked by content and stored under a new id."""
        data = await file.read(limits.max_upload_bytes + 1)
        if len(data) > limits.max_upload_bytes:
            raise HTTPException(413, f"the upload is over {limits.max_upload_bytes / 2**20:g} MiB")
        image = await run_in_threadpool(
            read_upload, data, max_pixels=limits.max_pixels, max_side=limits.max_size
        )
        record = await run_in_threadpool(store.add_image, image)
        return ImageOut(
            id=record.id, width=record.width, height=record.height, bytes=record.bytes,
            url=f"/api/images/{record.id}",
        )  # fmt: skip

    @app.get("/api/images/{image_id}", tags=["images"], response_class=FileResponse)
    def get_image(image_id: Id) -> FileResponse:
        """An uploaded image, as the PNG the server stored."""
        if store.get_image(image_id) is None:
            raise HTTPException(404, "no such image")
        return FileResponse(store.image_path(image_id), media_type="image/png", headers=_IMMUTABLE)

    @app.get("/api/images/{image_id}/thumbnail", tags=["images"], response_class=FileResponse)
    def get_thumbnail(image_id: Id) -> FileResponse:
        """An upload as a small JPEG (at most 192 px), for galleries."""
        if store.get_image(image_id) is None:
            raise HTTPException(404, "no such image")
        return FileResponse(store.thumbnail(image_id), media_type="image/jpeg", headers=_IMMUTABLE)

    @app.delete("/api/images/{image_id}", status_code=204, tags=["images"])
    def delete_image(image_id: Id) -> Response:
        """Delete an upload no job uses (409 if one does)."""
        try:
            gone = store.delete_image(image_id)
        except ImageInUse as exc:
            raise HTTPException(409, str(exc)) from None
        if not gone:
            raise HTTPException(404, "no such image")
        return Response(status_code=204)

    @app.post(
        "/api/jobs",
        status_code=202,
        response_model=JobOut,
        tags=["jobs"],
        responses={429: {"description": "the queue is full; see Retry-After"}},
    )
    def submit_job(request: JobIn, response: Response) -> JobOut:
        """Queue a stylization. Settings are any StyleConfig fields, within the server's limits."""
        if len(request.style_ids) > limits.max_styles:
            raise nst.InputError(f"at most {limits.max_styles} style images, got {len(request.style_ids)}")
        settings = resolve_settings(request.preset, request.settings, device, limits)
        try:
            job = queue.submit(
                request.content_id, request.style_ids, request.preset, request.settings, settings
            )
        except LookupError as exc:
            raise HTTPException(404, f"no such image: {exc.args[0]}") from None
        response.headers["Location"] = f"/api/jobs/{job.id}"
        return job_out(job)

    @app.get("/api/models", response_model=ModelList, tags=["instant"])
    def list_models() -> ModelList:
        """The bundled style models: each paints a photo in one painting's style in about a second."""
        return ModelList(models=[ModelOut(**card_summary(card)) for card in instant.cards()])

    @app.post(
        "/api/instant",
        status_code=201,
        response_model=JobOut,
        tags=["instant"],
        responses={429: {"description": "too many pictures are waiting to be painted; see Retry-After"}},
    )
    def paint_instant(request: InstantIn, response: Response) -> JobOut:
        """Paint an uploaded photo with a bundled style model, at once (about a second).

        The picture is stored as a finished job (``kind: instant``), so it appears in the gallery
        with its settings. Runs in a worker thread, one picture at a time.
        """
        size = request.size if request.size is not None else min(INSTANT_SIZE, limits.max_size)
        if not 16 <= size <= limits.max_size:
            raise nst.InputError(
                f"size must be between 16 and this server's limit of {limits.max_size} px, got {size}"
            )
        if store.get_image(request.image_id) is None:
            raise HTTPException(404, f"no such image: {request.image_id}")
        photo = _stored_photo(store, request.image_id)
        painted = instant.paint(request.model, photo, size, request.strength, request.preserve_color)
        settings = {
            "model": request.model, "size": size, "strength": request.strength,
            "preserve_color": request.preserve_color,
        }  # fmt: skip
        summary = {
            "width": painted.image.width, "height": painted.image.height,
            "elapsed": round(painted.seconds, 4), "painting": painted.card.painting,
        }  # fmt: skip
        metadata = {
            "model": painted.card.name, "painting": painted.card.painting, "settings": settings,
            "size": list(painted.image.size), "version": nst.__version__,
        }  # fmt: skip
        asked = request.model_dump(exclude={"image_id"}, exclude_unset=True)
        try:
            job = store.add_instant(
                request.image_id, request.model, asked, settings, summary, painted.image, metadata
            )
        except LookupError:
            raise HTTPException(404, f"no such image: {request.image_id}") from None
        response.headers["Location"] = f"/api/jobs/{job.id}"
        return job_out(job)

    @app.get("/api/jobs", response_model=JobList, tags=["jobs"])
    def list_jobs(
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        status: Annotated[str | None, Query(pattern="^(queued|running|done|failed|cancelled)$")] = None,
    ) -> JobList:
        """Jobs, newest first, with counts by status."""
        return JobList(jobs=[job_out(j) for j in store.list_jobs(limit, status)], counts=store.counts())

    @app.get("/api/jobs/{job_id}", response_model=JobOut, tags=["jobs"])
    def get_job(job_id: Id) -> JobOut:
        """A job's status, settings, live progress (while running) and result summary."""
        return job_out(found(store.get_job(job_id)))

    @app.get(
        "/api/jobs/{job_id}/events",
        tags=["jobs"],
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
    )
    async def job_events(job_id: Id) -> StreamingResponse:
        """Progress as Server-Sent Events.

        Each ``job`` event carries the job as GET /api/jobs/{id} returns it (iteration, losses,
        ETA, a preview URL that changes every few seconds); the stream sends an ``end`` event
        and closes when the job is done, failed or cancelled, and ``deleted`` if it goes away.
        """
        found(store.get_job(job_id))
        return StreamingResponse(
            _event_stream(job_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _event_stream(job_id: str) -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        last: tuple[str, int] | None = None
        last_sent = time.monotonic()
        while True:
            job = store.get_job(job_id)
            if job is None:
                yield "event: deleted\ndata: {}\n\n"
                return
            version, _ = queue.progress(job_id)
            if (job.status, version) != last:
                last, last_sent = (job.status, version), time.monotonic()
                yield f"event: job\ndata: {job_out(job).model_dump_json()}\n\n"
            elif time.monotonic() - last_sent > 15:
                last_sent = time.monotonic()
                yield ": keep-alive\n\n"  # proxies close silent connections
            if job.status in TERMINAL:
                yield f"event: end\ndata: {json.dumps({'status': job.status})}\n\n"
                return
            await asyncio.sleep(stream_interval)

    @app.get("/api/jobs/{job_id}/preview", tags=["jobs"], response_class=Response)
    def job_preview(job_id: Id) -> Response:
        """The latest preview PNG of a running job (404 when there is none yet)."""
        data = queue.preview(job_id)
        if data is None:
            raise HTTPException(404, "no preview (the job is not running, or has not started)")
        return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.get("/api/jobs/{job_id}/result", tags=["jobs"], response_class=FileResponse)
    def job_result(job_id: Id, download: bool = False) -> FileResponse:
        """The finished picture (PNG, with its settings as metadata)."""
        job = found(store.get_job(job_id))
        path = store.result_path(job_id)
        if job.status != "done" or not path.exists():
            raise HTTPException(404, f"no result: the job is {job.status}")
        name = f"nst-{job_id[:8]}.png"
        return FileResponse(
            path,
            media_type="image/png",
            filename=name if download else None,
            headers=_IMMUTABLE,
            content_disposition_type="attachment" if download else "inline",
        )

    @app.post("/api/jobs/{job_id}/cancel", status_code=202, response_model=JobOut, tags=["jobs"])
    def cancel_job(job_id: Id) -> JobOut:
        """Cancel a queued job now, or a running one after its current iteration."""
        return job_out(found(queue.cancel(job_id)))

    @app.delete("/api/jobs/{job_id}", status_code=204, tags=["jobs"])
    def delete_job(job_id: Id) -> Response:
        """Delete a job and its result (a running job is stopped). Uploads stay."""
        if not queue.delete(job_id):
            raise HTTPException(404, "no such job")
        return Response(status_code=204)

    return app


_IMMUTABLE = {"Cache-Control": "private, max-age=31536000, immutable"}


def _stored_photo(store: Store, image_id: str) -> Any:
    """An upload as a PIL image; read as bytes so that an error names no server path."""
    try:
        data = store.image_path(image_id).read_bytes()
    except FileNotFoundError:
        raise HTTPException(404, f"no such image: {image_id}") from None
    try:
        return nst.image.load_pil(data)
    except nst.InputError as exc:
        raise nst.InputError(f"the stored photo cannot be read ({' '.join(str(exc).split())})") from None


def _presets() -> dict[str, dict[str, Any]]:
    """Named presets and their complete settings, if this version of the core has any."""
    names = getattr(nst.config, "PRESETS", None) or {}
    return {name: nst.StyleConfig.preset(name).to_dict() for name in names}


def _preserve_color_modes() -> list[str] | None:
    """Colour preservation modes, or None if this version of the core has no such setting."""
    if "preserve_color" not in {f.name for f in dataclasses.fields(nst.StyleConfig)}:
        return None
    return list(getattr(nst.config, "PRESERVE_COLOR_MODES", ("none",)))


def resolve_settings(
    preset: str | None, overrides: dict[str, Any], device: str, limits: Limits
) -> dict[str, Any]:
    """The complete, validated settings of a job: preset (or defaults) + overrides, size resolved.

    Raises `nst.InputError` for unknown settings, values the core refuses, anything that would
    name a server file (``init`` or ``weights`` paths), or work beyond the server's limits.
    """
    presets = getattr(nst.config, "PRESETS", None) or {}
    if preset is not None and preset not in presets:
        choices = ", ".join(presets) or "none on this server"
        raise nst.InputError(f"unknown preset {preset!r} (presets: {choices})")
    if "init" in overrides and overrides["init"] not in SAFE_INITS:
        raise nst.InputError(f"init must be one of {', '.join(SAFE_INITS)}")
    builtin = getattr(nst.weights, "BUILTIN_SOURCES", ("vgg19-caffe",))
    if "weights" in overrides and overrides["weights"] not in builtin:
        raise nst.InputError(f"weights must be one of {', '.join(builtin)}")
    base = nst.StyleConfig.preset(preset) if preset else nst.StyleConfig()
    config = nst.StyleConfig.from_dict({**base.to_dict(), **overrides})
    size = config.resolve_size(device.split(":")[0])
    if size > limits.max_size:
        raise nst.InputError(f"size {size} is over this server's limit of {limits.max_size} px")
    config = config.with_changes(size=size)
    total = sum(iterations for _, iterations in config.scale_plan(size))
    if total > limits.max_iterations:
        raise nst.InputError(
            f"{total} iterations in all is over this server's limit of {limits.max_iterations}"
        )
    style_side = config.style_longest_side(size)
    if style_side > limits.max_size:
        raise nst.InputError(f"style size {style_side} is over this server's limit of {limits.max_size} px")
    return config.to_dict()


# The guard -----------------------------------------------------------------------------------------


class _BodyTooLarge(Exception):
    pass


class _Guard:
    """Host check, body cap, token check, cross-site refusal and security headers (see module doc)."""

    def __init__(
        self, app: ASGIApp, *, token: str | None, allowed_hosts: tuple[str, ...] | None, max_body: int
    ) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts else None
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.allowed_hosts is not None and _host_name(host) not in self.allowed_hosts:
            await _refuse(send, 400, "this server answers only to localhost (use --token to serve others)")
            return
        path: str = scope["path"]
        if self.token is not None and (path.startswith("/api/") or path == "/openapi.json"):
            if not self._authorised(headers):
                await _refuse(send, 401, "a valid token is needed", {"WWW-Authenticate": "Bearer"})
                return
        if scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            origin = headers.get("origin")
            if origin and origin != "null" and urlsplit(origin).netloc.lower() != host.lower():
                await _refuse(send, 403, "cross-site requests are refused")
                return
            if origin == "null":
                await _refuse(send, 403, "cross-site requests are refused")
                return
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _refuse(send, 413, f"the request is over {self.max_body // 2**20} MiB")
            return

        received = 0
        started = False

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _BodyTooLarge
            return message

        async def secured_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = list(message.get("headers", [])) + _SECURITY_HEADERS
            await send(message)

        try:
            await self.app(scope, capped_receive, secured_send)
        except _BodyTooLarge:
            if not started:
                await _refuse(send, 413, f"the request is over {self.max_body // 2**20} MiB")

    def _authorised(self, headers: dict[str, str]) -> bool:
        assert self.token is not None
        given = ""
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            given = value.strip()
        elif "cookie" in headers:
            cookie = SimpleCookie()
            try:
                cookie.load(headers["cookie"])
            except Exception:
                return False
            if TOKEN_COOKIE in cookie:
                given = unquote(cookie[TOKEN_COOKIE].value)
        return bool(given) and hmac.compare_digest(given.encode(), self.token)


def _host_name(host: str) -> str:
    """'127.0.0.1:8000' -> '127.0.0.1', '[::1]:8000' -> '::1'."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
]


async def _refuse(send: Send, status: int, detail: str, extra: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()] + _SECURITY_HEADERS
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
