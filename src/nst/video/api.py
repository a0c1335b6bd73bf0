"""`stylize_video`: a clip in, a painted clip out, on either path, resumable.

The frames stream through: decoded one at a time (`nst.video.io`), painted by a per-frame step
(the fast path's `StableModel`, or the optimisation's `FrameOptimiser`), gathered in chunks that
are encoded and committed to the work folder (`nst.video.work`) with the state the next frame
needs. When every chunk is done the chunks are joined, with the source's audio, into a temporary
file that is then renamed to the output: the output exists only when it is complete.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nst.atomic import write_atomically
from nst.errors import InputError
from nst.video import encode, io
from nst.video.config import VideoConfig
from nst.video.consistency import StableModel, advance, previous_frames
from nst.video.frames import EngineFrames, check_engine_style, read_painted
from nst.video.work import WorkFolder, file_identity, work_folder

if TYPE_CHECKING:
    from nst.engines import Engine
    from nst.image import ImageSource
    from nst.optimise.config import StyleConfig


@dataclass(frozen=True)
class VideoProgress:
    """Reported after every painted frame."""

    frame: int  # frames finished, earlier sittings' included
    frames: int  # frames in the clip (from the container: an estimate until the end)
    resumed_from: int  # frames finished before this sitting
    elapsed: float  # seconds of this sitting
    fps: float  # frames painted per second in this sitting
    reliable: float  # share of this frame that the flow explains (1 without consistency)
    cut: bool  # a new shot began at this frame (the temporal state was reset)


@dataclass(frozen=True)
class VideoResult:
    """The outcome of `stylize_video`."""

    output: Path
    frames: int
    size: tuple[int, int]
    seconds: float  # this sitting's
    resumed_from: int
    cuts: tuple[int, ...] = ()
    audio: str | None = None  # the codec of the copied audio, None when there is none
    complete: bool = True
    method: str = "model"
    reliable: tuple[float, ...] = field(default=(), repr=False)  # per frame of this sitting


VideoCallback = Callable[[VideoProgress], bool | None]


def stylize_video(
    source: str | os.PathLike,
    output: str | os.PathLike,
    model: str | os.PathLike | Any | None = None,
    style: ImageSource | Sequence[ImageSource] | None = None,
    config: VideoConfig | None = None,
    style_config: StyleConfig | None = None,
    *,
    callback: VideoCallback | None = None,
    resume: bool = False,
    overwrite: bool = False,
    device: str = "cpu",
    engine: Engine | None = None,
    instant: bool = False,
) -> VideoResult:
    """Paint the clip ``source`` into ``output`` (.mp4, .m4v, .mov, .mkv, .gif or .webp).

    Give ``model`` (the fast path: a bundled style model's name, a .pt/.onnx path, or a model from
    `nst.load_style_model`) or ``style`` (the optimisation: one style image or several, with
    ``style_config``), not both.

    The run keeps a work folder ``OUT.work`` beside the output, from which ``resume=True``
    continues a killed run with the same frames an uninterrupted run paints; it is removed when
    the output is complete. An existing output or work folder is replaced only with ``overwrite``
    (a resume may replace the output it is finishing). ``callback`` gets a `VideoProgress` after
    every frame and may return True to stop after it (the finished chunks stay resumable).

    ``engine`` (from `nst.engines.make_engine`: a local process pool or Ray) paints independent
    frames (``config.consistency`` 0) side by side, a chunk at a time, as one job per frame; the
    model must then be a name or a file, and the optimisation's style one image file. The frames
    are those of the same run in this process (up to onnxruntime's rounding with other threads).

    ``instant=True`` paints ``style`` (any painting) in seconds a frame with nst.universal, with
    ``config``'s strength, colour and stroke scale, as a style model would (no engine).

    Raises InputError for a missing or unreadable clip, an unusable output or settings.
    """
    config = config or VideoConfig()
    if instant:
        if style is None or model is not None:
            raise InputError("instant paints a painting: give style, not a model")
        if engine is not None:
            raise InputError("instant frames are painted in this process: use no engine")
        from nst.universal.config import InstantConfig
        from nst.universal.paint import AnyPainting

        model = AnyPainting.load(device=device).with_painting(style, InstantConfig(stroke_scale=config.stroke_scale))
        style = None
    source, output = Path(source), Path(output)
    if (model is None) == (style is None):
        raise InputError("give a style model (the fast path) or a style image (the optimisation), not both"
                         if model is not None else "give a style model or a style image")
    kind = io.output_kind(output)
    _check_paths(source, output, overwrite or resume)
    work = work_folder(output)
    if resume and not (work / "manifest.json").is_file():
        raise InputError(f"nothing to resume: there is no work folder '{work}' (a run removes it when it finishes)")
    if work.exists() and not (resume or overwrite):
        raise InputError(f"'{work}' is left from an interrupted run: add --resume to continue it, "
                         "or use --overwrite to start again")
    optimising = style is not None
    size = config.size
    if optimising and size is None:
        from nst.optimise.config import StyleConfig as _StyleConfig

        size = (style_config or _StyleConfig()).resolve_size("cuda" if device == "cuda" else "cpu")
    info = io.probe(source, size, config.start, config.duration, config.fps)
    encode.check_audio_copy(info, output)

    step, settings, chunk_frames = _step(model, style, config, style_config, info, device, engine, work)
    identity = {"input": file_identity(source), "settings": settings, "stream": info.to_dict()}
    folder = WorkFolder(output, identity)
    if resume:
        folder.reopen()
    else:
        folder.start()
    method = "optimisation" if optimising else "model"
    if isinstance(step, EngineFrames):
        with step:
            return _run(step, folder, info, config, output, kind, chunk_frames, callback, method)
    try:
        return _run(step, folder, info, config, output, kind, chunk_frames, callback, method)
    finally:
        close = getattr(step, "close", None)
        if close is not None:
            close()


def _check_paths(source: Path, output: Path, replace: bool) -> None:
    if output.is_dir():
        raise InputError(f"output '{output}' is a directory")
    if not output.parent.is_dir():
        raise InputError(f"output folder '{output.parent}' does not exist")
    if source.exists() and output.exists() and os.path.samefile(source, output):
        raise InputError(f"the output '{output}' is the input itself")
    if output.exists() and not replace:
        raise InputError(f"output '{output}' already exists (use --overwrite to replace it)")


def _step(model: Any, style: Any, config: VideoConfig, style_config: StyleConfig | None, info: io.ClipInfo,
          device: str, engine: Engine | None, work: Path) -> tuple[Any, dict[str, Any], int]:
    """The per-frame step (or, with an engine, the painter of a chunk's independent frames), the
    settings that make its frames what they are, and the chunk size."""
    if engine is not None and config.consistency > 0:
        raise InputError("an engine paints independent frames only: use consistency 0 "
                         "(with consistency each frame needs the one before it)")
    if model is not None:
        from nst.video.paint import ModelPainter

        loaded = model
        if isinstance(model, (str, os.PathLike)):
            from nst.models.loader import load_style_model

            # With consistency the optical flow runs in a thread beside the model. With an engine
            # the workers paint (on ``device``); here the model is only read for its card.
            loaded = load_style_model(model, device="cpu" if engine is not None else device,
                                      busy_wait=config.consistency == 0)
        elif engine is not None:
            raise InputError("with an engine, give the style model as a bundled name or a file")
        settings = {"video": config.to_dict(), "model": loaded.card.to_dict(),
                    "model_file": _model_file(loaded)}
        if engine is not None:
            reference = os.path.abspath(model) if Path(model).is_file() else os.fspath(model)
            return (EngineFrames(engine, work, config, info.size, model=reference, device=device), settings,
                    config.chunk_frames)
        painter = ModelPainter(loaded, config.strength, config.preserve_color)
        return StableModel(painter, config), settings, config.chunk_frames
    from nst.optimise.config import StyleConfig
    from nst.video.optimise import FrameOptimiser, check_style_config

    style_config = style_config or StyleConfig()
    settings = {"video": config.to_dict(), "style": style_config.to_dict(),
                "style_images": [_source_digest(s) for s in (style if isinstance(style, (list, tuple)) else [style])]}
    if engine is not None:
        check_style_config(style_config)
        path = check_engine_style(style).resolve()
        return (EngineFrames(engine, work, config, info.size, style=path, style_config=style_config, device=device),
                settings, config.optimise_chunk_frames)
    return FrameOptimiser(style, style_config, config, info.size, device), settings, config.optimise_chunk_frames


def _model_file(model: Any) -> str:
    path = getattr(model, "path", None) or getattr(model, "source", None)
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path and Path(path).is_file() else ""


def _source_digest(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return hashlib.sha256(Path(source).read_bytes()).hexdigest()
    array = np.asarray(source.convert("RGB")) if hasattr(source, "convert") else source.detach().cpu().numpy()
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _run(step: Any, folder: WorkFolder, info: io.ClipInfo, config: VideoConfig, output: Path, kind: str,
         chunk_frames: int, callback: VideoCallback | None, method: str) -> VideoResult:
    started = time.perf_counter()
    done = folder.frames_done
    state = folder.load_state()
    temporal = config.consistency > 0
    offsets = tuple(config.long_term) if (temporal and method == "optimisation") else ((1,) if temporal else ())
    memory = max(offsets) if offsets else 0
    cuts: list[int] = []
    shares: list[float] = []
    chunk = _Chunk(folder, kind, info, chunk_frames, config)
    stopped = False
    try:
        frames = io.read_frames(info, skip=done)
        if isinstance(step, EngineFrames):
            painted_frames = _side_by_side(step, frames, chunk_frames)
        else:
            painted_frames = _one_by_one(step, frames, offsets, memory, state)
        for frame, picture, share, cut, state in painted_frames:
            chunk.add(frame, picture, state)
            shares.append(share)
            if cut:
                cuts.append(frame.index)
            if callback is not None:
                elapsed = time.perf_counter() - started
                painted_now = frame.index + 1 - done
                progress = VideoProgress(frame.index + 1, max(info.frames, frame.index + 1), done, elapsed,
                                         painted_now / elapsed if elapsed > 0 else 0.0, share, cut)
                if callback(progress):
                    stopped = True
                    break
        if not stopped:
            chunk.finish(state)
    finally:
        chunk.abort()
    total = folder.frames_done
    if stopped:
        return VideoResult(output, total, info.size, time.perf_counter() - started, done, tuple(cuts),
                           info.audio_codec, False, method, tuple(shares))
    if total == 0:
        raise InputError(f"no frame of '{info.path}' could be read")
    _assemble(folder, info, config, output, kind)
    folder.remove()
    return VideoResult(output, total, info.size, time.perf_counter() - started, done, tuple(cuts),
                       info.audio_codec if kind == "video" else None, True, method, tuple(shares))


Painted = tuple[io.Frame, np.ndarray, float, bool, dict[str, np.ndarray]]


def _one_by_one(step: Any, frames: Iterator[io.Frame], offsets: tuple[int, ...], memory: int,
                state: dict[str, np.ndarray]) -> Iterator[Painted]:
    """Each frame painted in turn from the state its predecessors left: (frame, picture, share
    of it the flow explains, is it a cut, the state after it)."""
    for frame in frames:
        painted, share, cut = step.step(frame.rgb, previous_frames(state, offsets))
        picture = (np.clip(painted, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        if memory:
            state = advance(state, frame.rgb, painted.astype(np.float32), memory, cut)
        yield frame, picture, share, cut, state


def _side_by_side(step: EngineFrames, frames: Iterator[io.Frame], batch: int) -> Iterator[Painted]:
    """Independent frames painted ``batch`` at a time on an engine, handed on in order. Only
    their timestamps are held: the pixels go to the engine's files as they are decoded."""
    while True:
        kept: list[io.Frame] = []
        files = step.paint(_pixels(itertools.islice(frames, batch), kept))
        if not kept:
            return
        for frame, path in zip(kept, files, strict=True):
            yield frame, read_painted(path), 1.0, False, {}


def _pixels(frames: Iterator[io.Frame], kept: list[io.Frame]) -> Iterator[tuple[int, np.ndarray]]:
    """(number, pixels) of each frame; ``kept`` gets the frame without its pixels."""
    for frame in frames:
        kept.append(io.Frame(frame.index, frame.pts, _NO_PIXELS))
        yield frame.index, frame.rgb


_NO_PIXELS = np.zeros((0, 0, 3), np.uint8)


class _Chunk:
    """The chunk being painted: its frames go to a segment (video) or are held (animation) until
    it is full, then it is committed to the work folder with the state after its last frame."""

    def __init__(self, folder: WorkFolder, kind: str, info: io.ClipInfo, size: int, config: VideoConfig):
        self.folder, self.kind, self.info, self.size, self.config = folder, kind, info, size, config
        self.index = len(folder.chunks)
        self.writer: encode.SegmentWriter | None = None
        self.temporary: Path | None = None
        self.pictures: list[np.ndarray] = []
        self.pts: list[int] = []

    def add(self, frame: io.Frame, picture: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if self.kind == "video":
            if self.writer is None:
                fd, name = tempfile.mkstemp(prefix=f".chunk-{self.index:05d}.", suffix=".mp4", dir=self.folder.path)
                os.close(fd)
                self.temporary = Path(name)
                self.writer = encode.SegmentWriter(self.temporary, self.info.size, self.info.time_base, self.info.fps,
                                               self.config.crf, self.config.encoder_preset)
            self.writer.write(picture, frame.pts)
        else:
            self.pictures.append(picture)
        self.pts.append(frame.pts)
        if len(self.pts) == self.size:
            self.finish(state)

    def finish(self, state: dict[str, np.ndarray]) -> None:
        if not self.pts:
            return
        if self.kind == "video":
            assert self.writer is not None and self.temporary is not None
            self.writer.close()
            self.writer = None
            target = self.folder.chunk_file(self.index, ".mp4")
            os.replace(self.temporary, target)
            self.temporary = None
        else:
            target = self.folder.chunk_file(self.index, ".npz")
            pictures, pts = np.stack(self.pictures), np.asarray(self.pts, np.int64)
            write_atomically(target, lambda handle: np.savez_compressed(handle, frames=pictures, pts=pts))
        self.folder.commit_chunk({"index": self.index, "file": target.name, "frames": len(self.pts),
                                  "first_pts": self.pts[0], "last_pts": self.pts[-1]}, state)
        self.index += 1
        self.pictures, self.pts = [], []

    def abort(self) -> None:
        """Drop an unfinished chunk (an interrupt): its frames are painted again on resume."""
        if self.writer is not None:
            self.writer.abort()
            self.writer = None
        if self.temporary is not None:
            self.temporary.unlink(missing_ok=True)
            self.temporary = None


def _assemble(folder: WorkFolder, info: io.ClipInfo, config: VideoConfig, output: Path, kind: str) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=output.suffix, dir=output.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        if kind == "video":
            segments = [(folder.path / c["file"], int(c["first_pts"])) for c in folder.chunks]
            encode.assemble(segments, temporary, info, trimmed=config.duration is not None)
        else:
            encode.write_animation(_animation_frames(folder, info), temporary, info.fps)
        os.chmod(temporary, 0o644)
        os.replace(temporary, output)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _animation_frames(folder: WorkFolder, info: io.ClipInfo) -> Any:
    """(RGB, milliseconds) of every frame, from the chunks in order."""
    pending: tuple[np.ndarray, int] | None = None
    step_ms = 1000.0 / info.fps if info.fps else 100.0
    for entry in folder.chunks:
        with np.load(folder.path / entry["file"]) as data:
            frames, pts = data["frames"], data["pts"]
        for picture, p in zip(frames, pts, strict=True):
            if pending is not None:
                yield pending[0], round(float((int(p) - pending[1]) * info.time_base) * 1000)
            pending = (picture, int(p))
    if pending is not None:
        yield pending[0], round(step_ms)
