import numpy as np
import pytest
from PIL import Image

from vae_apps.io.data import load_data, to_unit_images
from vae_apps.training.datasets import make_dataset
from vae_apps.errors import UserError
from vae_apps.denoising.noise import parse_noise


def test_digits_shapes_ranges_and_labels(digits):
    assert digits.train.x.shape == (1442, 8, 8, 1) and digits.test.x.shape == (355, 8, 8, 1)
    assert digits.train.x.dtype == np.float32
    assert digits.train.x.min() == 0.0 and digits.train.x.max() == 1.0
    assert set(digits.train.y) == set(digits.test.y) == set(range(10))
    # the fixed split is stratified: every class is about 20 % test
    counts = np.bincount(digits.test.y) / (np.bincount(digits.test.y) + np.bincount(digits.train.y))
    assert np.all(np.abs(counts - 0.2) < 0.02)


def test_npz_in_keras_layout(tmp_path, rng):
    path = tmp_path / "d.npz"
    np.savez(path, x_train=rng.integers(0, 256, (20, 6, 5), dtype="uint8"),
             y_train=rng.integers(0, 3, 20), x_test=rng.integers(0, 256, (4, 6, 5), dtype="uint8"),
             y_test=rng.integers(0, 3, 4))
    data = load_data(path)
    assert data.train.x.shape == (20, 6, 5, 1) and data.test.x.shape == (4, 6, 5, 1)
    assert 0 <= data.train.x.min() and data.train.x.max() <= 1 and data.train.x.max() > 0.9
    assert data.train.y.shape == (20,) and data.all().names[-1] == "23"


def test_npz_with_x_only_float_colour(tmp_path, rng):
    path = tmp_path / "d.npz"
    np.savez(path, x=rng.random((7, 4, 4, 3)).astype("float32"))
    data = load_data(path)
    assert data.train.x.shape == (7, 4, 4, 3) and data.train.y is None and data.test is None


def test_npy_in_0_255_floats_is_scaled(tmp_path):
    path = tmp_path / "d.npy"
    np.save(path, np.full((2, 3, 3), 255.0))
    assert load_data(path).train.x.max() == 1.0


def test_image_folder_with_class_subfolders(tmp_path, rng):
    for label in ("cat", "dog"):
        (tmp_path / label).mkdir()
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (10, 12, 3), dtype="uint8")).save(
                tmp_path / label / f"{i}.png")
    data = load_data(tmp_path)
    assert data.train.x.shape == (6, 10, 12, 3)
    assert data.train.class_names == ["cat", "dog"]
    assert list(data.train.y) == [0, 0, 0, 1, 1, 1]
    assert data.train.names[3] == "dog/0.png"
    resized = load_data(tmp_path, image_size=(8, 8), channels=1)
    assert resized.train.x.shape == (6, 8, 8, 1)


@pytest.mark.parametrize("array, message", [
    (np.array([[1, 2]], dtype=object), "Python objects|dtype"),
    (np.zeros((2, 3, 3, 2)), "shape"),
    (np.zeros((4,)), "shape"),
    (np.full((2, 3, 3), np.nan), "NaN"),
    (np.full((2, 3, 3), -1.0), "negative"),
    (np.full((2, 3, 3), 300.0), "300"),
    (np.array([["a"]]), "dtype"),
])
def test_bad_arrays_get_a_clear_error(tmp_path, array, message):
    path = tmp_path / "bad.npz"
    np.savez(path, x=array)
    with pytest.raises(UserError, match=message):
        load_data(path)


def test_npz_missing_keys_and_missing_files(tmp_path):
    np.savez(tmp_path / "a.npz", images=np.zeros((2, 3, 3)))
    with pytest.raises(UserError, match="needs the keys"):
        load_data(tmp_path / "a.npz")
    with pytest.raises(UserError, match="no such file"):
        load_data(tmp_path / "missing.npz")


def test_offline_keras_dataset_says_what_to_do_instead(monkeypatch):
    import keras

    def fail():
        raise OSError("no network")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", fail)
    with pytest.raises(UserError, match="offline, pass a local .npz"):
        load_data("fashion_mnist")


def test_uint16_arrays_are_scaled_not_clipped():
    x = to_unit_images(np.full((1, 2, 2), 32768, dtype="uint16"))
    assert x.max() == pytest.approx(0.5, abs=1e-3)


def test_pipeline_is_reproducible_and_fresh_each_epoch(digits):
    def first_batches(ds, epochs=2):
        it = []
        for _ in range(epochs):
            it.append(next(iter(ds))[0].numpy())
        return it

    noise = parse_noise("gaussian:0.3")
    a = first_batches(make_dataset(digits.train.x, 32, seed=1, noise=noise, binarize=True))
    b = first_batches(make_dataset(digits.train.x, 32, seed=1, noise=noise, binarize=True))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])  # new noise and order every epoch


def test_pipeline_yields_noisy_inputs_and_binarised_clean_targets(digits):
    noisy, clean = next(iter(make_dataset(digits.train.x, 16, noise=parse_noise("mask:0.5"),
                                          binarize=True)))
    assert set(np.unique(clean.numpy())) <= {0.0, 1.0}
    assert (noisy.numpy() <= clean.numpy()).all()  # masking only removes ink


def test_a_folder_of_large_or_mixed_photos_is_worked_at_64_by_64_with_a_centre_crop():
    from vae_apps.io.data import WORKING_SIZE, fit_to, working_size

    assert working_size([(1200, 1600), (3000, 4000)]) == (
        (WORKING_SIZE, WORKING_SIZE), "images of 2 sizes up to 4000x3000")
    assert working_size([(512, 512)] * 3)[0] == (64, 64)  # one size, but large
    assert working_size([(28, 28)] * 3) == ((28, 28), None)  # small: kept
    assert working_size([(1200, 1600)], image_size=(96, 80)) == ((96, 80), None)
    wide = np.zeros((100, 300, 3), "float32")
    wide[:, 100:200] = 1.0  # a white centre third
    out = fit_to(wide, 64, 64)
    assert out.shape == (64, 64, 3) and out.mean() > 0.95  # the centre, not squashed


def test_a_photo_folder_streams_at_its_working_size(tmp_path, caplog):
    import tracemalloc

    from PIL import Image

    from vae_apps.io.data import load_data

    rng = np.random.default_rng(0)
    for i in range(12):
        size = (1600, 1200) if i % 2 else (1200, 900)
        pixels = rng.integers(0, 255, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
        Image.fromarray(pixels).resize(size).save(tmp_path / f"{i:02d}.jpg", quality=85)
    tracemalloc.start()
    data = load_data(str(tmp_path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert data.train.x.shape == (12, 64, 64, 3)
    assert "working at 64x64" in caplog.text and "2 sizes up to 1600x1200" in caplog.text
    # One 1600 x 1200 photo in float32 is 23 MB: the loader holds about one at a time
    # (JPEGs decoded at 1/8 of their size), never all twelve (276 MB).
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.0f} MB"
    again = load_data(str(tmp_path), image_size=(32, 48))
    assert again.train.x.shape == (12, 32, 48, 3)
