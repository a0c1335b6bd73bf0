"""Instant styles: the bundled style models, and a photo painted by one inside the request."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response
from PIL import Image

import nst
from nst._version import __version__
from nst.image import load_pil
from nst.web.dependencies import ServerDep
from nst.web.guard import instant_size
from nst.web.instant import card_summary
from nst.web.schemas import INSTANT_SIZE, InstantIn, JobOut, ModelList, ModelOut
from nst.web.store import Store

router = APIRouter(tags=["instant"])


@router.get("/api/models", response_model=ModelList)
def list_models(server: ServerDep) -> ModelList:
    """The bundled style models: each paints a photo in one painting's style in about a second."""
    return ModelList(models=[ModelOut(**card_summary(card)) for card in server.painter.cards()])


@router.post(
    "/api/instant",
    status_code=201,
    response_model=JobOut,
    responses={429: {"description": "too many pictures are waiting to be painted; see Retry-After"}},
)
def paint_instant(server: ServerDep, request: InstantIn, response: Response) -> JobOut:
    """Paint an uploaded photo with a bundled style model, at once (about a second).

    The picture is stored as a finished job (``kind: instant``), so it appears in the gallery
    with its settings. Runs in a worker thread, one picture at a time. The model is a bundled
    model's name, never a path.
    """
    size = instant_size(request.size, INSTANT_SIZE, server.limits)
    store = server.store
    if store.get_image(request.image_id) is None:
        raise HTTPException(404, f"no such image: {request.image_id}")
    photo = stored_picture(store, request.image_id)
    painted = server.painter.paint(request.model, photo, size, request.strength, request.preserve_color)
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
        "size": list(painted.image.size), "version": __version__,
    }  # fmt: skip
    asked = request.model_dump(exclude={"image_id"}, exclude_unset=True)
    try:
        job = store.add_instant(
            request.image_id, request.model, asked, settings, summary, painted.image, metadata
        )
    except LookupError:
        raise HTTPException(404, f"no such image: {request.image_id}") from None
    response.headers["Location"] = f"/api/jobs/{job.id}"
    return server.job_out(job)


def stored_picture(store: Store, image_id: str, role: str = "photo") -> Image.Image:
    """An upload as a PIL image; read as bytes so that an error names no server path (the
    upload is "the stored photo" or "the stored painting", after ``role``)."""
    try:
        data = store.image_path(image_id).read_bytes()
    except FileNotFoundError:
        raise HTTPException(404, f"no such image: {image_id}") from None
    try:
        return load_pil(data)
    except nst.InputError as exc:
        raise nst.InputError(f"the stored {role} cannot be read ({' '.join(str(exc).split())})") from None
