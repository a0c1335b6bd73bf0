"""The routes, one module per resource; `nst.web.app.create_app` includes every router here.

* `page`: the page at / (its files are served from /static).
* `info`: GET /api/info, what a client needs to start.
* `images`: uploads, their thumbnails, deleting them.
* `jobs`: optimisation jobs: submit, list, status, preview, result, cancel, delete.
* `events`: a job's progress as Server-Sent Events.
* `instant`: the bundled style models and instant pictures.
* `anypainting`: a photo in the style of any uploaded painting, painted at once.
"""

from nst.web.routes import anypainting, events, images, info, instant, jobs, page

ROUTERS = (
    page.router, info.router, images.router, jobs.router, events.router, instant.router,
    anypainting.router,
)  # fmt: skip

__all__ = ["ROUTERS"]
