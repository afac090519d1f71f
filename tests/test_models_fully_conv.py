"""The fully convolutional VAE: any size, save/load, patches, tiles, channel rule."""

import keras
import numpy as np
import pytest

from vae_apps.training.datasets import draw_patches, make_patch_dataset
from vae_apps.denoising.full_resolution import PhotoDenoiser, denoise_full_resolution
from vae_apps.models.fully_conv import FullyConvVAE
from vae_apps.denoising.noise import parse_noise

TINY = dict(filters=8, latent_channels=4, blocks=(1, 1))


def _photo(channels, height=70, width=90):
    """A smooth test picture with edges, values in [0, 1]."""
    y, x = np.mgrid[0:height, 0:width] / 40.0
    base = 0.5 + 0.3 * np.sin(3 * x) * np.cos(2 * y) + 0.2 * (x > 1.0)
    planes = [np.clip(base * (0.8 + 0.1 * c), 0, 1) for c in range(channels)]
    return np.stack(planes, axis=-1).astype("float32")


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [(5, 7), (37, 53), (64, 64)])
def test_any_size_comes_back_the_same_size(channels, size):
    model = FullyConvVAE(channels=channels, seed=0, **TINY)
    x = np.random.default_rng(0).random((2, *size, channels), dtype="float32")
    out = model.reconstruct(x)
    assert out.shape == x.shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_save_load_gives_the_same_output_and_precision_is_chosen_at_load(tmp_path):
    from vae_apps.loading import load_vae, with_precision

    model = FullyConvVAE(channels=3, seed=0, **TINY)
    model.compile(keras.optimizers.Adam(1e-3))
    x = _photo(3, 32, 32)[None]
    model.fit(x, x, epochs=1, verbose=0)
    model.save(tmp_path / "fc.keras")
    loaded = load_vae(tmp_path / "fc.keras")
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), atol=1e-6)
    assert loaded.get_config() == model.get_config()
    mixed = with_precision(loaded, "mixed")
    assert mixed.dtype_policy.name == "mixed_bfloat16" and mixed is not loaded
    np.testing.assert_allclose(mixed.reconstruct(x), model.reconstruct(x), atol=0.02)
    assert with_precision(loaded, "float32") is loaded


def test_train_step_on_pairs_learns_and_the_kl_is_summed_over_the_latent_map():
    keras.utils.set_random_seed(0)
    model = FullyConvVAE(channels=1, seed=0, **TINY)
    model.compile(keras.optimizers.Adam(3e-3))
    clean = np.stack([_photo(1, 32, 32)] * 16)
    noisy = parse_noise("gaussian:0.2").apply(clean, seed=0)
    nll, kl = model.compute_losses(noisy[:4], clean[:4])
    assert tuple(nll.shape) == (4,) and tuple(kl.shape) == (4,)
    history = model.fit(noisy, clean, epochs=30, batch_size=8, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    err_before = np.mean((noisy - clean) ** 2)
    assert np.mean((model.reconstruct(noisy) - clean) ** 2) < 0.5 * err_before


def test_patches_have_the_asked_shape_and_follow_the_seed():
    image = _photo(3, 50, 70)
    first = list(draw_patches(image, 16, 5, np.random.default_rng(1)))
    again = list(draw_patches(image, 16, 5, np.random.default_rng(1)))
    other = list(draw_patches(image, 16, 5, np.random.default_rng(2)))
    assert [p.shape for p in first] == [(16, 16, 3)] * 5
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    small = list(draw_patches(_photo(1, 10, 12), 16, 2, np.random.default_rng(0)))
    assert small[0].shape == (16, 16, 1)  # mirrored up to the patch size


def test_patch_dataset_streams_files_and_arrays_as_noisy_clean_pairs(tmp_path):
    from PIL import Image

    paths = []
    for i, (h, w) in enumerate([(40, 60), (90, 33)]):
        path = tmp_path / f"p{i}.png"
        Image.fromarray((_photo(3, h, w) * 255).astype("uint8")).save(path)
        paths.append(path)
    noise = parse_noise("gaussian:0.05-0.2")
    for images in (paths, [_photo(1, 40, 60), _photo(3, 90, 33)]):
        ds = make_patch_dataset(images, 24, channels=1, patches_per_image=8, batch_size=4,
                                noise=noise, seed=3)
        batches = list(ds)
        assert len(batches) == 4  # 2 images x 8 patches / 4
        noisy, clean = batches[0]
        assert noisy.shape == clean.shape == (4, 24, 24, 1)
        assert not np.allclose(noisy, clean)
    again = [b[0].numpy() for b in make_patch_dataset(paths, 24, 1, 8, 4, noise, seed=3)]
    first = [b[0].numpy() for b in make_patch_dataset(paths, 24, 1, 8, 4, noise, seed=3)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_tiled_result_equals_the_untiled_one():
    model = FullyConvVAE(channels=3, seed=0, **TINY)
    photo = _photo(3, 150, 170)
    whole = denoise_full_resolution(model, photo, tile=512)
    tiled = denoise_full_resolution(model, photo, tile=64)
    assert whole.shape == tiled.shape == photo.shape
    assert np.abs(whole - tiled).max() <= 1 / 255


def test_a_grey_model_cleans_colour_per_channel_and_a_colour_model_cleans_grey():
    grey, colour = FullyConvVAE(channels=1, seed=0, **TINY), FullyConvVAE(channels=3, seed=0, **TINY)
    rgb, mono = _photo(3, 40, 44), _photo(1, 40, 44)
    per_channel = denoise_full_resolution(grey, rgb)
    assert per_channel.shape == rgb.shape
    np.testing.assert_allclose(per_channel[..., 1:2], denoise_full_resolution(grey, rgb[..., 1:2]),
                               atol=1e-6)
    assert denoise_full_resolution(colour, mono).shape == mono.shape
    both = PhotoDenoiser(grey, colour)
    np.testing.assert_allclose(denoise_full_resolution(both, rgb), denoise_full_resolution(colour, rgb))
    np.testing.assert_allclose(denoise_full_resolution(both, mono), denoise_full_resolution(grey, mono))


def test_train_patch_denoiser_writes_a_float32_model_that_loads(tmp_path):
    from vae_apps.loading import load_vae
    from vae_apps.denoising.train import train_patch_denoiser

    images = [_photo(1, 48, 64), _photo(1, 70, 40)]
    result = train_patch_denoiser(images, parse_noise("gaussian:0-0.2"), channels=1, patch_size=32,
                                  patches_per_image=8, epochs=2, batch_size=4, precision="mixed",
                                  validation_patches=8, out=tmp_path / "d.keras", verbose=0, **TINY)
    assert result.epochs_run == 2 and "val_loss" in result.history
    model = load_vae(tmp_path / "d.keras")
    assert isinstance(model, FullyConvVAE) and model.dtype_policy.name == "float32"
    # the uncertainty weights were fitted on the training images and saved with the model
    assert model.fitted.uncertainty_weights is not None and min(model.fitted.uncertainty_weights) >= 0
    with pytest.raises(Exception, match="multiple of 4"):
        train_patch_denoiser(images, parse_noise("gaussian:0.1"), patch_size=30, epochs=1)


def test_patch_training_on_a_messy_folder_skips_the_broken_file_and_picks_grey(tmp_path, capsys):
    from PIL import Image

    from vae_apps_cli.cli import main
    from vae_apps.loading import load_vae

    folder = tmp_path / "scans"
    folder.mkdir()
    for i, (h, w) in enumerate([(60, 80), (90, 50), (41, 77)]):
        Image.fromarray((_photo(1, h, w)[..., 0] * 255).astype("uint8")).save(folder / f"s{i}.png")
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "d.keras"
    assert main(["train", str(folder), "--patch-size", "32", "--patches-per-image", "8",
                 "--epochs", "1", "--batch-size", "4", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "broken.jpg" in captured.err and "trained 1 epochs on patches of 4 images" in captured.out
    assert load_vae(out).channels == 1  # a folder of grey scans gives a grey model


def test_init_trains_a_saved_model_further_and_refuses_what_it_cannot(tmp_path, capsys, trained_digits_model):
    from PIL import Image

    from vae_apps_cli.cli import main
    from vae_apps.loading import load_vae

    folder = tmp_path / "photos"
    folder.mkdir()
    for i, (h, w) in enumerate([(60, 80), (90, 50)]):
        Image.fromarray((_photo(1, h, w)[..., 0] * 255).astype("uint8")).save(folder / f"s{i}.png")
    start = tmp_path / "start.keras"
    FullyConvVAE(channels=1, seed=3, **TINY).save(start)
    common = ["--patch-size", "32", "--patches-per-image", "8", "--epochs", "1", "--batch-size", "4"]
    out = tmp_path / "further.keras"
    assert main(["train", str(folder), *common, "--init", str(start), "--out", str(out)]) == 0
    before, after = load_vae(start), load_vae(out)
    assert after.get_config()["filters"] == before.get_config()["filters"]  # its architecture
    assert any(not np.allclose(a, b) for a, b in zip(before.get_weights(), after.get_weights()))
    capsys.readouterr()
    # a small-image VAE, a colour model for grey training, or --init without --patch-size
    for argv in (["--init", str(trained_digits_model), *common],
                 ["--init", str(start), "--rgb", *common],
                 ["--init", str(start)]):
        assert main(["train", str(folder), *argv, "--out", str(tmp_path / "x.keras")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "--init" in err, err
    assert not (tmp_path / "x.keras").exists()


def test_fewer_patches_than_one_batch_is_a_clear_error():
    from vae_apps.errors import UserError
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.denoising.train import train_patch_denoiser

    images = [np.zeros((32, 32, 1), "float32")]
    with pytest.raises(UserError, match="1 images x 4 patches per image make less than one batch of 8"):
        train_patch_denoiser(images, parse_noise("gaussian:0.1"), patches_per_image=4, batch_size=8,
                             epochs=1, validation_patches=4)


LEVELLED = dict(TINY, noise_level_input=True, refine_filters=8)


def test_a_noise_level_model_tiles_exactly_and_estimates_one_level_per_image():
    from vae_apps.denoising.full_resolution import MEAN_KEEPING_LEVELS, estimate_noise_level

    model = FullyConvVAE(channels=3, seed=0, **LEVELLED)
    photo = _photo(3, 150, 170)
    assert estimate_noise_level(model, photo, tile=64) == pytest.approx(
        estimate_noise_level(model, photo, tile=512), rel=1e-5)
    whole = denoise_full_resolution(model, photo, tile=512)
    tiled = denoise_full_resolution(model, photo, tile=64)
    assert np.abs(whole - tiled).max() <= 1 / 255
    from vae_apps.denoising.full_resolution import estimate_noise_level_map

    levels, level = estimate_noise_level_map(model, photo)  # per region, and the whole image's
    assert level == pytest.approx(estimate_noise_level(model, photo))
    np.testing.assert_allclose(whole, denoise_full_resolution(model, photo, noise_level=levels),
                               atol=1e-6)
    # Away from the borders (which reconstruct pads differently) the two paths agree, at a
    # level where denoise_full_resolution leaves the local means to the model.
    inner = (slice(40, -40), slice(40, -40))
    strong = MEAN_KEEPING_LEVELS[1]
    np.testing.assert_allclose(model.reconstruct(photo[None], noise_level=strong)[0][inner],
                               denoise_full_resolution(model, photo, noise_level=strong)[inner],
                               atol=1e-5)
    other = denoise_full_resolution(model, photo, strength=3.0)
    assert np.abs(other - whole).max() > 0  # the level reaches the networks


def test_the_noise_level_channel_and_save_load(tmp_path):
    model = FullyConvVAE(channels=1, seed=0, **LEVELLED)
    x = _photo(1, 32, 36)[None]
    levelled = model.with_noise_level(x, 0.1)
    assert levelled.shape == (1, 32, 36, 2)
    np.testing.assert_allclose(levelled[..., 1], 0.1 * 5.0)  # NOISE_MAP_SCALE
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    assert loaded.noise_level_input and loaded.refine_filters == 8
    np.testing.assert_allclose(loaded.reconstruct(x, noise_level=0.05),
                               model.reconstruct(x, noise_level=0.05), atol=1e-6)


def test_strength_on_a_model_without_a_noise_level_is_a_clear_error():
    from vae_apps.errors import UserError

    with pytest.raises(UserError, match="takes no noise level"):
        denoise_full_resolution(FullyConvVAE(channels=1, seed=0, **TINY), _photo(1, 20, 20),
                                strength=2.0)


def test_patch_training_feeds_the_true_noise_level_and_trains_the_estimator():
    from vae_apps.denoising.train import train_patch_denoiser, with_true_noise_level
    import tensorflow as tf

    clean = tf.constant(_photo(3, 32, 32)[None].repeat(2, 0))
    noisy = clean + tf.constant([0.0, 0.1])[:, None, None, None] * tf.random.stateless_normal(
        tf.shape(clean), [0, 1])
    levelled, target = with_true_noise_level(noisy, clean)
    assert levelled.shape == (2, 32, 32, 4)
    np.testing.assert_allclose(levelled[:, 0, 0, 3].numpy(), [0.0, 0.5], atol=0.02)
    result = train_patch_denoiser([_photo(3, 48, 64)], parse_noise("gaussian:0-0.2"), channels=3,
                                  patch_size=32, patches_per_image=16, epochs=2, batch_size=8,
                                  validation_patches=8, verbose=0, **TINY)
    assert result.model.noise_level_input and "noise_level_error" in result.history
    assert result.history["noise_level_error"][-1] < result.history["noise_level_error"][0]


def test_the_calibration_maps_the_estimators_median_and_is_saved(tmp_path):
    from vae_apps.denoising.full_resolution import estimate_noise_level
    from vae_apps.denoising.calibration import calibrate_noise_level

    model = FullyConvVAE(channels=1, seed=0, **LEVELLED)
    photo = _photo(1, 64, 64)
    raw = estimate_noise_level(model, photo)
    scale, offset = calibrate_noise_level(model, [_photo(1, 96, 96), _photo(1, 80, 120)],
                                          parse_noise("gaussian:0-0.2"), crop=64)
    assert (model.fitted.noise_level_scale, model.fitted.noise_level_offset) == (scale, offset)
    assert estimate_noise_level(model, photo) == pytest.approx(max(0.0, scale * raw + offset),
                                                               rel=1e-5)
    model.save(tmp_path / "c.keras")
    loaded = keras.models.load_model(tmp_path / "c.keras", safe_mode=True)
    assert (loaded.fitted.noise_level_scale, loaded.fitted.noise_level_offset) == (scale, offset)


def test_a_grey_noise_level_model_reads_each_colour_channel_on_its_own():
    from vae_apps.denoising.full_resolution import denoise_full_resolution, estimate_noise_level

    model = FullyConvVAE(channels=1, seed=0, **LEVELLED)
    photo = _photo(3, 48, 56)
    out = denoise_full_resolution(model, photo)
    assert out.shape == photo.shape
    for c in range(3):  # each channel as the grey model denoises it, with its own level
        channel = photo[..., c:c + 1]
        # (the local means kept afterwards follow the channels' mean level: under 1 grey level)
        np.testing.assert_allclose(
            out[..., c:c + 1],
            denoise_full_resolution(model, channel, noise_level=estimate_noise_level(model, channel)),
            atol=1 / 255)


def test_a_folder_of_few_images_gets_enough_updates_an_epoch():
    from vae_apps.denoising.train import PATCH_DENOISER

    assert PATCH_DENOISER.patches_for(20, 32) == 256  # 160 updates an epoch: unchanged
    for count in (1, 2, 3):
        assert count * PATCH_DENOISER.patches_for(count, 32) // 32 >= PATCH_DENOISER.min_steps_per_epoch
    assert PATCH_DENOISER.patches_for(1, 32) == 1024


def test_noisy_only_training_has_the_same_updates_an_epoch_whatever_the_folder():
    from vae_apps.denoising.train import PATCH_DENOISER

    for count in (1, 3, 8, 20, 500):
        steps = count * PATCH_DENOISER.patches_for(count, 32, noisy_only=True) // 32
        # rounding down to whole crops per image loses under one crop of each image
        assert PATCH_DENOISER.noisy_only_steps_per_epoch - count / 32 - 1 <= steps <= PATCH_DENOISER.noisy_only_steps_per_epoch
    assert PATCH_DENOISER.patches_for(8, 32, noisy_only=True) == 1024  # 256 updates of 32
    assert PATCH_DENOISER.patches_for(1, 32, noisy_only=True) == 8192
    assert PATCH_DENOISER.patches_for(5000, 32, noisy_only=True) == 1  # every image once
    assert PATCH_DENOISER.patches_for(500, 32) == 256  # clean-trained: every image 256 crops
