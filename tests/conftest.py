"""Shared fixtures: tiny images, a random-weight VGG for logic, the real weights and network once
per session; and the `system` marker for the tests that run real processes, Ray or a browser."""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import torch

import nst.optimise.transfer
import nst.vgg.weights
from nst.optimise.config import StyleConfig
from nst.vgg.features import VGG19Features
from nst.vgg.weights import CONV_LAYERS, TORCHVISION_FEATURE_INDEX, TORCHVISION_PREPROCESSING, VGGWeights

#: Files whose every test is a system test (a real server under load, a browser).
SYSTEM_FILES = ("test_load.py", "test_e2e.py")
#: A test that calls one of these starts a real process (a real `nst serve`): a system test.
SYSTEM_CALLS = ("running_server",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`system` on what needs more than this process: a local Ray, a browser, a server under load,
    a real `nst serve` (tests marked in their own files carry the marker already)."""
    for item in items:
        function = getattr(item, "function", None)
        calls = set(function.__code__.co_names) if function is not None else set()
        if (
            item.get_closest_marker("e2e") or item.get_closest_marker("ray")
            or item.path.name in SYSTEM_FILES or calls & set(SYSTEM_CALLS)
        ):  # fmt: skip
            item.add_marker(pytest.mark.system)


#: Where the tests' files go when there is room: in memory, because on a disk pytest's removal of
#: an earlier run's few thousand files costs seconds of every run.
MEMORY_TEMP = Path("/dev/shm")
MEMORY_TEMP_NEEDED = 1 << 30


def pytest_configure(config: pytest.Config) -> None:
    """A fresh folder in memory for this run's files (not in the workers: they get theirs inside
    it), unless --basetemp is given or there is no room."""
    if config.option.basetemp or hasattr(config, "workerinput") or not os.access(MEMORY_TEMP, os.W_OK):
        return
    if shutil.disk_usage(MEMORY_TEMP).free < MEMORY_TEMP_NEEDED:
        return
    config.option.basetemp = tempfile.mkdtemp(prefix="nst-pytest-", dir=MEMORY_TEMP)
    config.stash[_MEMORY_BASETEMP] = Path(config.option.basetemp)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The in-memory folder goes when every test passed or it holds no file; else it stays for a look."""
    folder = session.config.stash.get(_MEMORY_BASETEMP, None)
    if folder is not None and (exitstatus == pytest.ExitCode.OK or not any(p.is_file() for p in folder.rglob("*"))):
        shutil.rmtree(folder, ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    folder = config.stash.get(_MEMORY_BASETEMP, None)
    if folder is not None and folder.exists():
        terminalreporter.write_line(f"the tests' files are kept in {folder}")


_MEMORY_BASETEMP = pytest.StashKey[Path]()


#: The real test images, beside the repository (absent on a user's machine).
SHARED_IMAGES = Path(__file__).resolve().parents[1].parent / "shared" / "images"


def shared_image(name: str) -> Path:
    path = SHARED_IMAGES / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (real test images live in ../shared/images)")
    return path


def random_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """A VGG-19 state dict in torchvision's key layout with small random weights."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    in_ch = 3
    for layer in CONV_LAYERS:
        out_ch = {"1": 64, "2": 128, "3": 256, "4": 512, "5": 512}[layer[4]]
        index = TORCHVISION_FEATURE_INDEX[layer]
        state[f"features.{index}.weight"] = (
            torch.randn(out_ch, in_ch, 3, 3, generator=gen) * (2 / (9 * in_ch)) ** 0.5
        )
        state[f"features.{index}.bias"] = torch.zeros(out_ch)
        in_ch = out_ch
    return state


@pytest.fixture(scope="session")
def random_weights() -> VGGWeights:
    state = random_state_dict()
    convs = {
        layer: (state[f"features.{i}.weight"], state[f"features.{i}.bias"])
        for layer, i in TORCHVISION_FEATURE_INDEX.items()
    }
    return VGGWeights("random", convs, TORCHVISION_PREPROCESSING)


_load_weights = nst.vgg.weights.load_weights
_build_extractor = nst.optimise.transfer.build_extractor
#: The weights nst embeds: read once, and each network made from them built once, per session.
EMBEDDED = "vgg19-caffe"


@functools.cache
def _embedded_weights() -> VGGWeights:
    return _load_weights(EMBEDDED)


def _load_weights_once(source: str) -> VGGWeights:
    """`load_weights`, reading the embedded weights once (networks copy them, so they stay as read)."""
    return _embedded_weights() if source == EMBEDDED else _load_weights(source)


_networks: dict[tuple, VGG19Features] = {}


def _build_extractor_once(config: StyleConfig, device: torch.device | str = "cpu") -> VGG19Features:
    """`build_extractor`, building each frozen network of the embedded weights once: the same
    `StyleConfig.extractor_key` on the same device shares one, as nst's own workers share them."""
    if config.weights != EMBEDDED:
        return _build_extractor(config, device)
    key = (config.extractor_key(), str(torch.device(device)))
    if key not in _networks:
        _networks[key] = _build_extractor(config, device)
    return _networks[key]


@pytest.fixture(scope="session", autouse=True)
def _vgg_once():
    """The real VGG-19 is read and built once per session: `load_weights` and `build_extractor`
    in every nst module that imported them (and, through their home modules, in those imported
    later) read the embedded weights once and build each distinct network once. A network is
    frozen (no gradients, eval mode), so tests share it as they share the `extractor` fixture."""
    with pytest.MonkeyPatch.context() as mp:
        for name, module in list(sys.modules.items()):
            if not (name == "nst" or name.startswith("nst.")):
                continue
            if getattr(module, "load_weights", None) is _load_weights:
                mp.setattr(module, "load_weights", _load_weights_once)
            if getattr(module, "build_extractor", None) is _build_extractor:
                mp.setattr(module, "build_extractor", _build_extractor_once)
        yield


@pytest.fixture(scope="session")
def caffe_weights() -> VGGWeights:
    """The embedded VGG-19 weights, read once per session."""
    return _embedded_weights()


@pytest.fixture()
def gradient_image() -> torch.Tensor:
    """A smooth 1x3x40x48 test image with structure in every channel."""
    y = torch.linspace(0, 1, 40).view(-1, 1)
    x = torch.linspace(0, 1, 48).view(1, -1)
    return torch.stack([x.expand(40, 48), y.expand(40, 48), (x * y)]).unsqueeze(0).contiguous()


@pytest.fixture(scope="session")
def extractor():
    """The real (embedded) VGG-19 trunk for the default layers, built once per session."""
    import nst

    return nst.build_extractor(nst.StyleConfig())


@pytest.fixture()
def images() -> tuple[torch.Tensor, torch.Tensor]:
    """A tiny smooth content image (40x32) and a striped random style image (36x36)."""
    gen = torch.Generator().manual_seed(0)
    y = torch.linspace(0, 1, 32).view(-1, 1)
    x = torch.linspace(0, 1, 40).view(1, -1)
    content = torch.stack([x.expand(32, 40), y.expand(32, 40), 1 - x * y]).unsqueeze(0).contiguous()
    style = torch.rand(1, 3, 36, 36, generator=gen)
    style[:, :, ::4] = 0.9  # stripes: a texture with clear second-order statistics
    return content, style


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """The tests' pictures are tiny (32-128 px): they gain nothing from threads, and on a busy
    machine threads make them crawl (a 40 px run takes 3x as long with two threads as with one on
    two shared cores). NST_TEST_THREADS=N runs the suite with N threads instead."""
    before = torch.get_num_threads()
    torch.set_num_threads(int(os.environ.get("NST_TEST_THREADS", "1")))
    yield
    torch.set_num_threads(before)


@pytest.fixture()
def one_thread():
    """32 px images gain nothing from threads, and on a busy machine threads make them crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# Photos, a painting and a tiny style model in the test's folder (style models, training, commands).
@pytest.fixture()
def photos(tmp_path: Path) -> Path:
    from tests.models.helpers import make_photos

    return make_photos(tmp_path / "photos")


@pytest.fixture()
def style(tmp_path: Path) -> Path:
    from tests.models.helpers import make_style

    return make_style(tmp_path / "style.png")


@pytest.fixture()
def tiny_model(tmp_path: Path) -> Path:
    from tests.models.helpers import make_tiny_model

    return make_tiny_model(tmp_path / "tiny.pt")
