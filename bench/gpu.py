"""Milliseconds per iteration on a CUDA GPU: one loss evaluation under several precision settings,
and whole L-BFGS/Adam iterations through the public API.

The loss evaluation (VGG-19 forward to conv5_1 plus the gradient w.r.t. the image) is timed under
PyTorch's default (TF32 convolutions), cuDNN autotuning, strict fp32 and bf16 autocast, with the
loss each gives, so that a faster setting can be judged by what it does to the numbers too. The
iterations are timed with `nst.transfer_style` (single scale, paper weights, no early stop), the
first 10 left out as warm-up.

    python bench/gpu.py                      # 512, 1024 and 2048 px (about 1 minute on an H100)
    python bench/gpu.py --sizes 1024 --iterations 100
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"

SETTINGS = ("TF32 convolutions (default)", "cudnn.benchmark", "strict fp32", "bf16 autocast")


def evaluation_ms(
    size: int, setting: str, content: str, style: str, repeats: int = 20
) -> tuple[float, float]:
    """(milliseconds, loss) of one forward + backward of the objective at ``size`` under ``setting``."""
    import torch

    import nst
    from nst.optimise.objective import Objective

    torch.backends.cudnn.benchmark = setting == "cudnn.benchmark"
    torch.backends.cudnn.allow_tf32 = setting != "strict fp32"
    config = nst.StyleConfig(size=size, scales=1)
    extractor = nst.build_extractor(config, "cuda")
    c = nst.load_image(content, size).cuda()
    s = nst.load_image(style, size).cuda()
    objective = Objective(extractor, config, c, [s])
    image = c.clone().requires_grad_(True)

    def precision():
        if setting == "bf16 autocast":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def step() -> torch.Tensor:
        image.grad = None
        with precision():
            loss = objective(image)[0]
        loss.float().backward()
        return loss

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        loss = step()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats * 1000, float(loss.detach())


def iteration_ms(size: int, iterations: int, content: str, style: str, **changes) -> float:
    """Milliseconds per whole optimiser iteration through the public API, after 10 warm-up ones."""
    import nst

    config = nst.StyleConfig(
        size=size, scales=1, tv_weight=0.0, iterations=iterations + 10, tolerance=0, **changes
    )
    stamps: list[float] = []
    nst.transfer_style(
        content, style, config, device="cuda", callback=lambda p: stamps.append(time.perf_counter())
    )
    return (stamps[-1] - stamps[9]) / (len(stamps) - 10) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    parser.add_argument("--iterations", type=int, default=50, help="timed optimiser iterations per row")
    parser.add_argument("--content", default=str(IMAGES / "tubingen.jpg"))
    parser.add_argument("--style", default=str(IMAGES / "starry_night.jpg"))
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("skipped: no CUDA GPU here")
        return 0
    if not Path(args.content).is_file() or not Path(args.style).is_file():
        print(f"skipped: test images not found ({args.content}, {args.style})")
        return 0
    print(
        f"{torch.cuda.get_device_name()}, torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}"
    )
    print(f"{'size':>5}  {'loss evaluation (forward + gradient)':<32} {'ms':>7}  loss")
    for size in args.sizes:
        for setting in SETTINGS:
            ms, loss = evaluation_ms(size, setting, args.content, args.style)
            print(f"{size:>5}  {setting:<32} {ms:>7.1f}  {loss:.5e}", flush=True)
        torch.cuda.empty_cache()
    torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32 = False, True
    print(f"\n{'size':>5}  {'whole iteration (public API)':<32} {'ms':>7}")
    for size in args.sizes:
        for name, changes in (("L-BFGS (default)", {}), ("Adam", {"optimizer": "adam"})):
            ms = iteration_ms(size, args.iterations, args.content, args.style, **changes)
            print(f"{size:>5}  {name:<32} {ms:>7.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
