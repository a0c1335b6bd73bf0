"""What the store keeps: ids, job statuses, and the records of uploads and jobs."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

import nst

#: Ids are uuid4 hex: 32 lowercase hex digits, nothing else.
ID_REGEX = r"^[0-9a-f]{32}$"
_ID = re.compile(ID_REGEX)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
TERMINAL = frozenset({DONE, FAILED, CANCELLED})


def new_id() -> str:
    """A fresh id for an upload or a job (random, so ids reveal nothing and cannot be guessed)."""
    return uuid.uuid4().hex


def checked_id(value: str) -> str:
    # Routes already validate ids; this is the last line of defence before a path is built.
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise nst.InputError(f"not an id: {value!r}")
    return value


@dataclass(frozen=True)
class ImageRecord:
    """An upload: its id, when it came, and its size once validated and stored."""

    id: str
    created: float
    width: int
    height: int
    bytes: int


@dataclass(frozen=True)
class JobRecord:
    """One stylization request and what became of it."""

    id: str
    seq: int
    created: float
    status: str
    content_id: str
    style_ids: list[str]
    preset: str | None
    # What the client asked to change (on top of the preset or the defaults), for "re-run".
    overrides: dict[str, Any]
    # The complete StyleConfig.to_dict() the worker runs, size resolved.
    settings: dict[str, Any]
    error: str | None = None
    result: dict[str, Any] | None = None
    started: float | None = None
    finished: float | None = None
    attempts: int = 0
    # The bundled style model of an instant job (painted at once, never queued); None for an
    # optimisation.
    model: str | None = None
    # "anypainting" for a picture painted at once by the any-painting decoder; None otherwise
    # (the kind then follows from ``model``: see `kind_of`).
    kind: str | None = None


#: A picture of any uploaded painting, painted at once (`nst.universal`), never queued.
ANYPAINTING = "anypainting"


def kind_of(job: JobRecord) -> str:
    """optimisation (queued), instant (a bundled style model) or anypainting (the decoder)."""
    if job.kind:
        return job.kind
    return "optimisation" if job.model is None else "instant"


def job_from_row(row: sqlite3.Row) -> JobRecord:
    data = dict(row)
    return JobRecord(
        id=data["id"],
        seq=data["seq"],
        created=data["created"],
        status=data["status"],
        content_id=data["content_id"],
        style_ids=json.loads(data["style_ids"]),
        preset=data["preset"],
        overrides=json.loads(data["overrides"]),
        settings=json.loads(data["settings"]),
        error=data["error"],
        result=json.loads(data["result"]) if data["result"] else None,
        started=data["started"],
        finished=data["finished"],
        attempts=data["attempts"],
        model=data.get("model"),
        kind=data.get("kind"),
    )
