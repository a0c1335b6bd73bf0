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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from nst.errors import InputError
from nst.optimise.config import StyleConfig

ENGINES = ("local", "ray")
#: Suffix of the temporary files workers write (the runner removes leftovers of killed runs).
PARTIAL_SUFFIX = ".partial.png"


@dataclass(frozen=True)
class Job:
    """One independent picture to paint, and where its worker writes it."""

    index: int
    #: The output's file stem; the finished picture is ``folder/NAME.png``.
    name: str
    #: The output folder (absolute; on a cluster, a path every node sees).
    folder: str
    #: The photo.
    content: str
    #: A Gatys optimisation: the artwork and the settings.
    style: str | None = None
    config: StyleConfig | None = None
    #: A style model painting the photo: its name or file, and the painting options.
    model: str | None = None
    size: int | None = None
    strength: float = 1.0
    preserve_color: str = "none"
    device: str = "cpu"
    #: Extra PNG metadata (JSON values), e.g. the experiment cell this picture is.
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "model" if self.model is not None else "optimise"


@dataclass(frozen=True)
class JobResult:
    """What a worker hands back: the temporary file it wrote (in the job's folder) or an error."""

    index: int
    name: str
    #: File name (in the job's folder) of the written picture, not yet in place; None on error.
    partial: str | None
    sha256: str | None
    #: The run's record: device, size, iterations, stop reason, timings, losses, history.
    record: dict[str, Any]
    #: One line when the job's input could not be painted (an unreadable photo); the batch goes on.
    error: str | None = None


@dataclass(frozen=True)
class Event:
    """Progress of a run, for the caller to display. ``kind``: skip, start, progress, done or failed."""

    kind: str
    index: int
    name: str
    iteration: int = 0
    max_iterations: int = 0
    loss: float | None = None
    elapsed: float = 0.0


OnResult = Callable[[JobResult], None]
OnEvent = Callable[[Event], None]


class Engine(Protocol):
    """Runs jobs and calls ``on_result`` once per job, in this (the calling) thread."""

    name: str

    def run(self, jobs: Sequence[Job], on_result: OnResult, on_event: OnEvent | None = None) -> None: ...

    def __enter__(self) -> Engine:
        """Keep the workers (processes, a Ray session) for every `run` until the block ends."""
        ...

    def __exit__(self, *exc: object) -> None: ...


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
