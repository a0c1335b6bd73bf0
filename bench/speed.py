"""Seconds per iteration and peak memory of `nst stylize` at several sizes, against the FLOP floor.

Each size runs in a fresh subprocess so that its peak resident memory is its own. The FLOP floor
is this machine's measured fp32 matrix-multiply throughput (a large SGEMM) divided into the FLOPs
of one iteration (VGG-19 forward to the deepest layer plus the gradient w.r.t. the image), counted
by torch's FlopCounterMode.

    python bench/speed.py                      # 128, 256 and 512 px, 10 timed iterations each
    python bench/speed.py --sizes 1024 2048 --iterations 3
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"


def sgemm_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best-of-``repeats`` fp32 matrix-multiply throughput in GFLOP/s."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def iteration_gflop(config, content, style) -> float:
    """FLOPs of one loss evaluation plus backward, at the config's size."""
    from torch.utils.flop_counter import FlopCounterMode

    import nst
    from nst.optimise.objective import Objective

    extractor = nst.build_extractor(config)
    size = config.resolve_size("cpu")
    c, s = nst.load_image(content, size), nst.load_image(style, size)
    objective = Objective(extractor, config, c, [s])
    image = c.clone().requires_grad_(True)
    with FlopCounterMode(display=False) as counter:
        objective(image)[0].backward()
    return counter.get_total_flops() / 1e9


def measure_one(size: int, iterations: int, content: str, style: str) -> dict:
    """Run in a child process: time `iterations` iterations after one warm-up, report peak RSS."""
    import nst

    config = nst.StyleConfig(size=size, iterations=iterations + 1, tolerance=0)
    stamps: list[float] = []
    nst.transfer_style(content, style, config, callback=lambda p: stamps.append(time.perf_counter()))
    per_iteration = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"size": size, "seconds_per_iteration": per_iteration, "peak_mb": peak_mb,
            "gflop": iteration_gflop(config, content, style)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512])
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--content", default=str(IMAGES / "tubingen.jpg"))
    parser.add_argument("--style", default=str(IMAGES / "starry_night.jpg"))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_one(args.child, args.iterations, args.content, args.style)))
        return 0
    if not Path(args.content).is_file() or not Path(args.style).is_file():
        print(f"skipped: test images not found ({args.content}, {args.style})")
        return 0
    import torch

    gflops = sgemm_gflops()
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}; SGEMM {gflops:.0f} GFLOP/s")  # fmt: skip
    print(f"{'size':>6} {'s/iter':>8} {'GFLOP/iter':>11} {'floor s/iter':>13} {'x floor':>8} {'peak MB':>8}")
    for size in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(size), "--iterations", str(args.iterations),
             "--content", args.content, "--style", args.style],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        row = json.loads(out.stdout.strip().splitlines()[-1])
        floor = row["gflop"] / gflops
        print(f"{size:>6} {row['seconds_per_iteration']:>8.3f} {row['gflop']:>11.1f} {floor:>13.3f} "
              f"{row['seconds_per_iteration'] / floor:>8.2f} {row['peak_mb']:>8.0f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
