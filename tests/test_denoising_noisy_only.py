"""Training without clean images: neighbour pairs and the noisy-only path."""

import numpy as np
import pytest
import tensorflow as tf

from vae_apps.denoising.noisy_only import neighbour_pairs


def _cells(patch):
    """(H/2, W/2, 4, C): the four pixels of each 2 x 2 cell."""
    h, w, c = patch.shape[0] // 2, patch.shape[1] // 2, patch.shape[2]
    return patch.reshape(h, 2, w, 2, c).transpose(0, 2, 1, 3, 4).reshape(h, w, 4, c)


def test_neighbour_pairs_take_two_different_pixels_of_every_cell():
    # Every pixel distinct, so where a value comes from can be read back.
    patches = np.arange(2 * 8 * 6 * 3, dtype="float32").reshape(2, 8, 6, 3)
    first, second = (t.numpy() for t in neighbour_pairs(tf.constant(patches), tf.constant([0, 1])))
    assert first.shape == second.shape == (2, 4, 3, 3)
    for patch, a, b in zip(patches, first, second):
        cells = _cells(patch)
        for i in range(4):
            for j in range(3):
                where_a = [k for k in range(4) if np.array_equal(cells[i, j, k], a[i, j])]
                where_b = [k for k in range(4) if np.array_equal(cells[i, j, k], b[i, j])]
                # the whole pixel (all channels) from one place of its own cell
                assert len(where_a) == 1 and len(where_b) == 1 and where_a != where_b


def test_neighbour_pairs_are_seeded():
    patches = tf.random.stateless_uniform((3, 16, 16, 1), [4, 2])
    one = [t.numpy() for t in neighbour_pairs(patches, tf.constant([5, 6]))]
    again = [t.numpy() for t in neighbour_pairs(patches, tf.constant([5, 6]))]
    other = [t.numpy() for t in neighbour_pairs(patches, tf.constant([5, 7]))]
    np.testing.assert_array_equal(one[0], again[0])
    np.testing.assert_array_equal(one[1], again[1])
    assert not np.array_equal(one[0], other[0])
    # all four places are used, about equally often
    flat = patches.numpy()[0, :, :, 0]
    cells = _cells(flat[..., None])[..., 0]
    places = np.argmax(cells == one[0][0, :, :, 0][..., None], axis=-1)
    assert set(np.unique(places)) == {0, 1, 2, 3}


def test_the_two_halves_carry_independent_noise_of_the_same_scene():
    rng = np.random.default_rng(0)
    clean = np.full((4, 64, 64, 1), 0.5, "float32")
    noise = rng.normal(0, 0.1, clean.shape).astype("float32")
    first, second = (t.numpy() for t in neighbour_pairs(tf.constant(clean + noise), tf.constant([1, 2])))
    difference = (first - second).ravel()
    # independent noise: the difference has twice the variance, no correlation left
    assert abs(difference.std() - 0.1 * np.sqrt(2)) < 0.005
    assert abs(np.corrcoef((first - 0.5).ravel(), (second - 0.5).ravel())[0, 1]) < 0.03


def test_a_training_batch_holds_the_pairs_and_where_each_half_pixel_came_from():
    from vae_apps.denoising.noisy_only import neighbour_training_batch

    crops = tf.random.stateless_uniform((3, 12, 8, 2), [1, 2])
    batch = {k: v.numpy() for k, v in neighbour_training_batch(crops, tf.constant([5, 6])).items()}
    first, second = (t.numpy() for t in neighbour_pairs(crops, tf.constant([5, 6])))
    np.testing.assert_array_equal(batch["first"], first)  # same seed, same picks
    np.testing.assert_array_equal(batch["second"], second)
    np.testing.assert_array_equal(batch["crops"], crops.numpy())
    flat = crops.numpy().reshape(3, -1, 2)
    for half, places in ((first, batch["first_at"]), (second, batch["second_at"])):
        assert places.shape == (3, 6, 4) and places.dtype == np.int32
        picked = np.take_along_axis(flat, places.reshape(3, -1, 1), axis=1).reshape(half.shape)
        np.testing.assert_array_equal(picked, half)
        rows, columns = places // 8, places % 8
        # each place lies in its own 2 x 2 cell
        np.testing.assert_array_equal(rows // 2, np.arange(6)[None, :, None] + 0 * rows)
        np.testing.assert_array_equal(columns // 2, np.arange(4)[None, None, :] + 0 * columns)
    assert (batch["first_at"] != batch["second_at"]).all()


@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_the_neighbour_regulariser_moves_the_target_by_the_models_own_difference(gamma):
    from vae_apps.denoising.noisy_only import neighbour_training_batch
    from vae_apps.models.fully_conv import FullyConvVAE

    model = FullyConvVAE(channels=1, filters=8, latent_channels=2, blocks=(1, 1), seed=0,
                         neighbour_regularization=gamma)
    crops = tf.random.stateless_uniform((2, 16, 16, 1), [3, 4])
    batch = neighbour_training_batch(crops, tf.constant([0, 1]))
    x_input, target = (np.asarray(t) for t in model.noisy_only_pair(batch))
    np.testing.assert_array_equal(x_input, batch["first"].numpy())
    whole = np.asarray(model(crops, training=False)).reshape(2, -1, 1)
    at = lambda places: np.take_along_axis(whole, places.numpy().reshape(2, -1, 1), axis=1).reshape(2, 8, 8, 1)  # noqa: E731
    shift = at(batch["first_at"]) - at(batch["second_at"])
    assert np.abs(shift).max() > 0
    expected = batch["second"].numpy() + gamma / (1 + gamma) * shift
    np.testing.assert_allclose(target, expected, atol=1e-6)
    # (x, y) pairs are scored as they are; gamma is kept in the config
    nll, kl, extra = model.loss_terms((crops, crops + 1), training=False)
    assert nll.shape == kl.shape == (2,) and not extra
    assert FullyConvVAE.from_config(model.get_config()).neighbour_regularization == gamma


def test_the_neighbour_regulariser_needs_a_gaussian_likelihood():
    from vae_apps.models.fully_conv import FullyConvVAE

    with pytest.raises(ValueError, match="gaussian"):
        FullyConvVAE(channels=1, likelihood="bernoulli", neighbour_regularization=1.0)


def _noisy_folder(folder, count=3, sigma=0.1, seed=0):
    from PIL import Image

    from skimage import data

    rng = np.random.default_rng(seed)
    clean = data.camera()[::4, ::4].astype("float32") / 255  # 128 x 128
    folder.mkdir()
    for i in range(count):
        noisy = np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 1)
        Image.fromarray((noisy * 255).round().astype("uint8")).save(folder / f"n{i}.png")
    return clean


@pytest.mark.slow
def test_noisy_only_training_learns_to_denoise_the_folder_it_sees(tmp_path):
    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.io.images import read_image
    from vae_apps.loading import load_vae
    from vae_apps.denoising.train import train_photo_denoiser

    clean = _noisy_folder(tmp_path / "noisy")
    text, result = train_photo_denoiser(
        str(tmp_path / "noisy"), tmp_path / "m.keras", noisy_only=True, patch_size=32,
        patches_per_image=64, epochs=4, batch_size=16, validation_patches=32, verbose=0,
        filters=16, latent_channels=4, blocks=(1, 1), seed=0)
    model = load_vae(tmp_path / "m.keras")
    assert not model.noise_level_input  # blind: no clean images to know a level from
    # the uncertainty was fitted on the noisy images alone (neighbour estimate)
    assert model.fitted.uncertainty_weights is not None and min(model.fitted.uncertainty_weights) >= 0
    # the noise's law was read off the noisy images: Gaussian, sigma 0.1, no Poisson part
    # to speak of (a gain of 0.003 is a variance of 0.0015 at mid-grey, 0.01 the noise's)
    gain, variance = model.fitted.clipped_noise
    assert 0.07 < np.sqrt(variance) < 0.13 and gain < 0.003, model.fitted.clipped_noise
    assert "read off the noisy images: Poisson-Gaussian noise" in text
    noisy = read_image(tmp_path / "noisy" / "n0.png")[0]
    out = denoise_full_resolution(model, noisy)
    error_noisy = np.mean((noisy[..., 0] - clean) ** 2)
    error_out = np.mean((out[..., 0] - clean) ** 2)
    assert error_out < 0.6 * error_noisy, (error_out, error_noisy)


def test_noisy_only_refuses_an_added_noise(tmp_path):
    from vae_apps.errors import UserError
    from vae_apps.denoising.train import train_photo_denoiser

    _noisy_folder(tmp_path / "noisy", count=1)
    with pytest.raises(UserError, match="leave out --noise"):
        train_photo_denoiser(str(tmp_path / "noisy"), tmp_path / "m.keras", noisy_only=True,
                             noise="gaussian:0.1", patch_size=32)


def test_cli_noisy_only_needs_a_patch_size(tmp_path, capsys):
    from apps.cli import main

    _noisy_folder(tmp_path / "noisy", count=1)
    status = main(["train", str(tmp_path / "noisy"), "--noisy-only", "--out", str(tmp_path / "m.keras")])
    assert status != 0
    assert "--patch-size" in capsys.readouterr().err


def test_neighbour_triples_take_three_different_pixels_of_every_cell_seeded():
    from vae_apps.denoising.noisy_only import neighbour_triples

    image = np.arange(2 * 7 * 9, dtype="float32").reshape(7, 9, 2)  # odd sides: cut
    first, second, third = neighbour_triples(image, seed=[0, 1])
    assert first.shape == second.shape == third.shape == (3, 4, 2)
    for row in range(3):
        for col in range(4):
            cell = set(image[2 * row:2 * row + 2, 2 * col:2 * col + 2, 0].ravel())
            picks = [half[row, col, 0] for half in (first, second, third)]
            assert set(picks) <= cell and len(set(picks)) == 3
    np.testing.assert_array_equal(first[..., 1], first[..., 0] + 1)  # channels stay together
    again = neighbour_triples(image, seed=[0, 1])
    assert all(np.array_equal(a, b) for a, b in zip((first, second, third), again))
    other = neighbour_triples(image, seed=[0, 2])
    assert not all(np.array_equal(a, b) for a, b in zip((first, second, third), other))


@pytest.mark.parametrize("noise", ["gaussian", "poisson-clipped"])
def test_the_squared_error_estimate_needs_no_clean_image_and_no_noise_model(noise):
    from vae_apps.denoising.noisy_only import neighbour_triples, squared_error_estimate

    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:512, 0:512] / 512.0
    clean = (0.5 + 0.45 * np.sin(2 * rows) * np.cos(3 * cols))[..., None]  # smooth scene
    if noise == "gaussian":
        noisy = clean + rng.normal(0, 0.1, clean.shape)
    else:  # photon-limited, then clipped at white as a file stores it
        noisy = np.minimum(rng.poisson(clean * 30) / 30, 1.0)
    first, second, third = neighbour_triples(noisy, seed=0)
    clean_first = neighbour_triples(clean, seed=0)[0]
    for denoised in (first, 0.5 * first + 0.25, np.full_like(first, 0.5)):  # any denoiser
        truth = np.mean((denoised - clean_first) ** 2)
        estimate = np.mean(squared_error_estimate(denoised, second, third))
        assert abs(estimate - truth) < 0.1 * truth + 2e-4, (estimate, truth)


def test_a_dark_folder_gets_its_uncertainty_calibrated_without_a_noise_model(tmp_path):
    # The noise variance function once read off the images could not be read from a
    # folder this dark; the neighbour estimate needs none.
    from vae_apps.loading import load_vae
    from vae_apps.denoising.train import train_patch_denoiser

    rng = np.random.default_rng(0)
    dark = [np.clip(rng.normal(0.01, 0.005, (64, 64, 1)), 0, 1).astype("float32") for _ in range(2)]
    train_patch_denoiser(dark, None, channels=1, noisy_only=True, patch_size=16,
                         patches_per_image=16, epochs=1, batch_size=8, validation_patches=8,
                         out=tmp_path / "m.keras", verbose=0, filters=8, latent_channels=4,
                         blocks=(1, 1))
    weights = load_vae(tmp_path / "m.keras").fitted.uncertainty_weights
    assert weights is not None and min(weights) >= 0 and max(weights) > 0
