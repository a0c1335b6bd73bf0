"""`nst video`: paint a clip, fast with a style model (--model) or finest with the optimisation
(a style image). Reads its defaults from `nst.VideoConfig` and calls `nst.stylize_video`."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path
from typing import Any

from nst.cli.options import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    add_engine_options,
    comma_list,
    engine_device,
    engine_from_args,
    number,
    resolve_device,
)
from nst.cli.settings import add_style_options, config_from_args
from nst.optimise.config import StyleConfig
from nst.video.config import ENCODER_PRESETS, FLOW_PRESETS, VideoConfig

#: Options that mean something with --model; the optimisation's settings are refused with it.
MODEL_OPTIONS = {"model", "strength", "size", "preserve_color", "device", "output", "overwrite", "quiet",
                 "resume", "consistency", "start", "duration", "fps", "crf", "encoder_preset", "flow_preset",
                 "flow_scale", "chunk_frames", "jobs", "engine", "ray_address", "task_cpus", "task_gpus"}
#: Options of the optimisation path only.
OPTIMISE_ONLY = {"temporal_weight", "frame_iterations", "long_term", "optimise_chunk_frames"}


def seconds(text: str) -> float:
    """``--start``/``--duration``: seconds (12.5) or [hh:]mm:ss[.ff]."""
    try:
        parts = [float(p) for p in text.strip().split(":")]
        if not 1 <= len(parts) <= 3 or any(p < 0 for p in parts) or any(p >= 60 for p in parts[1:]):
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"needs seconds (12.5) or [hh:]mm:ss, got {text!r}") from None
    value = 0.0
    for part in parts:
        value = value * 60 + part
    return value


DESCRIPTION = (
    "Paint a clip: 'nst video IN -o OUT --model NAME' with a style model (fast), or 'nst video IN STYLE_IMAGE "
    "-o OUT' with the optimisation (Ruder et al. 2016; slow on a CPU). OUT: .mp4, .m4v, .mov, .mkv (H.264, "
    "the audio copied) or .gif, .webp. A work folder OUT.work keeps finished chunks: --resume continues a "
    "killed run."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = VideoConfig()
    p.add_argument("input", help="the clip: a video file PyAV reads, or an animated GIF/WebP")
    p.add_argument("style", nargs="*", help="style image(s) for the optimisation; none with --model")
    p.add_argument("-o", "--output", required=True, help="output: .mp4, .m4v, .mov, .mkv, .gif or .webp")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output or work folder")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from OUT.work")
    v = p.add_argument_group("video (defaults: nst.VideoConfig)")
    v.add_argument("--model", metavar="NAME|PATH", help="a style model: a bundled name ('nst models') or .pt/.onnx")
    v.add_argument("--instant", action="store_true",
                   help="paint the style image (any painting) in seconds a frame, as a style model would")
    v.add_argument("--stroke-scale", type=float, default=d.stroke_scale, metavar="X",
                   help="with --instant: the painting's size relative to the frame (default: 1)")
    v.add_argument("--strength", type=number(float), default=d.strength, metavar="S",
                   help=f"with --model: 0 gives the photo, 1 the full style (default: {d.strength:g})")
    v.add_argument("--consistency", type=number(float), default=d.consistency,
                   help=f"with --model: share of the previous painted frame, moved by the optical flow, blended "
                   f"into each frame; 0: independent frames (default: {d.consistency:g}). "
                   "With a style image, 0 paints independent frames")
    v.add_argument("--start", type=seconds, default=d.start, help="start at this time: seconds or [hh:]mm:ss (default: 0)")
    v.add_argument("--duration", type=seconds, default=d.duration, help="paint this long (default: to the end)")
    v.add_argument("--fps", type=number(float), default=d.fps,
                   help="resample to this frame rate (default: the source's frames and timestamps)")
    v.add_argument("--crf", type=number(int), default=d.crf,
                   help=f"H.264 quality, 0 (lossless) to 51 (default: {d.crf})")
    v.add_argument("--encoder-preset", choices=ENCODER_PRESETS, default=d.encoder_preset,
                   help=f"x264's speed preset (default: {d.encoder_preset})")
    v.add_argument("--flow-preset", choices=FLOW_PRESETS, default=d.flow_preset,
                   help=f"OpenCV DIS optical flow preset (default: {d.flow_preset})")
    v.add_argument("--flow-scale", type=number(float), default=d.flow_scale,
                   help=f"compute the flow at this fraction of the frame size (default: {d.flow_scale:g})")
    v.add_argument("--chunk-frames", type=number(int), default=d.chunk_frames,
                   help=f"with --model: frames per resumable chunk (default: {d.chunk_frames})")
    o = p.add_argument_group("video optimisation (with a style image)")
    o.add_argument("--temporal-weight", type=number(float), default=d.temporal_weight,
                   help=f"weight of the temporal loss (default: {d.temporal_weight:g})")
    o.add_argument("--frame-iterations", type=number(int), default=d.frame_iterations,
                   help=f"most iterations of each frame after the first (default: {d.frame_iterations})")
    o.add_argument("--long-term", type=comma_list(int, "--long-term"), default=d.long_term, metavar="J,..",
                   help="hold each frame to these earlier frames, e.g. 1,2,4 (default: 1: the previous only)")
    o.add_argument("--optimise-chunk-frames", type=number(int), default=d.optimise_chunk_frames,
                   help=f"frames per resumable chunk (default: {d.optimise_chunk_frames})")
    add_engine_options(p, unit="frame")
    add_style_options(p, size="auto: the clip's own")


def video_config(args: argparse.Namespace) -> VideoConfig:
    names = {f.name for f in dataclasses.fields(VideoConfig)}
    values = {k: v for k, v in vars(args).items() if k in names}
    values["long_term"] = tuple(values["long_term"])
    return VideoConfig(**values)


def _checked(args: argparse.Namespace) -> None:
    given = getattr(args, "given", set()) or set()
    if args.instant:
        if args.model or not args.style:
            raise UsageError("--instant paints a painting: give its file after the clip, and no --model")
        foreign = sorted(given - MODEL_OPTIONS - {"instant", "stroke_scale", "style"})
        if foreign:
            raise UsageError(f"--{foreign[0].replace('_', '-')} applies to the optimisation, not to --instant")
    elif args.model:
        if args.style:
            raise UsageError("with --model, give no style image (the model is the style)")
        foreign = sorted(given - MODEL_OPTIONS)
        if foreign:
            raise UsageError(f"--{foreign[0].replace('_', '-')} applies to the optimisation, not to --model")
    else:
        if not args.style:
            raise UsageError("give a style image (the optimisation), or --model NAME for a style model")
        for name in ("strength", "chunk_frames", "stroke_scale"):
            if name in given:
                raise UsageError(f"--{name.replace('_', '-')} applies to --model")
    if (args.engine == "ray" or args.jobs > 1) and args.consistency > 0:
        raise UsageError(f"{'--engine ray' if args.engine == 'ray' else '--jobs'} paints independent frames side by "
                         "side: add --consistency 0 (with consistency each frame needs the one before it)")


def _engine(args: argparse.Namespace) -> Any:
    """None (paint in this process, frame after frame) unless --jobs or --engine ray asks for more."""
    engine = engine_from_args(args, model_jobs="tasks")
    return None if engine.name == "local" and engine.jobs == 1 else engine


def run(args: argparse.Namespace) -> int:
    _checked(args)
    import nst

    config = video_config(args)
    quick = bool(args.model or args.instant)
    style_config: StyleConfig | None = None if quick else config_from_args(args).with_changes(size=None)
    engine = _engine(args)
    if args.engine == "ray":
        device = engine_device(args)  # the tasks' resources decide, not this machine's
    elif args.model:
        device = "cpu" if args.device in ("auto", "cpu") else resolve_device(args.device)
    else:
        device = resolve_device(args.device)
    bar = _Bar(args.quiet)
    try:
        result = nst.stylize_video(args.input, args.output, model=args.model, style=args.style or None,
                                   config=config, style_config=style_config, callback=bar, resume=args.resume,
                                   overwrite=args.overwrite, device=device, engine=engine, instant=args.instant)
    except KeyboardInterrupt:
        bar.close()
        work = Path(args.output).with_name(f"{Path(args.output).name}.work")
        argv = list(getattr(args, "argv", []) or [])
        again = shlex.join(["nst", *argv] + ([] if "--resume" in argv else ["--resume"]))
        print(f"interrupted after {bar.done} frames; finished chunks are kept in '{work}'; "
              f"resume with: {again}", file=sys.stderr)
        return EXIT_INTERRUPTED
    bar.close()
    if not args.quiet:
        w, h = result.size
        sound = f", audio ({result.audio}) copied" if result.audio else ""
        cuts = f"; new shots at frames {', '.join(map(str, result.cuts[:10]))}" if result.cuts else ""
        painted = result.frames - result.resumed_from
        rate = painted / result.seconds if result.seconds > 0 else 0.0
        print(f"wrote {result.output} ({w}x{h}, {result.frames} frames{sound}) in {result.seconds:.1f} s, "
              f"{rate:.2f} frames/s{cuts}", file=sys.stderr)
    return EXIT_OK


class _Bar:
    """A tqdm bar of frames: frames per second and time left."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bar: Any = None
        self.done = 0

    def __call__(self, progress: Any) -> None:
        self.done = progress.frame
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=progress.frames, initial=progress.resumed_from, unit="frame",
                            dynamic_ncols=True, file=sys.stderr)
        if progress.frames != self.bar.total:
            self.bar.total = progress.frames
        self.bar.update(progress.frame - self.bar.n)
        self.bar.set_postfix_str(f"flow holds {progress.reliable:.0%}" + (" (new shot)" if progress.cut else ""),
                                 refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
