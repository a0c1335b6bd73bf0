import pytest
import torch
import torch.nn.functional as F

from nst.errors import InputError
from nst.vgg.features import FEATURE_RMS, LAYER_NAMES, VGG19Features, check_layer_names, reference_image


def test_layer_names_follow_the_paper():
    convs = [n for n in LAYER_NAMES if n.startswith("conv")]
    pools = [n for n in LAYER_NAMES if n.startswith("pool")]
    assert len(convs) == 16 and len(pools) == 5
    assert LAYER_NAMES[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1")
    assert "conv4_2" in LAYER_NAMES and "relu5_4" in LAYER_NAMES and LAYER_NAMES[-1] == "pool5"


def test_unknown_layer_suggests_the_closest():
    with pytest.raises(InputError, match="did you mean conv4_2"):
        check_layer_names(["conv4_22"])


def test_returns_only_requested_layers_and_truncates(random_weights, gradient_image):
    net = VGG19Features(random_weights, ["conv2_1", "relu1_1"], calibrate=False)
    assert net.names[-1] == "conv2_1"  # nothing computed past the deepest layer
    out = net(gradient_image)
    assert set(out) == {"conv2_1", "relu1_1"}
    assert out["relu1_1"].shape == (1, 64, 40, 48)
    assert out["conv2_1"].shape == (1, 128, 20, 24)
    assert (out["relu1_1"] >= 0).all()
    assert all(not p.requires_grad for p in net.parameters())


def test_first_layer_matches_a_hand_written_convolution(random_weights, gradient_image):
    net = VGG19Features(random_weights, ["conv1_1"], calibrate=False)
    weight, bias = random_weights.convs["conv1_1"]
    expected = F.conv2d(random_weights.preprocessing.apply(gradient_image), weight, bias, padding=1)
    assert torch.allclose(net(gradient_image)["conv1_1"], expected, atol=1e-5)


def test_avg_and_max_pooling_differ(random_weights, gradient_image):
    avg = VGG19Features(random_weights, ["pool1"], pooling="avg", calibrate=False)(gradient_image)["pool1"]
    mx = VGG19Features(random_weights, ["pool1"], pooling="max", calibrate=False)(gradient_image)["pool1"]
    assert avg.shape == mx.shape == (1, 64, 20, 24)
    assert (mx >= avg - 1e-6).all() and not torch.allclose(mx, avg)


def test_calibration_sets_reference_rms(random_weights):
    net = VGG19Features(random_weights, ["conv1_1", "conv3_1", "relu5_1"])
    out = net(reference_image())
    for name, value in out.items():
        assert value.pow(2).mean().sqrt().item() == pytest.approx(FEATURE_RMS, rel=1e-4), name


def test_gradients_flow_to_the_image(random_weights, gradient_image):
    net = VGG19Features(random_weights, ["conv3_1"])
    image = gradient_image.clone().requires_grad_(True)
    net(image)["conv3_1"].pow(2).sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0


def test_rejects_wrong_shapes(random_weights):
    net = VGG19Features(random_weights, ["conv1_1"])
    with pytest.raises(InputError):
        net(torch.rand(1, 4, 8, 8))
