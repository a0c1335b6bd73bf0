"""Run an experiment's cells, one after another or in N processes, resuming an interrupted folder.

Only this process writes to the folder. For each finished cell it saves the image under a
temporary name, records it as done in manifest.json (written atomically), then renames the image
into place. So an interruption at any moment leaves a valid manifest, and a cell counts as finished
only when the manifest says so *and* its image is there with the recorded checksum. A finished
image is never replaced: an image the manifest does not vouch for makes `prepare` refuse the folder.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nst
from nst.engines import PARTIAL_SUFFIX, Engine, Event, Job, JobResult
from nst.engines.local import LocalEngine, cpu_cores, threads_per_job
from nst.engines.work import file_sha256
from nst.errors import InputError, NSTError
from nst.experiments import manifest
from nst.experiments.plan import Cell, Experiment

SHEET_NAME = "sheet.png"
LOCK_NAME = ".lock"
PLOT_NAME = "losses.png"
_PARTIAL = PARTIAL_SUFFIX
#: A batch writes its manifest (and moves finished pictures into place) at most this often.
FLUSH_SECONDS = 1.0
__all__ = ["Event", "RunPlan", "cpu_cores", "execute", "file_sha256", "prepare", "threads_per_job"]


OnEvent = Callable[[Event], None]


@dataclass
class RunPlan:
    """A checked experiment folder: what is already finished and what is left to do."""

    experiment: Experiment
    folder: Path
    existing: dict[str, Any] | None
    pending: list[Cell] = field(default_factory=list)
    finished: list[Cell] = field(default_factory=list)


def prepare(experiment: Experiment, folder: str | Path) -> RunPlan:
    """Check the output folder and the weights before any work; InputError says what is wrong.

    A missing folder is fine (it is created when the run starts); an existing one must be empty or
    hold this same experiment, whose finished cells are then skipped.
    """
    folder = Path(folder)
    _check_writable(folder)
    existing = manifest.read(folder) if folder.is_dir() else None
    if existing is None and folder.is_dir() and any(p.name != LOCK_NAME for p in folder.iterdir()):
        raise InputError(
            f"output folder '{folder}' is not empty and holds no nst experiment (no {manifest.FILENAME}); "
            "use a new or empty folder"
        )
    if existing is not None:
        why = manifest.difference(existing, experiment)
        if why is not None:
            raise InputError(
                f"output folder '{folder}' holds a different experiment: {why}; use another -o folder"
            )
    plan = RunPlan(experiment, folder, existing)
    for cell in experiment.cells:
        if _is_finished(folder, existing, cell):
            plan.finished.append(cell)
        else:
            plan.pending.append(cell)
    for weights in sorted({c.config.weights for c in plan.pending}):
        nst.load_weights(weights)  # a WeightsError (an InputError) now, not in the middle of the run
    return plan


def _check_writable(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError(f"output '{folder}' exists and is not a folder")
    nearest = folder
    while not nearest.exists():
        nearest = nearest.parent
    if not nearest.is_dir():
        raise InputError(f"cannot create output folder '{folder}': '{nearest}' is not a folder")
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise InputError(f"no permission to write in '{nearest}'")


def _is_finished(folder: Path, existing: dict[str, Any] | None, cell: Cell) -> bool:
    image = folder / manifest.image_name(cell)
    entry = existing["cells"][cell.index] if existing is not None else None
    done = entry is not None and entry["status"] == manifest.DONE
    if not image.exists():
        return False  # recorded or not, there is nothing to protect: compute it (again)
    if not done:
        raise InputError(
            f"'{image}' exists but {manifest.FILENAME} does not record it as finished; "
            "move it away so that it is not overwritten"
        )
    if file_sha256(image) != entry["image_sha256"]:  # type: ignore[index]
        raise InputError(
            f"'{image}' differs from the image {manifest.FILENAME} recorded (it was changed); "
            "move it away to compute it again"
        )
    return True


def execute(
    plan: RunPlan,
    *,
    jobs: int = 1,
    device: str = "cpu",
    command: str | None = None,
    on_event: OnEvent | None = None,
    render: bool = True,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Run the pending cells and, once every cell is finished, draw the sheet and the loss plot.

    ``engine`` runs the cells (`nst.engines`: the local pool or Ray); by default the local pool
    with ``jobs`` processes (1: here; more: spawned, each with its share of the CPU threads).
    A cell whose input cannot be read is recorded with its error and left pending; the others go
    on. Returns the final manifest.
    """
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {jobs}")
    engine = engine or LocalEngine(jobs)
    plan.folder.mkdir(parents=True, exist_ok=True)
    with _exclusive(plan.folder):
        if manifest.read(plan.folder) != plan.existing:
            raise InputError(f"'{plan.folder}' changed while it was being checked; run the command again")
        return _execute(plan, engine, device, command, on_event, render)


@contextlib.contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """Hold the folder's lock: two runs writing one manifest would lose each other's cells.

    An OS file lock, so a killed run cannot leave it held. (Where fcntl is missing, no lock.)
    """
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with open(folder / LOCK_NAME, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"another nst run is writing to '{folder}'; wait for it or stop it") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _execute(
    plan: RunPlan, engine: Engine, device: str, command: str | None, on_event: OnEvent | None, render: bool
) -> dict[str, Any]:
    folder = plan.folder
    _remove_leftovers(folder)
    data = plan.existing or manifest.new_manifest(plan.experiment, command)
    for earlier in data["runs"]:
        if earlier["outcome"] == "running":  # we hold the lock, so that run is no longer going
            earlier["outcome"] = "killed"
    if plan.existing is not None:
        # Same experiment (prepare checked), maybe asked for from elsewhere or by a newer nst:
        # record where the inputs are now and lay the sheet out as this version does.
        fresh = manifest.new_manifest(plan.experiment, command)
        data.update(inputs=fresh["inputs"], layout=fresh["layout"])
        for key in ("skipped",):
            if key in fresh:
                data[key] = fresh[key]
        if command is not None:
            data["command"] = command
    for cell in plan.pending:
        # A cell recorded as done whose image has gone is computed again: record it as pending.
        data["cells"][cell.index] = manifest.cell_entry(cell)
    started = time.perf_counter()
    run: dict[str, Any] = {
        "started": manifest.now(),
        "finished": None,
        "outcome": "running",
        "wall_seconds": 0.0,
        "device": device,
        "engine": engine.name,
        **_engine_record(engine, len(plan.pending)),
        "cells_skipped": len(plan.finished),
        "cells_run": 0,
        "cells_failed": 0,
    }
    data["runs"].append(run)
    data["complete"] = False
    manifest.write(folder, data)
    notify = on_event or (lambda event: None)
    for cell in plan.finished:
        notify(Event("skip", cell.index, cell.name))
    cells = {cell.index: cell for cell in plan.pending}

    # Finished pictures wait here until the manifest that records them is written; then they
    # are renamed into place. Batches write the manifest at most every FLUSH_SECONDS (thousands
    # of quick pictures); experiments (minutes per cell) after every cell.
    arrived: list[tuple[Cell, JobResult]] = []
    interval = FLUSH_SECONDS if plan.experiment.kind == "batch" else 0.0
    last_flush = time.perf_counter()

    def flush() -> None:
        nonlocal last_flush
        if not arrived:
            return
        ready = arrived[:]
        arrived.clear()
        run["wall_seconds"] = round(time.perf_counter() - started, 3)
        manifest.write(folder, data)
        last_flush = time.perf_counter()
        for cell, result in ready:
            os.replace(folder / str(result.partial), folder / manifest.image_name(cell))
        for cell, result in ready:
            record = result.record
            notify(Event("done", cell.index, cell.name, record["iterations"], 0, None, record["elapsed_seconds"]))

    def commit(result: JobResult) -> None:
        cell = cells.pop(result.index, None)
        if cell is None:  # an engine handing back a cell twice: keep the first
            _discard(folder, result)
            return
        if result.error is not None:
            data["cells"][cell.index]["error"] = result.error
            run["cells_failed"] += 1
            notify(Event("failed", cell.index, cell.name))
        else:
            _commit(folder, data, cell, result)
            run["cells_run"] += 1
            arrived.append((cell, result))
        if time.perf_counter() - last_flush >= interval:
            flush()

    jobs = [_job(cell, folder, plan.experiment.kind, device) for cell in plan.pending]
    try:
        engine.run(jobs, commit, notify)
        flush()
    except BaseException as exc:
        with contextlib.suppress(Exception):  # keep what finished; the original error is the one to raise
            flush()
        run["outcome"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"failed: {exc}"[:300]
        _close_run(run, started)
        manifest.write(folder, data)
        raise
    finally:
        _remove_leftovers(folder)  # attempts of retried or cancelled jobs
    if getattr(engine, "startup_seconds", 0):
        run["startup_seconds"] = round(engine.startup_seconds, 3)  # type: ignore[attr-defined]
    done = all(c["status"] == manifest.DONE for c in data["cells"])
    if render and (done or plan.experiment.kind == "batch"):
        from nst.experiments.sheet import experiment_sheet

        nst.save_image(experiment_sheet(data, folder), folder / SHEET_NAME, {"experiment": data["kind"]})
        data.update(sheet=SHEET_NAME)
        if plan.experiment.kind != "batch":
            from nst.experiments.plots import plot_losses

            plot_losses(data, folder / PLOT_NAME)
            data.update(plot=PLOT_NAME)
        data.update(complete=done)
    run["outcome"] = "complete" if data["complete"] else "cells finished"
    _close_run(run, started)
    manifest.write(folder, data)
    return data


def _engine_record(engine: Engine, pending: int) -> dict[str, Any]:
    """How the engine runs the cells, for the manifest's record of the run."""
    if isinstance(engine, LocalEngine):
        return {"jobs": engine.workers(pending), "threads_per_job": engine.threads(pending)}
    return {"jobs": None, "threads_per_job": getattr(engine, "threads", None),
            "address": getattr(engine, "address", None) or "local",
            "task_cpus": getattr(engine, "task_cpus", None), "task_gpus": getattr(engine, "task_gpus", None)}


def _discard(folder: Path, result: JobResult) -> None:
    if result.partial:
        (folder / result.partial).unlink(missing_ok=True)


def _close_run(run: dict[str, Any], started: float) -> None:
    run["finished"] = manifest.now()
    run["wall_seconds"] = round(time.perf_counter() - started, 3)


def _remove_leftovers(folder: Path) -> None:
    """Temporary files of a run that was killed (ours only: their names are ours)."""
    for path in [*folder.glob(f".*{_PARTIAL}"), *folder.glob(".*.part")]:
        path.unlink(missing_ok=True)


def _commit(folder: Path, data: dict[str, Any], cell: Cell, result: JobResult) -> None:
    """Check the written picture and mark the cell done in ``data`` (not yet written)."""
    final = folder / manifest.image_name(cell)
    if final.exists():  # prepare() saw no such file; something else wrote it since. Keep it.
        _discard(folder, result)
        raise NSTError(f"'{final}' appeared while the run was going; not overwriting it")
    partial = folder / str(result.partial)
    if not partial.is_file() or file_sha256(partial) != result.sha256:
        _discard(folder, result)
        raise NSTError(f"the picture of '{cell.name}' did not arrive intact in '{folder}'")
    entry = data["cells"][cell.index]
    entry.pop("error", None)
    entry.update(result.record, status=manifest.DONE, image_sha256=result.sha256, finished=manifest.now())


def _job(cell: Cell, folder: Path, kind: str, device: str) -> Job:
    """The engine's description of one cell's work."""
    labels = {"experiment": {"kind": kind, "cell": cell.name, "varied": cell.varied}}
    if cell.model is not None:
        m = cell.model
        return Job(cell.index, cell.name, str(folder.resolve()), str(cell.content.path), model=m.model,
                   size=m.size, strength=m.strength, preserve_color=m.preserve_color, device=device,
                   metadata=labels)
    if cell.instant is not None:
        i = cell.instant
        return Job(cell.index, cell.name, str(folder.resolve()), str(cell.content.path), style=str(cell.style.path),
                   instant=True, size=i.size, strength=i.strength, preserve_color=i.preserve_color,
                   stroke_scale=i.stroke_scale, device=device, metadata=labels)
    return Job(cell.index, cell.name, str(folder.resolve()), str(cell.content.path), style=str(cell.style.path),
               config=cell.config, device=device, metadata=labels)
