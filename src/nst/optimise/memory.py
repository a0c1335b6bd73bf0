"""How much memory a run needs, how much there is, and the largest size that fits.

The estimate is a model of what the loop keeps alive at its peak (the backward pass at the
largest scale), calibrated against measured peaks on the CPU (docs/robustness.md, "Memory"):

* the VGG-19 weights: every conv layer as loaded, plus the truncated trunk copied from them;
* activations: per output pixel, what autograd saves for the backward pass (every ReLU and pooling
  output and every requested conv output, in float32) plus the full-resolution gradients that are
  alive at once during the backward pass through block 1;
* the optimiser: L-BFGS keeps `LBFGS_HISTORY` pairs of image-sized vectors, Adam two moments;
* a few image-sized tensors (start, best, last evaluated) and a fixed allowance for the runtime.

It errs on the large side by a margin (`SAFETY`) so that a run it accepts does not die later.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from nst.errors import ResourceError
from nst.optimise.config import StyleConfig
from nst.optimise.fixed import LBFGS_HISTORY

_BLOCK_CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
_FLOAT = 4
#: Measured overshoot of the allocator (freed blocks kept by malloc, oneDNN scratch) over the model.
SAFETY = 1.15
#: L-BFGS allocates two new image-sized vectors per iteration and frees old ones; glibc's heap
#: fragments under that pattern, measured at ~1.7x the vectors' own size on the CPU.
OPTIMIZER_FRAGMENTATION = {"cpu": 1.75, "cuda": 1.1, "mps": 1.1}
#: The runtime's own working memory (thread pools, oneDNN or cuDNN workspaces): measured ~70 MB on
#: the CPU; cuDNN may ask for more.
RUNTIME_BYTES = {"cpu": 96 * 2**20, "cuda": 512 * 2**20, "mps": 256 * 2**20}
#: Longest sides tried by `largest_size_that_fits` (StyleConfig accepts 16 to 16384).
_SIZE_RANGE = (16, 16384)


def _geometry(layer: str) -> tuple[int, int]:
    """(channels, area divisor relative to the input) of a VGG-19 layer's output."""
    block = int(layer[4])  # conv3_1, relu3_1 and pool3 all carry their block at index 4
    divisor = 4**block if layer.startswith("pool") else 4 ** (block - 1)
    return _BLOCK_CHANNELS[block], divisor


def _trunk(config: StyleConfig) -> tuple[str, ...]:
    from nst.vgg.features import LAYER_NAMES, deepest

    layers = config.feature_layers
    return LAYER_NAMES[: LAYER_NAMES.index(deepest(layers)) + 1]


def min_side(config: StyleConfig) -> int:
    """Shortest image side for which the deepest requested layer still has one position.

    Every pooling before that layer halves the image (rounding down): conv5_1 comes after four,
    so it needs 16 px; pool5 comes after five and needs 32.
    """
    trunk = _trunk(config)
    return 2 ** sum(1 for name in trunk if name.startswith("pool"))


def activation_floats_per_pixel(config: StyleConfig) -> float:
    """Float32 values alive at the backward pass's peak, per pixel of the image being optimised."""
    requested = set(config.feature_layers)
    saved = 6.0  # the image and its preprocessed copy
    for name in _trunk(config):
        channels, divisor = _geometry(name)
        # Autograd keeps every ReLU output (for its own backward and the next conv's) and every
        # pooling output; a conv output survives only when it is a requested feature map.
        if name.startswith(("relu", "pool")) or name in requested:
            saved += channels / divisor
    # During the backward pass through block 1 about four full-resolution 64-channel gradients
    # are alive at once (measured; it is what makes the peak).
    return saved + 4 * _BLOCK_CHANNELS[1]


def weights_bytes(config: StyleConfig) -> int:
    """All 16 conv layers as loaded, plus the truncated trunk built from them (float32)."""
    in_channels, every, trunk = 3, 0, 0
    names = set(_trunk(config))
    for block, convs in zip(range(1, 6), (2, 2, 4, 4, 4), strict=True):
        out_channels = _BLOCK_CHANNELS[block]
        for conv in range(1, convs + 1):
            params = out_channels * in_channels * 9 + out_channels
            every += params
            if f"conv{block}_{conv}" in names:
                trunk += params
            in_channels = out_channels
    return (every + trunk) * _FLOAT


def _pixels(size: tuple[int, int], longest: int) -> int:
    width, height = size
    factor = longest / max(width, height)
    return max(1, round(width * factor)) * max(1, round(height * factor))


def estimate_memory(
    config: StyleConfig,
    image_size: int | tuple[int, int],
    device: str = "cpu",
    *,
    styles: int = 1,
    include_weights: bool = True,
) -> int:
    """Peak bytes a run of ``config`` needs beyond what the process already holds.

    Args:
        config: the run's settings (size, layers, optimiser, scales, style size).
        image_size: the content image's (width, height) in pixels, whose aspect ratio the output
            keeps; or one number, taken as a square of that side (an upper bound for any aspect).
            The output's longest side is ``config.size`` (or ``image_size``'s when size is None
            and ``image_size`` is a number).
        device: "cpu", "cuda" or "mps" (a device string such as "cuda:1" also works).
        styles: how many style images (each has its own forward pass, one at a time).
        include_weights: False when the network is already built (`build_extractor`).
    """
    kind = str(device).split(":", 1)[0]
    if kind not in RUNTIME_BYTES:
        kind = "cpu"
    aspect = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if isinstance(image_size, int) and config.size is None:
        config = config.with_changes(size=image_size)
    final = config.resolve_size(kind)
    per_pixel = activation_floats_per_pixel(config) * _FLOAT
    optimizer_vectors = (2 * LBFGS_HISTORY + 6) if config.optimizer == "lbfgs" else 4
    peak = 0.0
    for longest, _ in config.scale_plan(final):
        pixels = _pixels(aspect, longest)  # type: ignore[arg-type]
        style_pixels = _pixels(aspect, config.style_longest_side(longest, final))
        tile = config.tile_for(longest)
        # A tiled level holds whole-level images, but the network and optimiser see one tile
        # (and a style tile with its context margin) at a time.
        seen = min(pixels, tile * tile) if tile else pixels
        style_seen = min(style_pixels, (tile + 256) ** 2) if tile else style_pixels
        activations = SAFETY * per_pixel * seen
        optimizer = OPTIMIZER_FRAGMENTATION[kind] * optimizer_vectors * 3 * seen * _FLOAT
        images = 8 * 3 * pixels * _FLOAT  # content, start, best, last evaluated, gradients, copies
        # Each style image goes through the network without gradients: two layers alive at once.
        style_pass = SAFETY * 2 * _BLOCK_CHANNELS[1] * style_seen * _FLOAT
        targets = styles * 3 * style_pixels * _FLOAT
        peak = max(peak, max(activations, style_pass) + optimizer + images + targets)
    if not include_weights:
        return int(math.ceil(RUNTIME_BYTES[kind] + peak))
    # Loading briefly holds the file's contents beside the decoded weights; the run's peak comes
    # later, with the decoded weights and the trunk alive.
    loading = 2 * weights_bytes(config)
    return int(math.ceil(RUNTIME_BYTES[kind] + max(loading, weights_bytes(config) + peak)))


def available_memory(device: str = "cpu") -> int | None:
    """Bytes this process could still allocate on ``device``, or None when it cannot be told.

    The CPU: the smaller of the kernel's MemAvailable and what the cgroup (container) limit
    leaves. A CUDA GPU: the driver's free memory. Apple's MPS shares the system's memory.
    """
    kind = str(device).split(":", 1)[0]
    if kind == "cuda":
        import torch

        try:
            free, _ = torch.cuda.mem_get_info(torch.device(device))
        except Exception:  # no driver, or a device index that does not exist
            return None
        return int(free)
    candidates = [value for value in (_meminfo_available(), _cgroup_headroom()) if value is not None]
    return min(candidates) if candidates else None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:  # other Unixes: free physical pages
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_headroom() -> int | None:
    """Limit minus usage of this process's memory cgroup (v2, then v1); None when unlimited."""
    pairs = (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    )
    for limit_file, usage_file in pairs:
        try:
            limit_text = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit_text == "max":
            return None
        limit = int(limit_text)
        if limit >= 2**60:  # cgroup v1's "unlimited"
            return None
        return max(0, limit - usage)
    return None


def largest_size_that_fits(
    config: StyleConfig,
    available_bytes: int,
    *,
    image_size: tuple[int, int] = (1, 1),
    device: str = "cpu",
    styles: int = 1,
    include_weights: bool = True,
) -> int | None:
    """The largest longest side (px) whose run fits in ``available_bytes``; None if none does.

    ``image_size`` gives the aspect ratio (a square by default). Found by bisection: the
    estimate grows with the size.
    """

    def fits(longest: int) -> bool:
        sized = config.with_changes(size=longest)
        need = estimate_memory(sized, image_size, device, styles=styles, include_weights=include_weights)
        return need <= available_bytes

    low, high = _SIZE_RANGE
    if not fits(low):
        return None
    if fits(high):
        return high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


def check_fits(
    config: StyleConfig,
    image_size: tuple[int, int],
    device: str = "cpu",
    *,
    styles: int = 1,
    available_bytes: int | None = None,
    headroom: float = 0.9,
) -> int:
    """Raise `ResourceError` naming the largest size that fits when the run would not fit.

    Only ``headroom`` of what is available is counted on, since other programs allocate too.
    Returns the estimate in bytes. Does nothing when the available memory cannot be told.
    """
    need = estimate_memory(config, image_size, device, styles=styles)
    available = available_memory(device) if available_bytes is None else available_bytes
    if available is None:
        return need
    usable = int(available * headroom)
    if need <= usable:
        return need
    final = config.resolve_size(str(device).split(":", 1)[0])
    largest = largest_size_that_fits(config, usable, image_size=image_size, device=device, styles=styles)
    advice = (
        f"the largest size that fits is {largest} px"
        if largest is not None
        else "not even the smallest size fits; free some memory"
    )
    raise ResourceError(
        f"a {final} px run needs about {_gib(need)} of memory but only {_gib(available)} is available "
        f"on {device}; {advice}"
    )


def _gib(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.0f} MiB"


__all__ = ["available_memory", "check_fits", "estimate_memory", "largest_size_that_fits", "min_side"]


def is_out_of_memory(exc: BaseException) -> bool:
    """True for the errors that mean 'the device ran out of memory' (they differ by backend)."""
    import torch

    if isinstance(exc, MemoryError) or isinstance(exc, getattr(torch, "OutOfMemoryError", MemoryError)):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(
        marker in text for marker in ("out of memory", "can't allocate memory", "failed to allocate")
    )
