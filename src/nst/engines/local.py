"""The embedded default: jobs run here (``jobs=1``) or in a pool of N spawned processes.

Nothing to install and no cluster. Each worker process gets its share of the CPU threads and
keeps its networks between jobs. Results come back to the calling thread, one per job.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from nst.engines.jobs import Event, Job, JobResult, OnEvent, OnResult
from nst.engines.work import run_job
from nst.errors import InputError


def cpu_cores() -> int:
    """Cores this process may use (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def threads_per_job(jobs: int, cores: int | None = None) -> int:
    """Torch threads for each of ``jobs`` processes, so that together they use the cores once."""
    return max(1, (cores or cpu_cores()) // max(1, jobs))


class LocalEngine:
    """Today's process pool: ``jobs`` processes (1: in this process, no pool).

    Used as a context manager (``with engine:``), it keeps its worker processes, and with them
    their networks, across `run` calls: a caller that hands over work a piece at a time (the
    chunks of ``nst video``) pays for the pool once.
    """

    name = "local"

    def __init__(self, jobs: int = 1) -> None:
        if jobs < 1:
            raise InputError(f"--jobs must be at least 1, got {jobs}")
        self.jobs = jobs
        # In-process runs (jobs=1): the networks built so far, kept for the engine's life.
        self._cache: dict[Any, Any] = {}
        self._pool: tuple[ProcessPoolExecutor, Any] | None = None

    def __enter__(self) -> LocalEngine:
        if self.jobs > 1 and self._pool is None:
            self._pool = _open_pool(self.jobs)
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool[0], None
            pool.shutdown(wait=kind is None, cancel_futures=True)

    def workers(self, n_jobs: int) -> int:
        return min(self.jobs, max(1, n_jobs))

    def threads(self, n_jobs: int) -> int:
        workers = self.workers(n_jobs)
        if workers > 1:
            return threads_per_job(workers)
        import torch

        return torch.get_num_threads()

    def run(self, jobs: Sequence[Job], on_result: OnResult, on_event: OnEvent | None = None) -> None:
        notify = on_event or (lambda event: None)
        if self._pool is not None:
            _run_on_pool(*self._pool, jobs, on_result, notify)
            return
        if self.workers(len(jobs)) == 1:
            self._cache["threads"] = self.threads(len(jobs))
            for job in jobs:
                notify(Event("start", job.index, job.name))
                on_result(run_job(job, self._cache, notify))
            return
        pool, events = _open_pool(self.workers(len(jobs)))
        try:
            _run_on_pool(pool, events, jobs, on_result, notify)
        except BaseException:
            # An interrupt or a failed job: do not wait for the pictures still being painted.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


def _open_pool(workers: int) -> tuple[ProcessPoolExecutor, Any]:
    """``workers`` spawned processes, each with its share of the threads, and their event queue."""
    # spawn, not fork: a forked copy of a process that already ran torch can deadlock in OpenMP.
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(threads_per_job(workers), events, os.getpid()),
    )
    return pool, events


def _run_on_pool(pool: ProcessPoolExecutor, events: Any, jobs: Sequence[Job], on_result: OnResult,
                 notify: OnEvent) -> None:
    waiting: set[Future[JobResult]] = {pool.submit(_work, job) for job in jobs}
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
                    # Keep the jobs already running (they finish and are kept); start no more.
                    error = error or exc
                    for other in waiting:
                        other.cancel()
                    continue
                on_result(future.result())
        _drain(events, notify)
    except BaseException:
        for future in waiting:
            future.cancel()
        raise
    if error is not None:
        raise error


def _drain(events: Any, notify: OnEvent) -> None:
    while True:
        try:
            notify(events.get_nowait())
        except queue_module.Empty:
            return


#: Per worker process only (set by `_init_worker`): its event queue and its networks.
_WORKER: dict[str, Any] = {}


def _init_worker(threads: int, events: Any, parent: int) -> None:
    import torch

    torch.set_num_threads(threads)
    _WORKER.update(events=events, cache={"threads": threads})
    # A killed parent cannot stop its workers; each notices by itself and exits.
    threading.Thread(target=_exit_without_parent, args=(parent,), daemon=True).start()


def _exit_without_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _work(job: Job) -> JobResult:
    events = _WORKER["events"]
    events.put(Event("start", job.index, job.name))
    return run_job(job, _WORKER["cache"], events.put)
