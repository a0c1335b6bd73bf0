"""Any painting, instantly: a photo in the style of an uploaded painting, painted inside the request."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from nst._version import __version__
from nst.picture import check_options
from nst.web.anypainting import Unavailable
from nst.web.dependencies import ServerDep
from nst.web.guard import instant_size, stroke_scale
from nst.web.records import ANYPAINTING
from nst.web.routes.instant import stored_picture
from nst.web.schemas import INSTANT_SIZE, AnyPaintingIn, JobOut

router = APIRouter(tags=["instant"])


@router.post(
    "/api/anypainting",
    status_code=201,
    response_model=JobOut,
    responses={
        429: {"description": "too many pictures are waiting to be painted; see Retry-After"},
        503: {"description": "this server has no any-painting decoder (GET /api/info says so)"},
    },
)
def paint_any(server: ServerDep, request: AnyPaintingIn, response: Response) -> JobOut:
    """Paint an uploaded photo in the style of another upload, a painting, at once (seconds).

    No training per painting: the photo's VGG features take the painting's statistics and the
    bundled decoder turns them back into a picture (`nst.universal`), rougher than an optimised
    picture. The picture is stored as a finished job (``kind: anypainting``, the painting in
    ``style_ids``), so it appears in the gallery with its settings. Runs in a worker thread, one
    picture at a time (style models' pictures included).
    """
    size = instant_size(request.size, INSTANT_SIZE, server.limits)
    scale = stroke_scale(request.stroke_scale)
    check_options(request.strength, request.preserve_color)
    store = server.store
    for image_id in (request.image_id, request.painting_id):
        if store.get_image(image_id) is None:
            raise HTTPException(404, f"no such image: {image_id}")
    if not server.anypainting.available():
        raise HTTPException(503, "this server has no any-painting decoder")
    photo = stored_picture(store, request.image_id, "photo")
    painting = stored_picture(store, request.painting_id, "painting")

    from nst.universal.config import InstantConfig

    # The painting's statistics are taken at stroke_scale times the photo's size, at most the
    # core's cap and this server's largest size (its encoding costs as much as a photo's).
    config = InstantConfig(
        size=size, strength=request.strength, preserve_color=request.preserve_color,
        stroke_scale=scale, max_style_size=min(InstantConfig.max_style_size, server.limits.max_size),
    )  # fmt: skip
    try:
        painted = server.anypainting.paint(photo, painting, config)
    except Unavailable as exc:
        raise HTTPException(503, str(exc)) from None
    settings = {
        "size": size, "strength": request.strength, "preserve_color": request.preserve_color,
        "stroke_scale": scale,
    }  # fmt: skip
    summary = {
        "width": painted.image.width,
        "height": painted.image.height,
        "elapsed": round(painted.seconds, 4),
    }
    metadata = {
        "engine": ANYPAINTING, "settings": settings, "config": config.to_dict(),
        "size": list(painted.image.size), "version": __version__,
    }  # fmt: skip
    asked = request.model_dump(exclude={"image_id", "painting_id"}, exclude_unset=True)
    try:
        job = store.add_instant(
            request.image_id, None, asked, settings, summary, painted.image, metadata,
            style_ids=[request.painting_id], kind=ANYPAINTING,
        )  # fmt: skip
    except LookupError as exc:
        raise HTTPException(404, f"no such image: {exc.args[0]}") from None
    response.headers["Location"] = f"/api/jobs/{job.id}"
    return server.job_out(job)
