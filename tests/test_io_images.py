import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from vae_apps.io.data import load_data
from vae_apps.io.images import list_images, read_image, write_image


def _save(path, mode, size=(12, 10), rng=np.random.default_rng(0)):
    w, h = size
    if mode == "I;16":
        img = Image.fromarray(rng.integers(0, 65536, (h, w), dtype="uint16"))
    elif mode in ("L", "RGB", "RGBA", "LA", "CMYK"):
        bands = len(mode)
        img = Image.fromarray(rng.integers(0, 256, (h, w, bands), dtype="uint8").squeeze(), mode=None)
        img = img.convert(mode) if img.mode != mode else img
    elif mode == "P":
        img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype="uint8")).quantize(16)
    else:
        img = Image.new(mode, size)
    img.save(path)
    return path


@pytest.mark.parametrize("mode, ext, channels", [
    ("L", ".png", 1), ("RGB", ".png", 3), ("RGBA", ".png", 3), ("LA", ".png", 1),
    ("P", ".png", 3), ("CMYK", ".jpg", 3), ("I;16", ".png", 1), ("1", ".bmp", 1), ("RGB", ".webp", 3),
    ("RGB", ".tiff", 3), ("L", ".gif", 3),  # GIF stores a palette
])
def test_round_trip_keeps_size_mode_and_format(tmp_path, mode, ext, channels):
    src = _save(tmp_path / f"in{ext}", mode)
    pixels, info = read_image(src)
    assert pixels.shape == (10, 12, channels) and pixels.dtype == np.float32
    assert 0.0 <= pixels.min() and pixels.max() <= 1.0
    write_image(tmp_path / f"out{ext}", pixels, like=info)
    with Image.open(src) as a, Image.open(tmp_path / f"out{ext}") as b:
        assert (b.size, b.format) == (a.size, a.format)
        assert b.mode == a.mode or (a.mode, b.mode) == ("P", "P")


def test_sixteen_bit_is_scaled_not_clipped(tmp_path):
    Image.fromarray(np.full((4, 4), 30000, dtype="uint16")).save(tmp_path / "a.png")
    pixels, _ = read_image(tmp_path / "a.png")
    assert pixels.max() == pytest.approx(30000 / 65535, abs=1e-4)


def test_alpha_is_composited_on_white_and_written_back(tmp_path):
    rgba = np.zeros((4, 4, 4), "uint8")
    rgba[..., 3] = 0  # fully transparent black
    rgba[0, 0] = [0, 0, 0, 255]
    Image.fromarray(rgba).save(tmp_path / "a.png")
    pixels, info = read_image(tmp_path / "a.png")
    assert pixels[1, 1].tolist() == [1.0, 1.0, 1.0] and pixels[0, 0].tolist() == [0.0, 0.0, 0.0]
    write_image(tmp_path / "b.png", pixels, like=info)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "b.png"))[..., 3], rgba[..., 3])


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (20, 10), "white")
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    img.save(tmp_path / "r.jpg", exif=exif)
    pixels, info = read_image(tmp_path / "r.jpg")
    assert pixels.shape[:2] == (20, 10) and info.size == (10, 20)


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    import vae_apps.io.images as images

    Image.new("L", (100, 100)).save(tmp_path / "big.png")
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(Exception) as err:
        read_image(tmp_path / "big.png")
    from vae_apps.io.images import describe_image_error

    assert "too large" in describe_image_error(err.value)


def test_walk_skips_hidden_files_and_survives_link_loops(tmp_path):
    (tmp_path / "sub").mkdir()
    _save(tmp_path / "sub" / "a b é.png", "L")
    _save(tmp_path / ".hidden.png", "L")
    (tmp_path / ".git").mkdir()
    _save(tmp_path / ".git" / "x.png", "L")
    (tmp_path / "notes.txt").write_text("x")
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    images, others = list_images(tmp_path)
    assert [p.name for p in images] == ["a b é.png"] and [p.name for p in others] == ["notes.txt"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blobs=st.lists(st.binary(max_size=300), min_size=1, max_size=6), cut=st.integers(0, 200))
def test_random_and_truncated_bytes_never_crash_the_folder_reader(tmp_path_factory, blobs, cut):
    root = tmp_path_factory.mktemp("fuzz")
    _save(root / "good.png", "L", size=(5, 5))
    good = (root / "good.png").read_bytes()
    (root / "truncated.png").write_bytes(good[:cut])
    for i, blob in enumerate(blobs):
        (root / f"random{i}.png").write_bytes(blob)
    data = load_data(root)
    names = set(data.train.names) | {name for name, _ in data.train.skipped}
    assert names == {p.name for p in root.iterdir()}  # every file accounted for
    assert "good.png" in data.train.names
