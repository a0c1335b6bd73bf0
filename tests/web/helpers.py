"""Helpers for the web tests: tiny pictures, tiny style models, a tiny any-painting decoder, and
a real `nst serve` in a subprocess on loopback."""

from __future__ import annotations

import io
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw


def picture_bytes(width: int = 64, height: int = 48, *, seed: int = 0, fmt: str = "PNG") -> bytes:
    """A small picture with structure (gradient, stripes, a disc): something to stylize."""
    image = Image.new("RGB", (width, height))
    pixels = image.load()
    for y in range(height):
        for x in range(width):
            pixels[x, y] = ((x * 255) // width, (y * 255) // height, ((x + y + seed * 37) * 7) % 256)
    draw = ImageDraw.Draw(image)
    for i in range(0, width, 8):
        draw.line([(i + seed, 0), (i + seed - height // 2, height)], fill=(250, 220 - 10 * seed, 40), width=2)
    r = min(width, height) // 4
    draw.ellipse(
        [width // 2 - r, height // 2 - r, width // 2 + r, height // 2 + r], fill=(30, 40, 160 + seed)
    )
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def blank_png(width: int, height: int) -> bytes:
    """A valid black 1-bit PNG of any size, written row by row: a 20000x20000 one is 49 KB and
    takes a fraction of a second (Pillow would need the whole picture in memory first)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte, then the row's bits
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def make_style_models(folder: Path, paintings: dict[str, str]) -> Path:
    """Tiny untrained style models (``NAME.pt`` and ``NAME.onnx``) in ``folder``, one per name,
    each with a card naming its painting: what a server takes for its bundled models when
    `nst.models.registry.bundled_dir` points there. They paint in milliseconds."""
    import torch

    from nst.models.card import ModelCard
    from nst.models.export import export_onnx
    from nst.models.network import TransformerNet
    from nst.models.store import save_model
    from nst.models.torch_model import StyleModel

    folder.mkdir(parents=True, exist_ok=True)
    for seed, (name, painting) in enumerate(paintings.items()):
        torch.manual_seed(seed)
        card = ModelCard(name, painting, "x.png", "0" * 16, 300, "f" * 16, 1, 1.0, "cpu", {})
        torch_path = folder / f"{name}.pt"
        save_model(TransformerNet(width=4, residual_blocks=1), card, torch_path)
        export_onnx(StyleModel.load(torch_path), folder / f"{name}.onnx")
    return folder


def make_decoder(path: Path) -> Path:
    """A tiny untrained any-painting decoder file: what a server takes for its bundled decoder
    when `nst.universal.paint.bundled_decoder_path` points there. It paints noise, quickly."""
    import torch

    from nst.universal.network import Decoder
    from nst.universal.store import DecoderCard, save_decoder

    torch.manual_seed(0)
    card = DecoderCard(width=4, photos=0, photos_fingerprint="", steps=0, seconds=0.0, device="cpu")
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_decoder(Decoder(width=4), card, path)


# `python -c` this, with a models folder and a decoder file ("" for the installation's own) as
# the first two arguments and `nst`'s arguments after them: the CLI with those as its bundled
# models and decoder (tests cannot monkeypatch another process).
_WITH_BUNDLED = (
    "import sys; from pathlib import Path; import nst.models.registry as registry; "
    "import nst.universal.paint as universal; "
    "models, decoder = sys.argv.pop(1), sys.argv.pop(1); "
    "registry.bundled_dir = (lambda: Path(models)) if models else registry.bundled_dir; "
    "universal.bundled_decoder_path = (lambda: Path(decoder)) if decoder else universal.bundled_decoder_path; "
    "universal.bundled_onnx_paths = (lambda: (Path(decoder + '.onnx'),) * 2) if decoder else universal.bundled_onnx_paths; "
    "from nst.cli import main; sys.exit(main(sys.argv[1:]))"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to tidy up (a crash or a power cut of the process)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@contextmanager
def running_server(
    data_dir: Path,
    *,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout: float = 90.0,
    models_dir: Path | None = None,
    decoder: Path | None = None,
) -> Iterator[Server]:
    """`python -m nst.cli serve` on a free loopback port, until the block ends; with
    ``models_dir``, the models there are the server's bundled ones, and with ``decoder``, that
    file is its any-painting decoder."""
    import httpx2

    port = free_port()
    log = data_dir.parent / f"server-{port}.log"
    program = ["-m", "nst.cli"]
    if models_dir is not None or decoder is not None:
        program = ["-c", _WITH_BUNDLED, str(models_dir or ""), str(decoder or "")]
    command = [
        sys.executable, *program, "serve", "--host", "127.0.0.1", "--port", str(port),
        "--data-dir", str(data_dir), "--device", "cpu", *args,
    ]  # fmt: skip
    environment = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, env=environment, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx2.get(server.url + "/", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start in {timeout} s:\n{log.read_text()}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def wait_for_job(client, job_id: str, statuses: set[str], timeout: float = 120.0) -> dict:
    """Poll GET /api/jobs/{id} until its status is one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")
        time.sleep(0.05)
