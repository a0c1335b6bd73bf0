import io
import os

import pytest
import torch
from PIL import Image

from nst.errors import InputError
from nst.image import load_image, load_pil, read_metadata, save_image, scaled_size, tensor_to_pil

from .icc import swapped_primaries_profile


def _save(image: Image.Image, path, **options):
    image.save(path, **options)
    return path


def _pixel(path) -> tuple[int, int, int]:
    return load_pil(path).getpixel((0, 0))


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: Image.new("L", (8, 6), 128), (128, 128, 128)),
        (lambda: Image.new("LA", (8, 6), (0, 0)), (255, 255, 255)),  # transparent black -> white
        (lambda: Image.new("RGBA", (8, 6), (255, 0, 0, 255)), (255, 0, 0)),
        (lambda: Image.new("RGBA", (8, 6), (0, 0, 0, 0)), (255, 255, 255)),
        (lambda: Image.new("CMYK", (8, 6), (0, 255, 255, 0)), (255, 0, 0)),
        (lambda: Image.new("P", (8, 6), 0), (0, 0, 0)),
        (lambda: Image.new("1", (8, 6), 1), (255, 255, 255)),
    ],
    ids=["L", "LA", "RGBA", "RGBA-transparent", "CMYK", "P", "1"],
)
def test_modes_become_rgb(tmp_path, make, expected):
    fmt = "JPEG" if make().mode == "CMYK" else "PNG"
    path = _save(make(), tmp_path / f"x.{fmt.lower()}", format=fmt)
    pixel = _pixel(path)
    assert all(abs(a - b) <= 3 for a, b in zip(pixel, expected, strict=True)), pixel


def test_palette_with_transparency_composites_on_white(tmp_path):
    image = Image.new("P", (4, 4), 1)
    image.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    path = _save(image, tmp_path / "p.png", transparency=1)
    assert _pixel(path) == (255, 255, 255)


def test_16_bit_grayscale_is_scaled_not_clipped(tmp_path):
    image = Image.new("I;16", (4, 4), 32768)
    path = _save(image, tmp_path / "deep.png")
    assert abs(_pixel(path)[0] - 128) <= 1


def test_animated_gif_uses_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    r, g, b = _pixel(path)
    assert r > 200 and b < 50


@pytest.mark.parametrize("suffix, fmt", [(".webp", "WEBP"), (".tif", "TIFF"), (".bmp", "BMP")])
def test_other_formats_read(tmp_path, suffix, fmt):
    path = _save(
        Image.new("RGB", (8, 8), (10, 200, 30)),
        tmp_path / f"x{suffix}",
        format=fmt,
        **({"lossless": True} if fmt == "WEBP" else {}),
    )
    assert _pixel(path) == (10, 200, 30)


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (20, 10), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 10, 10))  # white left half
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    path = _save(image, tmp_path / "rot.jpg", exif=exif.tobytes(), quality=95)
    loaded = load_pil(path)
    assert loaded.size == (10, 20)
    assert loaded.getpixel((5, 2))[0] > 200 and loaded.getpixel((5, 17))[0] < 50  # white now on top


def test_embedded_icc_profile_is_honoured(tmp_path):
    image = Image.new("RGB", (4, 4), (255, 0, 0))
    path = _save(image, tmp_path / "tagged.png", icc_profile=swapped_primaries_profile())
    r, g, b = _pixel(path)
    assert b > 200 and r < 60, (r, g, b)


def test_unusable_icc_profile_falls_back(tmp_path):
    path = _save(Image.new("RGB", (4, 4), (255, 0, 0)), tmp_path / "bad-icc.png", icc_profile=b"garbage")
    assert _pixel(path) == (255, 0, 0)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"hello, I am text", "not a raster image"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>', "not a raster image"),
    ],
)
def test_broken_files_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_image(path)


def test_truncated_file_is_refused(tmp_path):
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(buffer, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(InputError, match="truncated|unreadable"):
        load_image(path)


def test_decompression_bomb_is_refused(tmp_path):
    # A 1-bit 20000x20000 PNG is tiny on disk but 400 Mpx once decoded.
    path = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000)).save(path)
    assert os.path.getsize(path) < 200_000
    with pytest.raises(InputError, match="too large"):
        load_image(path)


def test_missing_and_directory(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(InputError, match="directory"):
        load_image(tmp_path)


def test_resize_keeps_aspect_and_longest_side(tmp_path):
    path = _save(Image.new("RGB", (200, 100)), tmp_path / "w.png")
    assert load_image(path, 64).shape == (1, 3, 32, 64)
    assert scaled_size(100, 300, 30) == (10, 30)


def test_tensor_round_trip_is_exact():
    torch.manual_seed(0)
    t = (torch.rand(1, 3, 5, 7) * 255).round() / 255
    assert torch.equal(load_image(tensor_to_pil(t)), t)


def test_tensor_input_is_not_modified():
    t = torch.rand(3, 10, 20) * 2 - 0.5
    before = t.clone()
    out = load_image(t, 10)
    assert torch.equal(t, before) and out.shape == (1, 3, 5, 10) and out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif"])
def test_save_formats_and_metadata_round_trip(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    meta = {"settings": {"style_weight": 1e4}, "seed": 3, "version": "0.1.0"}
    save_image(torch.rand(1, 3, 8, 8), path, meta)
    assert Image.open(path).size == (8, 8)
    if suffix in (".png", ".jpg"):
        assert read_metadata(path) == meta
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_save_refuses_unknown_extension_and_missing_folder(tmp_path):
    with pytest.raises(InputError, match="unsupported extension"):
        save_image(torch.rand(1, 3, 4, 4), tmp_path / "out.gif2")
    with pytest.raises(InputError, match="does not exist"):
        save_image(torch.rand(1, 3, 4, 4), tmp_path / "missing" / "out.png")


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "keep.png"
    save_image(torch.zeros(1, 3, 4, 4), path)
    before = path.read_bytes()

    def explode(self, *args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Image.Image, "save", explode)
    with pytest.raises(RuntimeError):
        save_image(torch.ones(1, 3, 4, 4), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]
