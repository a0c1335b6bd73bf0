"""The work of one job, the same in every engine: paint, write a temporary file, hand back a result.

Each worker process keeps a small cache (VGG extractors by settings, style models by name), so
a worker that paints many pictures builds each network once.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nst._version import __version__
from nst.engines.jobs import PARTIAL_SUFFIX, Event, Job, JobResult
from nst.errors import InputError

OnProgress = Callable[[Event], None]


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def partial_name(job: Job) -> str:
    """A temporary file name for one attempt at ``job`` (unique: a retry never reuses one)."""
    return f".{job.name}.{uuid.uuid4().hex[:12]}{PARTIAL_SUFFIX}"


def run_job(job: Job, cache: dict[Any, Any], on_progress: OnProgress | None = None) -> JobResult:
    """Paint ``job`` and write it into its folder under a temporary name.

    An input that cannot be read (an `InputError`) becomes a result with ``error`` set: the other
    jobs go on. Anything else (a bug, no memory) is raised.
    """
    try:
        if job.kind == "model":
            image, record, metadata = _paint(job, cache)
        elif job.kind == "instant":
            image, record, metadata = _paint_instantly(job, cache)
        else:
            image, record, metadata = _optimise(job, cache, on_progress)
    except InputError as exc:
        return JobResult(job.index, job.name, None, None, {}, " ".join(str(exc).split()))
    from nst.image import save_image

    name = partial_name(job)
    path = Path(job.folder) / name
    try:
        save_image(image, path, metadata, fast=job.kind != "optimise")
        sha = file_sha256(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return JobResult(job.index, job.name, name, sha, record)


def _optimise(job: Job, cache: dict[Any, Any], on_progress: OnProgress | None) -> tuple[Any, dict, dict]:
    from nst.optimise.transfer import build_extractor, transfer_style

    config = job.config
    if config is None or job.style is None:
        raise ValueError(f"job {job.name}: an optimisation needs a style image and a config")
    key = ("vgg", *config.extractor_key(), job.device)
    if key not in cache:
        cache[key] = build_extractor(config, job.device)

    def callback(progress: Any) -> None:
        if on_progress is not None:
            on_progress(Event("progress", job.index, job.name, progress.iteration, progress.max_iterations,
                              finite(progress.losses.total), progress.elapsed))

    result = transfer_style(job.content, job.style, config, callback=callback, device=job.device,
                                extractor=cache[key])
    history = {name: [finite(getattr(h, name)) for h in result.history] for name in ("total", "content", "style", "tv")}
    record = {
        "device": job.device,
        "size": list(result.image.size),
        "iterations": result.iterations,
        "stop_reason": result.stop_reason,
        "elapsed_seconds": round(result.elapsed, 3),
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "final_losses": finite_tree(result.losses.to_dict()),
        "history": history,
    }
    metadata = {
        "settings": config.to_dict(),
        "version": __version__,
        "content": job.content,
        "style": [job.style],
        "device": job.device,
        "size": record["size"],
        "iterations": record["iterations"],
        "stop_reason": record["stop_reason"],
        "final_losses": record["final_losses"],
        **job.metadata,
    }
    return result.image, record, metadata


def _paint(job: Job, cache: dict[Any, Any]) -> tuple[Any, dict, dict]:
    from nst.image import load_pil
    from nst.picture import DEFAULT_MAX_SIZE

    key = ("model", job.model, job.device)
    if key not in cache:
        cache[key] = _load_model(job, cache.get("threads"))
    model = cache[key]
    started = time.perf_counter()
    photo = load_pil(job.content, at_least=job.size or DEFAULT_MAX_SIZE)
    picture = model.paint(photo, job.size, job.strength, job.preserve_color)
    seconds = time.perf_counter() - started
    record = {
        "device": job.device,
        "size": list(picture.size),
        "iterations": 0,
        "stop_reason": "style model",
        "elapsed_seconds": round(seconds, 4),
        "timings": {"paint": round(seconds, 4)},
        "final_losses": {},
        "history": {},
    }
    metadata = {
        "model": model.card.name, "painting": model.card.painting, "photo": job.content,
        "settings": {"size": job.size, "strength": job.strength, "preserve_color": job.preserve_color},
        "size": record["size"], "version": __version__, "engine": type(model).__name__,
        **job.metadata,
    }
    return picture, record, metadata


def _paint_instantly(job: Job, cache: dict[Any, Any]) -> tuple[Any, dict, dict]:
    from nst.image import load_pil
    from nst.picture import DEFAULT_MAX_SIZE
    from nst.universal.config import InstantConfig
    from nst.universal.paint import AnyPainting

    if job.style is None:
        raise ValueError(f"job {job.name}: --instant needs a painting")
    key = ("instant", job.device)
    if key not in cache:
        cache[key] = AnyPainting.load(device=job.device)
    config = InstantConfig(size=job.size, strength=job.strength, preserve_color=job.preserve_color,
                           stroke_scale=job.stroke_scale)
    started = time.perf_counter()
    picture = cache[key].paint(load_pil(job.content, at_least=job.size or DEFAULT_MAX_SIZE), job.style, config)
    seconds = time.perf_counter() - started
    record = {"device": job.device, "size": list(picture.size), "iterations": 0, "stop_reason": "instant",
              "elapsed_seconds": round(seconds, 4), "timings": {"paint": round(seconds, 4)}, "final_losses": {},
              "history": {}}
    metadata = {"painting": job.style, "photo": job.content, "settings": config.to_dict(), "size": record["size"],
                "version": __version__, "engine": "instant", **job.metadata}
    return picture, record, metadata


def _load_model(job: Job, threads: int | None) -> Any:
    """The job's style model; on the CPU with onnxruntime limited to the worker's ``threads``."""
    from nst.models.loader import load_style_model
    from nst.models.registry import resolve_model

    files = resolve_model(job.model)  # type: ignore[arg-type]
    if threads and job.device == "cpu" and files.onnx_path is not None:
        from nst.models.onnx_model import OnnxStyleModel

        return OnnxStyleModel(files.onnx_path, threads=threads, torch_path=files.torch_path)
    return load_style_model(job.model, device=job.device)  # type: ignore[arg-type]


def finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def finite_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: finite_tree(v) for k, v in value.items()}
    if isinstance(value, float):
        return finite(value)
    return value
