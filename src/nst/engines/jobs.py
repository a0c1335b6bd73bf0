"""What the execution engines run and report: jobs, their results and events (no engine here)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

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
    #: Any painting in seconds (nst.universal): ``style`` is the painting, no config.
    instant: bool = False
    stroke_scale: float = 1.0
    device: str = "cpu"
    #: Extra PNG metadata (JSON values), e.g. the experiment cell this picture is.
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        if self.model is not None:
            return "model"
        return "instant" if self.instant else "optimise"


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
