import pytest
import torch
from PIL import Image

from nst.errors import InputError
from nst.optimise.masks import mask_regions, resize_regions


def _two_halves(left, right, size=(20, 10)):
    mask = Image.new("RGB", size, left)
    mask.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return mask


def test_colours_map_to_regions():
    regions = mask_regions(_two_halves((255, 255, 255), (255, 0, 0)), styles=2, content_size=(40, 20))
    assert regions.shape == (3, 10, 20)
    assert regions[0].sum() == 0  # nothing kept as photo
    assert regions[1, :, :10].min() == 1 and regions[2, :, 10:].min() == 1


def test_black_keeps_the_photo_and_near_colours_snap():
    regions = mask_regions(_two_halves((10, 5, 0), (240, 250, 245)), styles=1, content_size=(20, 10))
    assert regions[0, :, :10].min() == 1 and regions[1, :, 10:].min() == 1


def test_colour_without_a_style_is_refused():
    with pytest.raises(InputError, match="red map to no style"):
        mask_regions(_two_halves((255, 255, 255), (255, 0, 0)), styles=1, content_size=(20, 10))


def test_stray_colour_is_refused():
    with pytest.raises(InputError, match="far from every mask colour"):
        mask_regions(_two_halves((255, 255, 255), (128, 128, 128)), styles=1, content_size=(20, 10))


def test_wrong_aspect_ratio_is_refused():
    with pytest.raises(InputError, match="aspect ratios differ"):
        mask_regions(Image.new("RGB", (10, 10), "white"), styles=1, content_size=(20, 10))


def test_all_black_is_refused():
    with pytest.raises(InputError, match="all black"):
        mask_regions(Image.new("RGB", (20, 10)), styles=1, content_size=(20, 10))


def test_resized_regions_are_soft_and_sum_to_one():
    regions = mask_regions(_two_halves((0, 0, 0), (255, 255, 255)), styles=1, content_size=(20, 10))
    small = resize_regions(regions, 5, 7)
    assert small.shape == (2, 5, 7)
    assert torch.allclose(small.sum(0), torch.ones(5, 7))
    assert 0 < small[1, 0, 3] < 1  # the column straddling the edge is mixed


def test_black_region_keeps_the_photo_and_white_region_is_painted(tmp_path):
    import nst

    gen = torch.Generator().manual_seed(0)
    content = torch.rand(1, 3, 32, 48, generator=gen) * 0.2 + 0.4
    style = torch.zeros(1, 3, 32, 32)
    style[:, 0] = 1.0
    style[:, :, ::2] = 0.0  # red stripes
    mask_path = tmp_path / "mask.png"
    _two_halves((0, 0, 0), (255, 255, 255), size=(48, 32)).save(mask_path)
    config = nst.StyleConfig(size=48, iterations=15, tolerance=0, mask=str(mask_path))
    result = nst.transfer_style(content, style, config)
    out = result.tensor
    kept = (out[..., :, :20] - content[..., :, :20]).abs().mean()
    painted = (out[..., :, 28:] - content[..., :, 28:]).abs().mean()
    assert kept < 0.01 < painted


def test_mask_colour_without_style_is_refused_before_work(tmp_path):
    import nst

    mask_path = tmp_path / "mask.png"
    _two_halves((255, 255, 255), (0, 255, 0), size=(48, 32)).save(mask_path)
    with pytest.raises(InputError, match="green map to no style"):
        nst.transfer_style(
            torch.rand(1, 3, 32, 48), torch.rand(1, 3, 32, 32), nst.StyleConfig(size=48, mask=str(mask_path))
        )
