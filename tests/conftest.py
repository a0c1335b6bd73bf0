"""Shared fixtures: tiny images, a random-weight VGG for logic, the real weights once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nst.vgg.weights import CONV_LAYERS, TORCHVISION_FEATURE_INDEX, TORCHVISION_PREPROCESSING, VGGWeights

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


@pytest.fixture(scope="session")
def caffe_weights():
    from nst.vgg.weights import load_weights

    return load_weights("vgg19-caffe")


@pytest.fixture()
def gradient_image() -> torch.Tensor:
    """A smooth 1x3x40x48 test image with structure in every channel."""
    y = torch.linspace(0, 1, 40).view(-1, 1)
    x = torch.linspace(0, 1, 48).view(1, -1)
    return torch.stack([x.expand(40, 48), y.expand(40, 48), (x * y)]).unsqueeze(0).contiguous()


@pytest.fixture(scope="module")
def extractor():
    """The real (embedded) VGG-19 trunk for the default layers, built once per test module."""
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


@pytest.fixture()
def one_thread():
    """32 px images gain nothing from threads, and on a busy machine threads make them crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
