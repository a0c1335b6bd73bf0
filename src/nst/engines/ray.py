"""The Ray engine: one Ray task per picture, or a Ray Data actor pool for style models.

Ray is an optional extra (``pip install -e '.[ray]'``) imported only here, only when this engine
runs. With no address it starts a local Ray with this machine's cores; ``address="auto"`` or
``ray://host:10001`` joins a running cluster.

* Gatys jobs (a grid's or sweep's cells, a batch with style images): one task each, sized by
  ``task_cpus``/``task_gpus``; torch in the task uses ``task_cpus`` threads; a task whose worker
  process dies is retried (``max_retries``).
* Style-model jobs (a batch with ``--model``): Ray Data ``map_batches`` over the photos with an
  actor pool, so that each worker loads the model once; Ray Data restarts a dead actor and
  retries its batch. With ``model_jobs="tasks"`` they run as tasks instead, for a caller that
  hands over work a chunk at a time (``nst video``): an actor pool would start anew for every
  chunk, while Ray's worker processes, and the models they loaded, stay between tasks.

Used as a context manager (``with engine:``), the engine joins or starts Ray once for all its
`run` calls.

Workers write each picture into the output folder under a temporary name unique to the attempt
(see `nst.engines`), so the output folder (and the inputs) must be on a filesystem that every
node mounts at the same path; `check_shared_paths` verifies that on every node before any work.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nst.engines.jobs import Event, Job, JobResult, OnEvent, OnResult
from nst.engines.local import cpu_cores
from nst.engines.work import run_job
from nst.errors import InputError
from nst.optimise.config import StyleConfig

INSTALL_HINT = "--engine ray needs Ray, which is not installed: pip install -e '.[ray]'"
#: A Ray task sends the progress bar at most one event this often (seconds).
PROGRESS_SECONDS = 1.0
#: Photos per Ray Data batch: small, so a restarted actor redoes little and memory stays flat.
MODEL_BATCH = 4


def require_ray() -> Any:
    """The ``ray`` module, or a one-line InputError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    return ray


class RayEngine:
    """Runs jobs on Ray: an existing cluster (``address``) or a local one started here."""

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        task_cpus: float = 1.0,
        task_gpus: float = 0.0,
        max_retries: int = 3,
        init_options: dict[str, Any] | None = None,
        model_jobs: str = "dataset",
    ) -> None:
        if task_cpus <= 0:
            raise InputError(f"--task-cpus must be more than 0, got {task_cpus:g}")
        if task_gpus < 0:
            raise InputError(f"--task-gpus must be at least 0, got {task_gpus:g}")
        if max_retries < 0:
            raise InputError(f"retries must be at least 0, got {max_retries}")
        if model_jobs not in ("dataset", "tasks"):
            raise InputError(f"model_jobs must be 'dataset' or 'tasks', got {model_jobs!r}")
        self.ray = require_ray()
        self.address = address
        self.task_cpus = task_cpus
        self.task_gpus = task_gpus
        self.max_retries = max_retries
        self.init_options = dict(init_options or {})
        self.model_jobs = model_jobs
        self._session = False
        #: Seconds ray.init took in the last run (0 when Ray was already running).
        self.startup_seconds = 0.0

    @property
    def threads(self) -> int:
        """Torch (and onnxruntime) threads in each task: its CPUs, rounded, at least 1."""
        return max(1, math.floor(self.task_cpus))

    def __enter__(self) -> RayEngine:
        self._session = self._connect()
        if self._session and not self.address:
            self._check_fits()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._session:
            self._session = False
            self.ray.shutdown()

    def run(self, jobs: Sequence[Job], on_result: OnResult, on_event: OnEvent | None = None) -> None:
        if not jobs:
            return
        started_here = self._connect()
        try:
            if started_here and not self.address:
                self._check_fits()
            check_shared_paths(self.ray, jobs)
            if self.model_jobs == "dataset" and all(job.kind == "model" for job in jobs):
                with warnings.catch_warnings():
                    # Ray Data warns about its own deprecated settings, which nst does not touch.
                    warnings.simplefilter("ignore", DeprecationWarning)
                    self._run_dataset(jobs, on_result, on_event or (lambda event: None))
            else:
                self._run_tasks(jobs, on_result, on_event or (lambda event: None))
        finally:
            if started_here:
                self.ray.shutdown()

    def _connect(self) -> bool:
        """Join or start Ray; True when this call started it (and so shuts it down)."""
        import time

        if self.ray.is_initialized():
            return False
        options: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": logging.ERROR,
            **self.init_options,
        }
        if self.address:
            options["address"] = self.address
        elif not os.environ.get("RAY_ADDRESS"):  # inside a Ray Job, ray.init joins its cluster
            options.setdefault("num_cpus", cpu_cores())
        began = time.perf_counter()
        try:
            self.ray.init(**options)
        except ConnectionError as exc:
            raise InputError(f"cannot reach the Ray cluster at '{self.address}': {exc}") from None
        self.startup_seconds = time.perf_counter() - began
        return True

    def _check_fits(self) -> None:
        """On a local Ray, a task larger than the machine would wait for ever: refuse it now."""
        have = self.ray.cluster_resources()
        for name, need in (("CPU", self.task_cpus), ("GPU", self.task_gpus)):
            if need > have.get(name, 0):
                raise InputError(f"--task-{name.lower()}s {need:g}: this machine has {have.get(name, 0):g} {name}s")

    def _options(self) -> dict[str, Any]:
        return {"num_cpus": self.task_cpus, "num_gpus": self.task_gpus}

    def _run_tasks(self, jobs: Sequence[Job], on_result: OnResult, notify: OnEvent) -> None:
        ray = self.ray
        from ray.util.queue import Queue

        # Progress from the tasks (at most one event per task and PROGRESS_SECONDS) to the bar.
        progress = Queue(maxsize=1000, actor_options={"num_cpus": 0})
        remote = ray.remote(nst_job).options(
            **self._options(), max_retries=self.max_retries, retry_exceptions=False
        )
        by_ref = {}
        for job in jobs:
            by_ref[remote.remote(job, self.threads, progress)] = job
            notify(Event("start", job.index, job.name))
        waiting = list(by_ref)
        try:
            while waiting:
                ready, waiting = ray.wait(waiting, num_returns=1, timeout=0.5)
                _drain(progress, notify)
                for ref in ready:
                    on_result(ray.get(ref))
        except BaseException:
            for ref in waiting:
                ray.cancel(ref, force=True)
            raise
        finally:
            progress.shutdown(force=True)

    def _run_dataset(self, jobs: Sequence[Job], on_result: OnResult, notify: OnEvent) -> None:
        ray = self.ray
        for name in ("ray.data", "ray.data._internal"):
            logging.getLogger(name).setLevel(logging.ERROR)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        resources = ray.cluster_resources()
        if self.task_gpus > 0:
            slots = resources.get("GPU", 0) / self.task_gpus
        else:
            slots = resources.get("CPU", 1) / self.task_cpus
        actors = max(1, min(len(jobs), math.floor(slots + 1e-9)))
        rows = [{"job": job_to_json(job)} for job in jobs]
        for job in jobs:
            notify(Event("start", job.index, job.name))
        dataset = ray.data.from_items(rows)
        painted = dataset.map_batches(
            ModelPainter,
            batch_size=MODEL_BATCH,
            concurrency=actors,
            **self._options(),
        )
        for row in painted.iter_rows():
            on_result(result_from_json(row["result"]))


def nst_job(job: Job, threads: int, progress: Any = None) -> JobResult:
    """One Ray task: paint ``job`` with ``threads`` torch threads, in a worker that keeps its networks."""
    import time

    import torch

    torch.set_num_threads(threads)
    _CACHE["threads"] = threads
    last = [0.0]

    def report(event: Event) -> None:
        now = time.monotonic()
        if progress is None or now - last[0] < PROGRESS_SECONDS:
            return
        last[0] = now
        try:
            # Fire and forget: `Queue.put_nowait` waits in ray.get for the queue actor, and a task
            # blocked in ray.get lends its CPUs back to Ray, which starts the next task beside it
            # (two 2-CPU tasks on two cores, measured 4x slower). A full queue costs the bar an
            # update, never the picture.
            progress.actor.put_nowait.remote(event)
        except Exception:
            pass

    return run_job(job, _CACHE, report)


def _drain(progress: Any, notify: OnEvent) -> None:
    try:
        events = progress.get_nowait_batch(progress.qsize())
    except Exception:
        return
    for event in events:
        notify(event)


#: Per Ray worker process: the networks built by earlier tasks (Ray reuses its worker processes).
_CACHE: dict[Any, Any] = {}


class ModelPainter:
    """A Ray Data actor: loads each style model once, then paints batch after batch of photos."""

    def __init__(self) -> None:
        # No constructor arguments: Ray could not restart an actor whose arguments were lost.
        import ray
        import torch

        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1.0)
        threads = max(1, math.floor(cpus))
        torch.set_num_threads(threads)
        self.cache: dict[Any, Any] = {"threads": threads}

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        results = [run_job(job_from_json(str(text)), self.cache) for text in batch["job"]]
        return {"result": [result_to_json(r) for r in results]}


def job_to_json(job: Job) -> str:
    data = dataclasses.asdict(job)
    data["config"] = job.config.to_dict() if job.config is not None else None
    data["metadata"] = dict(job.metadata)
    return json.dumps(data)


def job_from_json(text: str) -> Job:
    data = json.loads(text)
    if data.get("config") is not None:
        data["config"] = StyleConfig.from_dict(data["config"])
    return Job(**data)


def result_to_json(result: JobResult) -> str:
    return json.dumps(dataclasses.asdict(result))


def result_from_json(text: str) -> JobResult:
    return JobResult(**json.loads(text))


def _missing(paths: list[str]) -> tuple[str, list[str]]:
    import socket

    return socket.gethostname(), [p for p in paths if not Path(p).exists()]


def check_shared_paths(ray: Any, jobs: Sequence[Job]) -> None:
    """Every node must see the output folders (a probe file written here) and the inputs."""
    folders = sorted({job.folder for job in jobs})
    inputs = sorted({p for job in jobs for p in (job.content, job.style, job.config and _init_path(job.config))
                     if p} | {job.model for job in jobs if job.model and Path(job.model).suffix})
    probes = []
    try:
        for folder in folders:
            probe = Path(folder) / f".nst-probe-{uuid.uuid4().hex[:12]}"
            probe.write_text("nst: is this folder shared by every node?\n")
            probes.append(probe)
        paths = [str(p) for p in probes] + inputs
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        probe_task = ray.remote(_missing)
        refs = [
            probe_task.options(
                num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
            ).remote(paths)
            for node in ray.nodes()
            if node.get("Alive")
        ]
        for host, missing in ray.get(refs):
            if missing:
                first = missing[0]
                what = "output folder" if first in {str(p) for p in probes} else "input"
                shown = str(Path(first).parent) if what == "output folder" else first
                raise InputError(
                    f"the {what} '{shown}' is not visible on Ray node {host}: put inputs and outputs on a "
                    "filesystem every node mounts at the same path (NFS, a cluster volume)"
                )
    finally:
        for probe in probes:
            probe.unlink(missing_ok=True)


def _init_path(config: StyleConfig) -> str | None:
    return config.init if config.init not in ("content", "noise") else None
