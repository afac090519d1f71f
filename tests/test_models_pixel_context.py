"""The PixelContext head: autoregressive in raster order, saved and loaded, drawn with a seed."""

import keras
import numpy as np
import pytest
from conftest import SMALL_NET

from vae_apps_cli.cli import main
from vae_apps import VAE
from vae_apps.io.data import binarize_images


def _parameters(model, z, image):
    return keras.ops.convert_to_numpy(model.pixel_parameters(z, image, image))


@pytest.mark.parametrize("shape", [(8, 8, 1), (9, 13, 3)])
def test_each_pixel_depends_only_on_earlier_pixels(shape, rng):
    model = VAE(shape, pixel_context=2, seed=0, **SMALL_NET)
    z = rng.normal(size=(1, 4)).astype("float32")
    image = (rng.random((1, *shape)) < 0.5).astype("float32")
    base = _parameters(model, z, image)
    row, col = 3, 4
    flipped = image.copy()
    flipped[0, row, col] = 1.0 - flipped[0, row, col]
    changed = np.abs(_parameters(model, z, flipped) - base).max(axis=(0, 3)) > 1e-6
    order = np.arange(shape[0] * shape[1]).reshape(shape[:2])
    assert not changed[order <= order[row, col]].any()  # itself and earlier: untouched
    assert changed[row, col + 1] and changed[row + 1, col]  # its right and lower neighbours see it


def test_without_pixel_context_the_image_is_not_used(rng):
    model = VAE((8, 8, 1), seed=0, **SMALL_NET)
    z = rng.normal(size=(2, 4)).astype("float32")
    ones, zeros = np.ones((2, 8, 8, 1), "float32"), np.zeros((2, 8, 8, 1), "float32")
    np.testing.assert_array_equal(_parameters(model, z, ones), _parameters(model, z, zeros))


def test_decoding_draws_pixels_reproducibly(rng):
    model = VAE((8, 8, 1), pixel_context=2, seed=0, **SMALL_NET)
    z = rng.normal(size=(5, 4)).astype("float32")
    images = model.decode(z, seed=3)
    assert images.shape == (5, 8, 8, 1) and 0 <= images.min() and images.max() <= 1
    np.testing.assert_array_equal(images, model.decode(z, seed=3))
    assert not np.array_equal(images, model.decode(z, seed=4))


def test_save_and_load_keep_the_head(digits, tmp_path):
    model = VAE(digits.image_shape, pixel_context=2, seed=0, **SMALL_NET)
    model.compile(keras.optimizers.Adam(3e-3))
    model.fit(binarize_images(digits.train.x[:256], 0), epochs=1, batch_size=64, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert loaded.pixel_context == 2 and len(loaded.optimizer.variables) == len(model.optimizer.variables)
    z = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    x = binarize_images(digits.test.x[:3], 1)
    np.testing.assert_allclose(_parameters(loaded, z, x), _parameters(model, z, x), atol=1e-6)
    np.testing.assert_array_equal(loaded.decode(z, seed=2), model.decode(z, seed=2))


def test_pixel_context_fits_binary_digits_better(digits):
    """Same network, same data: the context lowers the negative ELBO on binarised digits."""
    from vae_apps.generation.likelihoods import elbo_terms
    from vae_apps.training.loop import train_vae

    x_test = binarize_images(digits.test.x, 7)
    scores = {}
    for maps in (0, 2):
        model = train_vae(digits.train.x, binarize=True, epochs=12, batch_size=64, seed=0,
                          verbose=0, pixel_context=maps, **SMALL_NET).model
        scores[maps] = elbo_terms(model, x_test)["negative_elbo"]
    assert scores[2] < scores[0] - 0.5, scores  # 1.8 nats here with seed 0


def test_cli_trains_with_pixel_context_and_generates(tmp_path):
    model = tmp_path / "m.keras"
    assert main(["train", "digits", "--epochs", "1", "--binarize", "--pixel-context", "2",
                 "--filters", "8,16", "--hidden-units", "16", "--latent-dim", "4",
                 "--out", str(model)]) == 0
    grids = [tmp_path / "a.png", tmp_path / "b.png"]
    for grid in grids:
        assert main(["generate", "--model", str(model), "--out", str(grid), "-n", "6",
                     "--seed", "1"]) == 0
    assert grids[0].read_bytes() == grids[1].read_bytes()
