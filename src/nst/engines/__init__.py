"""Where independent jobs run: the local process pool (the default) or a Ray cluster.

Every engine takes the same job descriptions (`Job`, frozen) and hands back the same results
(`JobResult`), one per job, through a callback, so a caller switches engine with one argument:

    engine = make_engine("ray", address="auto", task_cpus=2)   # or make_engine("local", jobs=2)
    engine.run(jobs, on_result=commit, on_event=show)

A job paints one picture: a Gatys optimisation (``style`` and ``config`` given) or a style
model painting a photo (``model`` given). Its worker writes the picture into ``job.folder``
under a temporary name of its own (``.NAME.TOKEN.partial.png``, unique per attempt) and
returns that name with the file's checksum; the caller records it and renames it into place.
So a retried attempt never collides with an earlier one, and nothing half-written ever carries
a final name.

Per-frame work (``nst video`` with independent frames, `nst.video.frames`): the video driver
makes one job per frame of a chunk (``content`` = the frame's file) and hands the chunk to the
engine, used as a context manager (``with engine:``) so that its pool or its Ray session lasts
for the whole clip; ordering and encoding stay in the driver, which gets each result's index
back.

Nothing in the core (image, features, losses, transfer, models) imports this package; Ray is
imported only inside `nst.engines.ray`, and only when that engine runs.
"""

from __future__ import annotations

from typing import Any

from nst.engines.jobs import PARTIAL_SUFFIX, Engine, Event, Job, JobResult, OnEvent, OnResult
from nst.errors import InputError

ENGINES = ("local", "ray")

__all__ = ["ENGINES", "PARTIAL_SUFFIX", "Engine", "Event", "Job", "JobResult", "OnEvent", "OnResult", "make_engine"]


def make_engine(name: str, **options: Any) -> Engine:
    """``local`` (options: jobs) or ``ray`` (options: address, task_cpus, task_gpus, max_retries,
    model_jobs)."""
    if name == "local":
        from nst.engines.local import LocalEngine

        return LocalEngine(**options)
    if name == "ray":
        from nst.engines.ray import RayEngine

        return RayEngine(**options)
    raise InputError(f"unknown engine {name!r} (one of {', '.join(ENGINES)})")


__all__ = ["ENGINES", "PARTIAL_SUFFIX", "Engine", "Event", "Job", "JobResult", "OnEvent", "OnResult", "make_engine"]
