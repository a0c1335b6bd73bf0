"""Uploads: checked by content (`nst.web.uploads.read_upload`), stored under server-made ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, UploadFile
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from nst.web.dependencies import IMMUTABLE, Id, ServerDep
from nst.web.schemas import ImageOut
from nst.web.store import ImageInUse
from nst.web.uploads import read_upload

router = APIRouter(tags=["images"])


@router.post("/api/images", status_code=201, response_model=ImageOut)
async def upload_image(
    server: ServerDep,
    file: Annotated[UploadFile, File(description="a PNG, JPEG, WebP, GIF, BMP or TIFF")],
) -> ImageOut:
    """Upload a photo or a painting. It is checked by content and stored under a new id."""
    data = await file.read(server.limits.max_upload_bytes + 1)
    image = await run_in_threadpool(read_upload, data, server.limits)
    record = await run_in_threadpool(server.store.add_image, image)
    return ImageOut(
        id=record.id, width=record.width, height=record.height, bytes=record.bytes,
        url=f"/api/images/{record.id}",
    )  # fmt: skip


@router.get("/api/images/{image_id}", response_class=FileResponse)
def get_image(server: ServerDep, image_id: Id) -> FileResponse:
    """An uploaded image, as the PNG the server stored."""
    if server.store.get_image(image_id) is None:
        raise HTTPException(404, "no such image")
    return FileResponse(server.store.image_path(image_id), media_type="image/png", headers=IMMUTABLE)


@router.get("/api/images/{image_id}/thumbnail", response_class=FileResponse)
def get_thumbnail(server: ServerDep, image_id: Id) -> FileResponse:
    """An upload as a small JPEG (at most 192 px), for galleries."""
    if server.store.get_image(image_id) is None:
        raise HTTPException(404, "no such image")
    return FileResponse(server.store.thumbnail(image_id), media_type="image/jpeg", headers=IMMUTABLE)


@router.delete("/api/images/{image_id}", status_code=204)
def delete_image(server: ServerDep, image_id: Id) -> Response:
    """Delete an upload no job uses (409 if one does)."""
    try:
        gone = server.store.delete_image(image_id)
    except ImageInUse as exc:
        raise HTTPException(409, str(exc)) from None
    if not gone:
        raise HTTPException(404, "no such image")
    return Response(status_code=204)
