"""The any-painting networks on onnxruntime: exported, checked against torch, chosen by `load`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from nst.errors import InputError
from nst.universal.export import PARITY_TOLERANCE, export_networks, parity
from nst.universal.network import Decoder
from nst.universal.networks import OnnxNetworks
from nst.universal.paint import AnyPainting, bundled_onnx_paths
from nst.universal.store import DecoderCard, save_decoder
from nst.universal.torch_networks import TorchNetworks

CARD = DecoderCard(width=4, photos=3, photos_fingerprint="abc", steps=7, seconds=1.5, device="cpu")


@pytest.fixture(scope="module")
def exported(tmp_path_factory, random_weights):
    """A tiny random decoder and the random VGG-19, exported to ONNX."""
    folder = tmp_path_factory.mktemp("onnx")
    torch.manual_seed(0)
    decoder = save_decoder(Decoder(width=4), CARD, folder / "decoder.pt")
    worst = export_networks(decoder, folder, weights=random_weights)
    return folder, worst


def test_the_exported_networks_paint_what_torch_paints(exported, random_weights):
    folder, worst = exported
    assert worst is not None and worst <= PARITY_TOLERANCE
    onnx_networks = OnnxNetworks(folder / "encoder.onnx", folder / "decoder.onnx")
    assert onnx_networks.card == CARD
    torch_networks = TorchNetworks.load(folder / "decoder.pt")
    torch_networks.encoder = TorchNetworks(Decoder(width=4), CARD, weights=random_weights).encoder
    assert parity(torch_networks, onnx_networks) <= PARITY_TOLERANCE
    # Another size than the export's example: the graphs take any height and width.
    features = onnx_networks.encode(np.random.default_rng(0).random((1, 3, 48, 72), dtype=np.float32))
    assert features.shape == (1, 512, 6, 9)
    assert onnx_networks.decode(features, np.zeros((1, 3, 48, 72), np.float32), 0.5).shape == (1, 3, 48, 72)


def test_a_foreign_or_missing_network_file_is_one_line(exported, tmp_path):
    folder, _ = exported
    (tmp_path / "x.onnx").write_bytes(b"not onnx")
    with pytest.raises(InputError, match="not a usable ONNX network"):
        OnnxNetworks(folder / "encoder.onnx", tmp_path / "x.onnx")
    with pytest.raises(InputError, match="does not exist"):
        OnnxNetworks(tmp_path / "missing.onnx", folder / "decoder.onnx")
    with pytest.raises(InputError, match="not an nst decoder"):
        OnnxNetworks(folder / "encoder.onnx", folder / "encoder.onnx")  # no card in its metadata


def test_load_chooses_the_runtime_and_refuses_what_cannot_run(exported):
    folder, _ = exported
    with pytest.raises(InputError, match="backend must be one of"):
        AnyPainting.load(backend="tensorflow")
    with pytest.raises(InputError, match="is a torch file"):
        AnyPainting.load(folder / "decoder.pt", backend="onnx")
    with pytest.raises(InputError, match="CPU only"):
        AnyPainting.load(folder / "decoder.onnx", device="cuda")
    assert isinstance(AnyPainting.load(folder / "decoder.onnx").networks, OnnxNetworks)


@pytest.mark.slow
def test_the_bundled_onnx_networks_are_the_bundled_decoder():
    # A retrained decoder.pt shipped without its export would paint differently on a CPU.
    onnx_networks = OnnxNetworks(*bundled_onnx_paths())
    torch_networks = AnyPainting.load(backend="torch").networks  # the bundled decoder.pt, on torch
    assert isinstance(torch_networks, TorchNetworks)
    assert onnx_networks.card.to_dict() == json.loads(json.dumps(torch_networks.card.to_dict()))
    assert parity(torch_networks, onnx_networks) <= PARITY_TOLERANCE
    assert isinstance(AnyPainting.load().networks, OnnxNetworks)  # what a CPU paints with


@pytest.mark.system
def test_instant_on_a_cpu_does_not_import_torch(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("p.png", "s.png"):
        Image.fromarray(rng.integers(0, 255, (40, 56, 3), dtype=np.uint8)).save(tmp_path / name)
    code = (
        "import sys; from nst.cli import main; "
        f"rc = main(['stylize', {str(tmp_path / 'p.png')!r}, {str(tmp_path / 's.png')!r}, '--instant', "
        f"'-o', {str(tmp_path / 'o.png')!r}, '--quiet']); "
        "assert rc == 0, rc; assert 'torch' not in sys.modules, 'torch was imported'"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert Image.open(tmp_path / "o.png").size == (56, 40)
