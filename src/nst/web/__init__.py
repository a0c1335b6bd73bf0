"""The web app and REST API (`nst serve`): upload two pictures, watch them paint, keep a gallery.

Needs the ``web`` extra (FastAPI, uvicorn, python-multipart). Nothing here imports them until it
is used, so ``import nst.web`` and the rest of the CLI work without it.

* `nst.web.app.create_app` builds the FastAPI application from the routers in `nst.web.routes`
  (one module per resource), the bodies in `nst.web.schemas` and the middleware in
  `nst.web.guard`.
* `nst.web.guard` holds every check of what a client sends: the settings a client may set (an
  allowlist), uploads, sizes, the token, the Host header and body sizes.
* `nst.web.jobs.JobQueue` is the bounded queue and its worker thread.
* `nst.web.store.Store` keeps jobs and uploads in SQLite, with the images as files beside it.
* `nst.web.instant.InstantPainter` paints with the bundled style models.
* `nst.cli.serve` is the ``nst serve`` command.
"""

from __future__ import annotations

from typing import Any


def create_app(*args: Any, **kwargs: Any) -> Any:
    """`nst.web.app.create_app`, imported on first use (FastAPI is an optional dependency)."""
    from nst.web.app import create_app as factory

    return factory(*args, **kwargs)


__all__ = ["create_app"]
