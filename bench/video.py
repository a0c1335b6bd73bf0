"""Video: flicker and speed of `nst video` (docs/video.md).

    python bench/video.py                 # everything (about 10 minutes on 2 cores)
    python bench/video.py --only fast     # the style model path: stability, distance, speed
    python bench/video.py --only optimise # the optimisation path at a small size
    python bench/video.py --only speed    # throughput at 854x480 only
    python bench/video.py --only engines  # independent frames on the local pool and on Ray

Clips are generated (nst.video.synthetic): a pan and zoom over tubingen.jpg, a disc moving over a
background, and a cut between two shots. Stability is the temporal warping error of Lai et al.
(2018): frame t+1 warped onto frame t by the flow of the input video, masked where a pixel is not
visible in both, mean squared difference (x 1000, pixels in [0, 1]). It is scored with the clips'
true motion, known exactly because the clips are generated (not the DIS flow nst stabilises
with); pairs across the cut are left out. "distance" is the RMS difference
(in 1/255) between a method's frames and the per-frame output: stability that comes from blur or
from holding old frames moves far from it. The running average (an exponential average of the
per-frame outputs without flow) is shown at the strength that reaches nst's error.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import nst  # noqa: E402
from nst.video import synthetic as video_clips  # noqa: E402
from nst.video.config import VideoConfig  # noqa: E402
from nst.video.consistency import StableModel, advance, previous_frames  # noqa: E402
from nst.video.flow import warp  # noqa: E402
from nst.video.paint import ModelPainter  # noqa: E402
from nst.video.synthetic import pan_zoom, write_clip  # noqa: E402

IMAGES = ROOT.parent / "shared" / "images"


class Scorer:
    """Lai et al.'s warping error with a clip's true motion (flow t -> t+1 and where it is valid)."""

    def __init__(self, motion: list[tuple[np.ndarray, np.ndarray]]):
        self.pairs = motion

    def per_frame(self, frames: list[np.ndarray]) -> list[float]:
        errors = []
        for t, (flow, mask) in enumerate(self.pairs):
            a = frames[t].astype(np.float32) / 255.0
            b = warp(frames[t + 1].astype(np.float32) / 255.0, flow)
            squared = ((b - a) ** 2).mean(-1)
            errors.append(float(squared[mask].mean() * 1000) if mask.any() else math.nan)
        return errors

    def error(self, frames: list[np.ndarray]) -> float:
        return statistics.fmean(e for e in self.per_frame(frames) if not math.isnan(e))


def distance(frames: list[np.ndarray], reference: list[np.ndarray]) -> float:
    diffs = [((a.astype(np.float32) - b.astype(np.float32)) ** 2).mean() for a, b in zip(frames, reference, strict=True)]
    return float(np.sqrt(statistics.fmean(diffs)))


def to_uint8(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)


def running_average(per_frame: list[np.ndarray], a: float) -> list[np.ndarray]:
    out, state = [], None
    for p in per_frame:
        f = p.astype(np.float32)
        state = f if state is None else a * state + (1 - a) * f
        out.append((state + 0.5).astype(np.uint8))
    return out


def stabilised(model, inputs: list[np.ndarray], config: VideoConfig) -> tuple[list[np.ndarray], list[int]]:
    engine = StableModel(ModelPainter(model, config.strength, config.preserve_color), config)
    state: dict = {}
    out, cuts = [], []
    for i, rgb in enumerate(inputs):
        painted, _, cut = engine.step(rgb, previous_frames(state, (1,) if config.consistency > 0 else ()))
        state = advance(state, rgb, painted, 1, cut)
        out.append(to_uint8(painted))
        if cut:
            cuts.append(i)
    engine.close()
    return out, cuts


def clips(width: int, height: int, frames: int) -> dict[str, tuple[list[np.ndarray], Scorer]]:
    """Each clip's frames and the scorer of its true motion."""
    out = {}
    for name, make in (("pan-zoom", "pan_zoom"), ("moving-object", "moving_object"), ("cut", "with_cut")):
        frames_ = getattr(video_clips, make)(width, height, frames)
        out[name] = (frames_, Scorer(getattr(video_clips, f"{make}_motion")(width, height, frames)))
    return out


def fast(args: argparse.Namespace) -> dict:
    model = nst.load_style_model(args.model)
    w, h = args.fast_size
    report = {}
    print(f"\n## Fast path: {args.model}, {w}x{h}, {args.frames} frames; warping error x1000 (true motion), "
          "distance from per-frame output (RMS, 1/255)\n")
    print("| clip | per-frame error | nst error | ratio | nst distance | running average: strength, error, distance | cuts found |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, (inputs, scorer) in clips(w, h, args.frames).items():
        base, _ = stabilised(model, inputs, VideoConfig(consistency=0))
        ours, cuts = stabilised(model, inputs, VideoConfig(consistency=args.consistency))
        e_base, e_ours = scorer.error(base), scorer.error(ours)
        # The weakest running average that reaches nst's error; on moving clips none may: averaging
        # without the flow ghosts, and its error rises again. Then the one with the lowest error.
        grid = [round(0.05 * i, 2) for i in range(1, 20)]
        averages = {a: running_average(base, a) for a in grid}
        scores = {a: scorer.error(frames_) for a, frames_ in averages.items()}
        reaching = [a for a in grid if scores[a] <= e_ours]
        hi = reaching[0] if reaching else min(grid, key=scores.get)
        avg = averages[hi]
        row = {"per_frame_error": e_base, "nst_error": e_ours, "ratio": e_ours / e_base,
               "nst_distance": distance(ours, base), "average_strength": hi,
               "average_error": scores[hi], "average_reaches": bool(reaching),
               "average_distance": distance(avg, base), "cuts": cuts,
               "per_frame_errors": scorer.per_frame(base), "nst_errors": scorer.per_frame(ours)}
        report[name] = row
        print(f"| {name} | {e_base:.3f} | {e_ours:.3f} | {row['ratio']:.2f} | {row['nst_distance']:.1f} | "
              f"{hi:.2f}, {scores[hi]:.3f}{'' if reaching else ' (its lowest)'}, {row['average_distance']:.1f} | "
              f"{cuts or 'none'} |")
        if args.per_frame:
            print("  per frame pair (per-frame / nst):", " ".join(f"{a:.2f}/{b:.2f}" for a, b in
                                                         zip(row["per_frame_errors"], row["nst_errors"], strict=True)))
    return report


def speed(args: argparse.Namespace) -> dict:
    """Whole `nst video` runs against the model painting the same frames alone. The three are
    interleaved over several rounds and both wall and process CPU time are kept: on a machine
    shared with other work the wall clock also measures the others' load."""
    model = nst.load_style_model(args.model)
    w, h = 854, 480
    inputs = pan_zoom(w, h, args.speed_frames)
    painter = ModelPainter(model)
    painter(inputs[0])
    runs: dict[str, list[tuple[float, float]]] = {"model": [], "per-frame": [], "nst": []}
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_clip(Path(tmp) / "clip.mp4", inputs, fps=24)
        for _ in range(args.rounds):
            t, c = time.perf_counter(), time.process_time()
            for rgb in inputs:
                painter(rgb)
            runs["model"].append((time.perf_counter() - t, time.process_time() - c))
            for label, consistency in (("per-frame", 0.0), ("nst", args.consistency)):
                out = Path(tmp) / f"{label}.mp4"
                out.unlink(missing_ok=True)
                t, c = time.perf_counter(), time.process_time()
                # By name, as the CLI does (the model is then loaded for the run: with consistency,
                # with onnxruntime's threads told not to spin, since the flow shares the cores).
                nst.stylize_video(clip, out, model=args.model, config=VideoConfig(consistency=consistency))
                runs[label].append((time.perf_counter() - t, time.process_time() - c))
        motion_seconds = _motion_cost(inputs)
    n = len(inputs)
    report = {label: {"fps_wall": n / statistics.median(x for x, _ in r), "fps_cpu": n / statistics.median(c for _, c in r)}
              for label, r in runs.items()}
    report["flow_ms_per_frame"] = motion_seconds * 1000
    print(f"\n## Throughput at {w}x{h} ({n} frames, {args.model}, {args.rounds} interleaved rounds, medians; whole "
          "`nst video` runs: decode, paint, flow, encode, work folder)\n")
    print("| | frames/s (wall) | share | frames per CPU-second | share |")
    print("| --- | --- | --- | --- | --- |")
    base = report["model"]
    for label, name in (("model", "the model alone (paints each frame, nothing else)"),
                        ("per-frame", "nst video --consistency 0"),
                        ("nst", f"nst video (consistency {args.consistency:g})")):
        r = report[label]
        print(f"| {name} | {r['fps_wall']:.2f} | {r['fps_wall'] / base['fps_wall']:.2f} | {r['fps_cpu']:.2f} | "
              f"{r['fps_cpu'] / base['fps_cpu']:.2f} |")
    print(f"\nflow + checks alone: {report['flow_ms_per_frame']:.1f} ms per frame (wall)")
    return report


def engines(args: argparse.Namespace) -> dict:
    """`nst video --consistency 0` at 854x480 painted in this process, on the local pool (2
    processes) and on a local Ray (2 tasks of 1 CPU): wall time, whole runs (start-up included)."""
    from nst.engines import make_engine

    w, h = 854, 480
    inputs = pan_zoom(w, h, args.engine_frames)
    config = VideoConfig(consistency=0.0)
    runs = {
        "this process": lambda: None,
        "--jobs 2": lambda: make_engine("local", jobs=2),
        "--engine ray (2 tasks x 1 CPU)": lambda: make_engine("ray", task_cpus=1, model_jobs="tasks"),
    }
    report: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_clip(Path(tmp) / "clip.mp4", inputs, fps=24)
        reference = None
        for label, engine in runs.items():
            out = Path(tmp) / f"{len(report)}.mp4"
            t = time.perf_counter()
            nst.stylize_video(clip, out, model=args.model, config=config, engine=engine())
            seconds = time.perf_counter() - t
            data = out.read_bytes()
            reference = reference or data
            report[label] = {"seconds": seconds, "fps": len(inputs) / seconds, "same_bytes": data == reference}
    print(f"\n## Independent frames on the engines at {w}x{h} ({len(inputs)} frames, {args.model}, "
          "`--consistency 0`, whole runs with start-up)\n")
    print("| where | seconds | frames/s | vs this process | same file |")
    print("| --- | --- | --- | --- | --- |")
    base = report["this process"]["seconds"]
    for label, r in report.items():
        print(f"| {label} | {r['seconds']:.1f} | {r['fps']:.2f} | {base / r['seconds']:.2f}x | "
              f"{'yes' if r['same_bytes'] else 'no'} |")
    return report


def _motion_cost(inputs: list[np.ndarray]) -> float:
    from nst.video.consistency import MotionEstimator

    estimator = MotionEstimator(VideoConfig())
    estimator.motion(inputs[0], inputs[1])
    t = time.perf_counter()
    for a, b in zip(inputs, inputs[1:], strict=False):
        estimator.motion(a, b)
    return (time.perf_counter() - t) / (len(inputs) - 1)


def optimise(args: argparse.Namespace) -> dict:
    from nst.optimise.config import StyleConfig
    from nst.video.optimise import FrameOptimiser

    style = IMAGES / "starry_night.jpg"
    size = args.optimise_size
    inputs = pan_zoom(size, size * 3 // 4 // 2 * 2, args.optimise_frames)
    h, w = inputs[0].shape[:2]
    config = VideoConfig()
    engine = FrameOptimiser(style, StyleConfig(), config, (w, h))
    scorer = Scorer(video_clips.pan_zoom_motion(w, h, len(inputs)))
    independent, times_independent = [], []
    ruder, times = [], []
    state: dict = {}
    # Process CPU time as well as wall time: on a shared machine the wall clock measures the load.
    for i, rgb in enumerate(inputs):
        t, c = time.perf_counter(), time.process_time()
        independent.append(to_uint8(engine.independent(rgb)))
        times_independent.append((time.perf_counter() - t, time.process_time() - c))
        t, c = time.perf_counter(), time.process_time()
        if state:
            painted, _, cut = engine.step(rgb, previous_frames(state, config.long_term))
        else:  # the first frame is painted on its own: the independent one just painted (8-bit)
            painted, cut = independent[-1].astype(np.float32) / 255.0, False
            t, c = t - times_independent[-1][0], c - times_independent[-1][1]
        times.append((time.perf_counter() - t, time.process_time() - c))
        state = advance(state, rgb, painted, max(config.long_term), cut)
        ruder.append(to_uint8(painted))
        print(f"  frame {i}: independent {times_independent[-1][0]:.1f} s ({times_independent[-1][1]:.1f} s CPU), "
              f"nst {times[-1][0]:.1f} s ({times[-1][1]:.1f} s CPU)", flush=True)
    e_ind, e_ours = scorer.error(independent), scorer.error(ruder)
    cpu = [c for _, c in times]
    report = {"independent_error": e_ind, "nst_error": e_ours, "ratio": e_ours / e_ind,
              "first_frame_cpu_seconds": cpu[0], "later_frame_cpu_seconds": statistics.fmean(cpu[1:]),
              "independent_frame_cpu_seconds": statistics.fmean(c for _, c in times_independent),
              "nst_distance": distance(ruder, independent),
              "independent_errors": scorer.per_frame(independent), "nst_errors": scorer.per_frame(ruder)}
    print(f"\n## Optimisation path: {w}x{h}, {len(inputs)} frames of the pan, starry_night.jpg, "
          f"temporal weight {config.temporal_weight:g}, {config.frame_iterations} iterations per later frame\n")
    print("| | warping error x1000 | CPU seconds per frame |")
    print("| --- | --- | --- |")
    print(f"| independent frames (each from its photo, the default pyramid) | {e_ind:.3f} | "
          f"{report['independent_frame_cpu_seconds']:.1f} |")
    print(f"| nst (Ruder et al.: from the warped previous frame, temporal loss) | {e_ours:.3f} | "
          f"first {cpu[0]:.1f}, later {report['later_frame_cpu_seconds']:.1f} |")
    if args.save_frames:
        from PIL import Image

        rows = [np.concatenate(list(row), axis=1) for row in zip(inputs, independent, ruder, strict=True)]
        Image.fromarray(np.concatenate(rows, axis=0)).save(args.save_frames)
        print(f"wrote {args.save_frames} (rows: frames; columns: input, independent, nst)")
    print(f"\nratio {report['ratio']:.2f}; later frames take {report['later_frame_cpu_seconds'] / cpu[0]:.2f} of the "
          f"first; distance from the independent frames {report['nst_distance']:.1f}/255")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("fast", "speed", "optimise", "engines"))
    parser.add_argument("--model", default="starry-night")
    parser.add_argument("--consistency", type=float, default=VideoConfig().consistency)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--fast-size", type=int, nargs=2, default=(427, 240), metavar=("W", "H"))
    parser.add_argument("--speed-frames", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engine-frames", type=int, default=144)
    parser.add_argument("--optimise-size", type=int, default=128)
    parser.add_argument("--optimise-frames", type=int, default=8)
    parser.add_argument("--save-frames", metavar="PNG", help="optimise: write the frames side by side here")
    parser.add_argument("--per-frame", action="store_true", help="also print each frame pair's error")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; nst {nst.__version__}")
    report = {}
    if args.only in (None, "fast"):
        report["fast"] = fast(args)
    if args.only in (None, "speed"):
        report["speed"] = speed(args)
    if args.only in (None, "optimise"):
        report["optimise"] = optimise(args)
    if args.only in (None, "engines"):
        report["engines"] = engines(args)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
