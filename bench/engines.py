"""The engines compared: the same grid on the local pool and on a local Ray, and a style-model
batch's throughput against the model's own single-process loop.

Grid mode (default): a 2 x 4 grid (tubingen, brad_pitt x starry_night, the_scream, great_wave,
udnie from ../shared/images) at 128 px, run by `nst grid` in a fresh process for each engine:

    local pool, 1 job (all cores in one process)   vs  Ray, 1 worker (--task-cpus = all cores)
    local pool, 2 jobs (1 thread each)             vs  Ray, 2 workers (--task-cpus 1)

Each pair runs with the same threads per cell, so its pictures must be byte-identical (checked).
Printed: wall time, its ratio to the local pool, overhead per task (slot time not spent in the
cells' own optimisation: (wall x workers - sum of cell seconds) / cells), peak memory of the
whole process tree (driver, pool or Ray processes; the sum of their resident sets, so shared
pages count more than once) and Ray's start-up (ray.init).

Batch mode (--batch): a style model over ../shared/photos (or --photos): photos per second of
the model's plain loop in one process (load, paint, save) against `nst batch` on each engine,
and the process tree's memory in the first and second half of each run (flat: about equal).

    python bench/engines.py                                 # the grid, 128 px (minutes)
    python bench/engines.py --size 32 --iterations 2        # a quick check that it all works
    python bench/engines.py --batch --model starry-night    # 300 photos
    python bench/engines.py --batch --model m.pt --limit 8 --size 32
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
CONTENTS = ("tubingen.jpg", "brad_pitt.jpg")
STYLES = ("starry_night.jpg", "the_scream.jpg", "great_wave.jpg", "udnie.jpg")


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# ---- memory of a process tree, sampled ----


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                kids += [int(k) for k in handle.read().split()]
    except OSError:
        pass
    return kids


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_rss_mb(root: int) -> float:
    total, todo, seen = 0.0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss_mb(pid)
        todo += _children(pid)
    return total


def run_sampled(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, list[tuple[float, float]]]:
    """Run ``argv``; (wall seconds, [(t, resident MB of its whole process tree)] every 0.1 s)."""
    samples: list[tuple[float, float]] = []
    started = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.perf_counter() - started, tree_rss_mb(child.pid)))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = child.communicate()
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    if child.returncode != 0:
        sys.exit(f"failed ({child.returncode}): {' '.join(argv)}\n{err[-2000:]}")
    return wall, samples


def nst(*args: str) -> list[str]:
    return [sys.executable, "-m", "nst.cli", *args]


# ---- grid mode ----


def grid(args: argparse.Namespace) -> None:
    images = SHARED / "images"
    missing = [n for n in (*CONTENTS, *STYLES) if not (images / n).is_file()]
    if missing:
        print(f"skipped: {images} lacks {', '.join(missing)} (the bench needs ../shared/images)")
        return
    n = cores()
    runs = [
        ("local, 1 job", ["--engine", "local", "--jobs", "1"], 1, "a"),
        (f"ray, 1 worker (--task-cpus {n})", ["--engine", "ray", "--task-cpus", str(n)], 1, "a"),
        (f"local, {n} jobs", ["--engine", "local", "--jobs", str(n)], n, "b"),
        (f"ray, {n} workers (--task-cpus 1)", ["--engine", "ray", "--task-cpus", "1"], n, "b"),
    ]
    base = ["grid", "--content", *[str(images / c) for c in CONTENTS], "--style", *[str(images / s) for s in STYLES],
            "--size", str(args.size), "--quiet"]
    if args.iterations:
        base += ["--iterations", str(args.iterations)]
    work = Path(tempfile.mkdtemp(prefix="nst-bench-engines-"))
    rows, folders = [], {}
    try:
        for label, options, workers, pair in runs:
            out = work / label.split(" (")[0].replace(", ", "-").replace(" ", "")
            wall, samples = run_sampled(nst(*base, *options, "-o", str(out)))
            data = json.loads((out / "manifest.json").read_text())
            run = data["runs"][-1]
            compute = sum(c["elapsed_seconds"] for c in data["cells"])
            cells = len(data["cells"])
            rows.append({
                "engine": label, "pair": pair, "wall_s": round(wall, 2), "run_s": run["wall_seconds"],
                "overhead_per_task_s": round((run["wall_seconds"] * workers - compute) / cells, 3),
                "peak_rss_mb": round(max(m for _, m in samples), 0),
                "ray_startup_s": run.get("startup_seconds"),
            })
            folders[label] = (pair, out, [c["image"] for c in data["cells"]])
            print(f"  {label}: {wall:.1f} s", file=sys.stderr, flush=True)
        local = {r["pair"]: r for r in rows if r["engine"].startswith("local")}
        for r in rows:
            r["wall_vs_local"] = round(r["wall_s"] / local[r["pair"]]["wall_s"], 3)
        same = {}
        for pair in ("a", "b"):
            (_, a, names), (_, b, _) = [v for v in folders.values() if v[0] == pair]
            same[pair] = all((a / name).read_bytes() == (b / name).read_bytes() for name in names)
        print(f"2 x 4 grid at {args.size} px, {n} cores, {cells} cells" +
              (f", {args.iterations} iterations per scale" if args.iterations else ""))
        print(f"{'engine':34} {'wall s':>8} {'vs local':>9} {'overhead/task s':>16} {'peak MB':>8} {'ray start s':>12}")
        for r in rows:
            start = "" if r["ray_startup_s"] is None else f"{r['ray_startup_s']:.2f}"
            print(f"{r['engine']:34} {r['wall_s']:8.2f} {r['wall_vs_local']:9.3f} {r['overhead_per_task_s']:16.3f} "
                  f"{r['peak_rss_mb']:8.0f} {start:>12}")
        for pair, label in (("a", "1 worker"), ("b", f"{n} workers")):
            print(f"pictures, local vs ray with {label}: {'byte-identical' if same[pair] else 'DIFFERENT'}")
        if args.json:
            Path(args.json).write_text(json.dumps({"rows": rows, "identical": same}, indent=1))
        if not all(same.values()):
            sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---- batch mode ----

_LOOP = """
import sys, time
from pathlib import Path
from nst.image import load_pil, save_image
from nst.models.loader import load_style_model
from nst.picture import DEFAULT_MAX_SIZE
model, size, out = sys.argv[1], (int(sys.argv[2]) or None), Path(sys.argv[3])
photos = [Path(p) for p in sys.argv[4:]]
m = load_style_model(model)
for p in photos:
    picture = m.paint(load_pil(p, at_least=size or DEFAULT_MAX_SIZE), size)
    save_image(picture, out / (p.stem + ".png"), {"model": m.card.name}, fast=True)
"""


def batch(args: argparse.Namespace) -> None:
    folder = Path(args.photos) if args.photos else SHARED / "photos"
    photos = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[: args.limit]
    if not photos:
        print(f"skipped: no photos in {folder}")
        return
    model = args.model
    if model is None:
        from nst.models.registry import bundled_names

        names = bundled_names()
        if not names:
            sys.exit("give --model NAME|PATH (no bundled style models are installed)")
        model = names[0]
    n = cores()
    size = ["--size", str(args.size)] if args.size else []
    work = Path(tempfile.mkdtemp(prefix="nst-bench-batch-"))
    rows = []
    try:
        (work / "loop").mkdir()
        wall, samples = run_sampled([sys.executable, "-c", _LOOP, model, str(args.size or 0), str(work / "loop"),
                                     *map(str, photos)])
        rows.append(("model's own loop, 1 process", wall, samples, steady_rate(work / "loop")))
        listed = work / "photos"
        listed.mkdir()
        for p in photos:
            (listed / p.name).symlink_to(p.resolve())
        for label, options in (
            ("nst batch, local, 1 job", ["--jobs", "1"]),
            (f"nst batch, local, {n} jobs", ["--jobs", str(n)]),
            (f"nst batch, ray, {n} actors", ["--engine", "ray", "--task-cpus", "1"]),
            ("nst batch, ray, 1 actor", ["--engine", "ray", "--task-cpus", str(n)]),
        ):
            out = work / label.replace(", ", "-").replace(" ", "")
            wall, samples = run_sampled(nst("batch", str(listed), "--model", model, *size, "-o", str(out), "--quiet",
                                            *options))
            rows.append((label, wall, samples, steady_rate(out)))
        print(f"{len(photos)} photos from {folder}, model {model}, size {args.size or 'own'}, {n} cores")
        print("photos/s: all photos over the whole wall time (start-up included); steady: between the first and "
              "the last picture written")
        print(f"{'run':34} {'wall s':>8} {'photos/s':>9} {'vs loop':>8} {'steady/s':>9} {'vs loop':>8} "
              f"{'MB 1st half':>12} {'MB 2nd half':>12}")
        loop_rate, loop_steady = len(photos) / rows[0][1], rows[0][3]
        result = []
        for label, wall, samples, steady in rows:
            half = wall / 2
            first = max([m for t, m in samples if t <= half] or [0])
            second = max([m for t, m in samples if t > half] or [0])
            rate = len(photos) / wall
            print(f"{label:34} {wall:8.2f} {rate:9.2f} {rate / loop_rate:8.3f} {steady:9.2f} "
                  f"{steady / loop_steady:8.3f} {first:12.0f} {second:12.0f}")
            result.append({"run": label, "wall_s": round(wall, 2), "photos_per_s": round(rate, 3),
                           "vs_loop": round(rate / loop_rate, 3), "steady_photos_per_s": round(steady, 3),
                           "steady_vs_loop": round(steady / loop_steady, 3), "rss_mb_first_half": round(first),
                           "rss_mb_second_half": round(second)})
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def steady_rate(folder: Path) -> float:
    """Pictures per second between the first and the last one written (their files' mtimes)."""
    times = sorted(p.stat().st_mtime for p in folder.glob("*.png") if p.name != "sheet.png")
    if len(times) < 2 or times[-1] <= times[0]:
        return float("nan")
    return (len(times) - 1) / (times[-1] - times[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", action="store_true", help="a style model over a folder of photos")
    parser.add_argument("--size", type=int, help="px (grid default: 128; batch default: each photo's own size)")
    parser.add_argument("--iterations", type=int, help="grid: most iterations per scale (default: nst's)")
    parser.add_argument("--model", help="batch: a bundled name or a .pt/.onnx file (default: the first bundled)")
    parser.add_argument("--photos", help="batch: a folder of photos (default: ../shared/photos)")
    parser.add_argument("--limit", type=int, default=300, help="batch: at most this many photos (default: 300)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    if args.batch:
        batch(args)
    else:
        args.size = args.size or 128
        grid(args)


if __name__ == "__main__":
    main()
