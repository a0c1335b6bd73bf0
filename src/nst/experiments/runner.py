"""Run an experiment's cells, one after another or in N processes, resuming an interrupted folder.

Only this process writes to the folder. For each finished cell it saves the image under a
temporary name, records it as done in manifest.json (written atomically), then renames the image
into place. So an interruption at any moment leaves a valid manifest, and a cell counts as finished
only when the manifest says so *and* its image is there with the recorded checksum. A finished
image is never replaced: an image the manifest does not vouch for makes `prepare` refuse the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import multiprocessing
import os
import queue as queue_module
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nst
from nst.config import StyleConfig
from nst.errors import InputError, NSTError
from nst.experiments import manifest
from nst.experiments.plan import Cell, Experiment

SHEET_NAME = "sheet.png"
LOCK_NAME = ".lock"
PLOT_NAME = "losses.png"
_PARTIAL = ".partial.png"


@dataclass(frozen=True)
class Event:
    """Progress of a run, for the caller to display. ``kind``: skip, start, progress or done."""

    kind: str
    index: int
    name: str
    iteration: int = 0
    max_iterations: int = 0
    loss: float | None = None
    elapsed: float = 0.0


OnEvent = Callable[[Event], None]


@dataclass
class RunPlan:
    """A checked experiment folder: what is already finished and what is left to do."""

    experiment: Experiment
    folder: Path
    existing: dict[str, Any] | None
    pending: list[Cell] = field(default_factory=list)
    finished: list[Cell] = field(default_factory=list)


def cpu_cores() -> int:
    """Cores this process may use (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def threads_per_job(jobs: int, cores: int | None = None) -> int:
    """Torch threads for each of ``jobs`` processes, so that together they use the cores once."""
    return max(1, (cores or cpu_cores()) // max(1, jobs))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
) -> dict[str, Any]:
    """Run the pending cells and, once every cell is finished, draw the sheet and the loss plot.

    ``jobs`` > 1 runs cells in that many processes (spawned, each with its share of the CPU
    threads); 1 runs them here. Returns the final manifest.
    """
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {jobs}")
    plan.folder.mkdir(parents=True, exist_ok=True)
    with _exclusive(plan.folder):
        if manifest.read(plan.folder) != plan.existing:
            raise InputError(f"'{plan.folder}' changed while it was being checked; run the command again")
        return _execute(plan, jobs, device, command, on_event, render)


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
    plan: RunPlan, jobs: int, device: str, command: str | None, on_event: OnEvent | None, render: bool
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
        if command is not None:
            data["command"] = command
    for cell in plan.pending:
        # A cell recorded as done whose image has gone is computed again: record it as pending.
        data["cells"][cell.index] = manifest.cell_entry(cell)
    workers = min(jobs, max(1, len(plan.pending)))
    started = time.perf_counter()
    run: dict[str, Any] = {
        "started": manifest.now(),
        "finished": None,
        "outcome": "running",
        "wall_seconds": 0.0,
        "device": device,
        "jobs": workers,
        "threads_per_job": threads_per_job(workers) if workers > 1 else _torch_threads(),
        "cells_skipped": len(plan.finished),
        "cells_run": 0,
    }
    data["runs"].append(run)
    data["complete"] = False
    manifest.write(folder, data)
    notify = on_event or (lambda event: None)
    for cell in plan.finished:
        notify(Event("skip", cell.index, cell.name))

    def commit(cell: Cell, image: Any, record: dict[str, Any]) -> None:
        _commit(folder, data, cell, image, record)
        run["cells_run"] += 1
        run["wall_seconds"] = round(time.perf_counter() - started, 3)
        manifest.write(folder, data)
        os.replace(folder / f".{cell.name}{_PARTIAL}", folder / manifest.image_name(cell))
        notify(Event("done", cell.index, cell.name, record["iterations"], 0, None, record["elapsed_seconds"]))

    try:
        if workers == 1:
            _run_here(plan.pending, device, commit, notify)
        else:
            _run_in_processes(plan.pending, device, workers, commit, notify)
    except BaseException as exc:
        run["outcome"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"failed: {exc}"[:300]
        _close_run(run, started)
        manifest.write(folder, data)
        raise
    if render and all(c["status"] == manifest.DONE for c in data["cells"]):
        from nst.experiments.plots import plot_losses
        from nst.experiments.sheet import experiment_sheet

        nst.save_image(experiment_sheet(data, folder), folder / SHEET_NAME, {"experiment": data["kind"]})
        plot_losses(data, folder / PLOT_NAME)
        data.update(sheet=SHEET_NAME, plot=PLOT_NAME, complete=True)
    run["outcome"] = "complete" if data["complete"] else "cells finished"
    _close_run(run, started)
    manifest.write(folder, data)
    return data


def _close_run(run: dict[str, Any], started: float) -> None:
    run["finished"] = manifest.now()
    run["wall_seconds"] = round(time.perf_counter() - started, 3)


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _remove_leftovers(folder: Path) -> None:
    """Temporary files of a run that was killed (ours only: their names are ours)."""
    for path in [*folder.glob(f".*{_PARTIAL}"), *folder.glob(".*.part")]:
        path.unlink(missing_ok=True)


def _commit(folder: Path, data: dict[str, Any], cell: Cell, image: Any, record: dict[str, Any]) -> None:
    """Save the cell's image under its temporary name and mark it done in ``data`` (not yet written)."""
    final = folder / manifest.image_name(cell)
    if final.exists():  # prepare() saw no such file; something else wrote it since. Keep it.
        raise NSTError(f"'{final}' appeared while the run was going; not overwriting it")
    entry = data["cells"][cell.index]
    metadata = {
        "settings": cell.config.to_dict(),
        "version": nst.__version__,
        "content": str(cell.content.path),
        "style": [str(cell.style.path)],
        "device": record["device"],
        "size": record["size"],
        "iterations": record["iterations"],
        "stop_reason": record["stop_reason"],
        "final_losses": record["final_losses"],
        "experiment": {"kind": data["kind"], "cell": cell.name, "varied": cell.varied},
    }
    partial = folder / f".{cell.name}{_PARTIAL}"
    nst.save_image(image, partial, metadata)
    entry.update(record, status=manifest.DONE, image_sha256=file_sha256(partial), finished=manifest.now())


# ---- the work of one cell, the same here and in a worker process ----


@dataclass(frozen=True)
class _Task:
    index: int
    name: str
    content: str
    style: str
    config: StyleConfig
    device: str


def _task(cell: Cell, device: str) -> _Task:
    return _Task(cell.index, cell.name, str(cell.content.path), str(cell.style.path), cell.config, device)


def _extractor_key(config: StyleConfig) -> tuple[Any, ...]:
    # build_extractor depends on the weights, the pooling and the set of layers it must return.
    return (config.weights, config.pooling, tuple(sorted({*config.content_layers, *config.style_layers})))


def _stylize(
    task: _Task, extractors: dict[tuple[Any, ...], Any], callback: Any
) -> tuple[Any, dict[str, Any]]:
    """Run one cell, building VGG only for settings that need a different one."""
    key = _extractor_key(task.config)
    if key not in extractors:
        extractors[key] = nst.build_extractor(task.config, task.device)
    result = nst.transfer_style(
        task.content,
        task.style,
        task.config,
        callback=callback,
        device=task.device,
        extractor=extractors[key],
    )
    history = {
        name: [_finite(getattr(h, name)) for h in result.history]
        for name in ("total", "content", "style", "tv")
    }
    record = {
        "device": task.device,
        "size": list(result.image.size),
        "iterations": result.iterations,
        "stop_reason": result.stop_reason,
        "elapsed_seconds": round(result.elapsed, 3),
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "final_losses": _finite_tree(result.losses.to_dict()),
        "history": history,
    }
    return result.image, record


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _finite_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite_tree(v) for k, v in value.items()}
    if isinstance(value, float):
        return _finite(value)
    return value


def _progress_event(task: _Task, progress: nst.Progress) -> Event:
    return Event(
        "progress",
        task.index,
        task.name,
        progress.iteration,
        progress.max_iterations,
        _finite(progress.losses.total),
        progress.elapsed,
    )


def _run_here(cells: list[Cell], device: str, commit: Any, notify: OnEvent) -> None:
    extractors: dict[tuple[Any, ...], Any] = {}
    for cell in cells:
        task = _task(cell, device)
        notify(Event("start", cell.index, cell.name))
        image, record = _stylize(task, extractors, lambda p, t=task: notify(_progress_event(t, p)))
        commit(cell, image, record)


def _run_in_processes(cells: list[Cell], device: str, workers: int, commit: Any, notify: OnEvent) -> None:
    # spawn, not fork: a forked copy of a process that already ran torch can deadlock in OpenMP.
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(threads_per_job(workers), events, os.getpid()),
    )
    by_future: dict[Future[Any], Cell] = {pool.submit(_work, _task(c, device)): c for c in cells}
    waiting = set(by_future)
    error: BaseException | None = None
    try:
        while waiting:
            finished, waiting = wait(waiting, timeout=0.2, return_when=FIRST_COMPLETED)
            _drain(events, notify)
            for future in finished:
                if future.cancelled():
                    continue
                exc = future.exception()
                if exc is not None:
                    # Keep the cells already running (they finish and are saved); start no more.
                    error = error or exc
                    pool.shutdown(wait=False, cancel_futures=True)
                    continue
                image, record = future.result()
                commit(by_future[future], image, record)
        _drain(events, notify)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    if error is not None:
        raise error


def _drain(events: Any, notify: OnEvent) -> None:
    while True:
        try:
            notify(events.get_nowait())
        except queue_module.Empty:
            return


#: Per worker process only (set by `_init_worker`): its event queue and its VGG extractors.
_WORKER: dict[str, Any] = {}


def _init_worker(threads: int, events: Any, parent: int) -> None:
    import torch

    torch.set_num_threads(threads)
    _WORKER.update(events=events, extractors={})
    # A killed parent cannot stop its workers; each notices by itself and exits.
    threading.Thread(target=_exit_without_parent, args=(parent,), daemon=True).start()


def _exit_without_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _work(task: _Task) -> tuple[Any, dict[str, Any]]:
    events = _WORKER["events"]
    events.put(Event("start", task.index, task.name))
    return _stylize(task, _WORKER["extractors"], lambda p: events.put(_progress_event(task, p)))
