"""The REST API's request and response bodies (pydantic models; they make the OpenAPI schema).

Request bodies refuse fields they do not know (422): a misspelt or unsupported field is an
error, not silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from nst.web.records import ID_REGEX

#: Longest side of an instant picture when the client names none (the server's limit if lower).
INSTANT_SIZE = 1024


class ImageOut(BaseModel):
    id: str
    width: int
    height: int
    bytes: int
    url: str


class JobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_id: str = Field(pattern=ID_REGEX, description="id of an uploaded photo")
    style_ids: list[Annotated[str, Field(pattern=ID_REGEX)]] = Field(
        min_length=1, description="ids of one or more uploaded paintings"
    )
    preset: str | None = Field(default=None, max_length=64, description="a preset name from GET /api/info")
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="StyleConfig fields to change (on top of the preset, or of the defaults); "
        "fields that name files (mask, weights) cannot be set",
    )


class InstantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_id: str = Field(pattern=ID_REGEX, description="id of an uploaded photo")
    model: str = Field(max_length=128, description="a bundled style model's name, from GET /api/models")
    size: int | None = Field(
        default=None,
        description=f"longest side in px (default {INSTANT_SIZE}, or the server's limit if lower)",
    )
    strength: float = Field(default=1.0, description="0 gives the photo, 1 the full style")
    preserve_color: str = Field(
        default="none", max_length=32, description="none, or luminance to keep the photo's colours"
    )


class AnyPaintingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_id: str = Field(pattern=ID_REGEX, description="id of an uploaded photo")
    painting_id: str = Field(pattern=ID_REGEX, description="id of an uploaded painting, whose style it takes")
    size: int | None = Field(
        default=None,
        description=f"longest side in px (default {INSTANT_SIZE}, or the server's limit if lower)",
    )
    strength: float = Field(default=1.0, description="0 gives the photo, 1 the full style")
    preserve_color: str = Field(
        default="none", max_length=32, description="none, or luminance to keep the photo's colours"
    )
    stroke_scale: float = Field(
        default=1.0,
        description="the painting's size relative to the photo's: 2 paints strokes twice as large "
        "(0.25 to 4)",
    )


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
    kind: str = Field(
        description="optimisation (queued), instant (a style model, done at once) or anypainting "
        "(the any-painting decoder and an uploaded painting, done at once)"
    )
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
    preserve_color_modes: list[str]
    models: list[ModelOut] = Field(description="the bundled style models (as GET /api/models)")
    instant_size: int = Field(description="default longest side of an instant or any-painting picture")
    anypainting: bool = Field(
        description="whether this server paints any painting instantly (POST /api/anypainting)"
    )
    stroke_scales: list[float] = Field(
        description="the least and the most stroke_scale of an any-painting picture"
    )
    limits: dict[str, int]
    counts: dict[str, int]
