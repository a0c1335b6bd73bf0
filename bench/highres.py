"""Whole `nst stylize` runs at large sizes: wall time, peak memory, iterations, swap.

Each size runs as its own `nst stylize` process (the CLI a user runs, defaults unless --extra says
otherwise). Its peak resident memory comes from the kernel's accounting of that one child
(`os.wait4`), set beside nst's own estimate (`nst.estimate_memory`); the machine's swap use is
sampled every second while it runs. On a GPU (`--extra="--device cuda"`) the estimate is the
GPU's and the card's peak (the allocator's, from the run's report) is recorded too.

    python bench/highres.py                         # 2048 px with the defaults (~40 min on 2 cores)
    python bench/highres.py --sizes 1024 2048 --out runs/highres
    python bench/highres.py --sizes 4096 --extra="--preset draft --scale-ratio 2"
    python bench/highres.py --sizes 512 1024 2048 4096 --extra="--device cuda"   # ~2 min on an H100

Results are printed as a table and appended as JSON lines to OUT/highres.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"


def swap_used_mb() -> float:
    """Swap in use on the whole machine (0 where there is no swap)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    kb = lambda key: int(fields[key].split()[0])  # noqa: E731
    return (kb("SwapTotal") - kb("SwapFree")) / 1024


def run_one(size: int, content: str, style: str, out: Path, extra: list[str]) -> dict:
    """One `nst stylize` process at ``size``; returns its measurements."""
    from PIL import Image

    import nst
    from nst.cli import build_parser, config_from_args, given_options, resolve_device

    image = out / f"highres-{size}.png"
    report = out / f"highres-{size}.json"
    command = [str(Path(sys.executable).with_name("nst")), "stylize", content, style, "-o", str(image),
               "--size", str(size), "--report", str(report), "--overwrite", "--quiet", *extra]  # fmt: skip
    # The settings exactly as the CLI reads them from this command line, for the estimate.
    args = build_parser().parse_args(command[1:])
    args.given = given_options(command[1:])
    config = config_from_args(args)
    device = resolve_device(args.device)
    with Image.open(content) as photo:
        estimate_mb = nst.estimate_memory(config, photo.size, device, styles=1) / 2**20

    swap_peak = [swap_used_mb()]
    done = threading.Event()

    def watch_swap() -> None:
        while not done.wait(1.0):
            swap_peak[0] = max(swap_peak[0], swap_used_mb())

    watcher = threading.Thread(target=watch_swap, daemon=True)
    watcher.start()
    start = time.perf_counter()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    watcher.join()
    row = {"size": size, "command": shlex.join(["nst", *command[1:]]), "exit": os.waitstatus_to_exitcode(status),
           "wall_s": round(wall, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
           "peak_mb": round(usage.ru_maxrss / 1024), "estimate_mb": round(estimate_mb),
           "swap_peak_mb": round(swap_peak[0]), "machine": machine(),
           "plan": [list(level) for level in config.scale_plan(size)]}  # fmt: skip
    if report.is_file():
        data = json.loads(report.read_text())
        row.update(output=data["size"], iterations=data["iterations"], stop_reason=data["stop_reason"])
        if data["device"] != "cpu":
            # On a GPU the memory that limits the size is the card's: the allocator's peak.
            row.update(device=data["device"], device_peak_mb=round(data["peak_memory_mb"]))
    return row


def machine() -> str:
    import torch

    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
            f"torch {torch.__version__}, {torch.get_num_threads()} threads{gpu}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[2048])
    parser.add_argument("--content", default=str(IMAGES / "tubingen.jpg"))
    parser.add_argument("--style", default=str(IMAGES / "starry_night.jpg"))
    parser.add_argument("--out", default="runs/highres", help="folder for the images, reports and results")
    parser.add_argument("--extra", default="", help="more `nst stylize` options, as one string")
    args = parser.parse_args()
    if not Path(args.content).is_file() or not Path(args.style).is_file():
        print(f"skipped: test images not found ({args.content}, {args.style})")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    print(f"{'size':>6} {'output':>11} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'GPU MB':>8} {'est. MB':>8} "
          f"{'swap MB':>8} {'iters':>6}  stop")  # fmt: skip
    for size in args.sizes:
        row = run_one(size, args.content, args.style, out, shlex.split(args.extra))
        with open(out / "highres.jsonl", "a") as log:
            log.write(json.dumps(row) + "\n")
        shape = "x".join(map(str, row.get("output", ["?"])))
        print(f"{size:>6} {shape:>11} {row['wall_s']:>8.0f} {row['cpu_s']:>8.0f} {row['peak_mb']:>8} "
              f"{row.get('device_peak_mb', '-'):>8} {row['estimate_mb']:>8} {row['swap_peak_mb']:>8} {row.get('iterations', '-'):>6}  "
              f"{row.get('stop_reason', 'exit ' + str(row['exit']))}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
