"""Posterior samples: the mean of K draws, their per-pixel spread, a few kept."""

import numpy as np
import pytest

from vae_apps.denoising.full_resolution import (PhotoDenoiser, denoise_full_resolution,
                                                denoise_with_samples)
from vae_apps.models.fully_conv import FullyConvVAE

TINY = dict(filters=8, latent_channels=4, blocks=(1, 1))


def _image(channels, height=45, width=70, seed=0):
    return np.random.default_rng(seed).random((height, width, channels), dtype="float32")


@pytest.mark.parametrize("model_channels,image_channels", [(1, 1), (3, 3), (1, 3), (3, 1)])
def test_samples_have_the_image_shape_and_follow_the_seed(model_channels, image_channels):
    model = FullyConvVAE(channels=model_channels, seed=0, **TINY)
    x = _image(image_channels)
    one = denoise_with_samples(model, x, samples=4, seed=3, keep=2)
    again = denoise_with_samples(model, x, samples=4, seed=3, keep=2)
    other = denoise_with_samples(model, x, samples=4, seed=4, keep=2)
    assert one.mean.shape == one.std.shape == x.shape
    assert len(one.samples) == 2 and all(s.shape == x.shape for s in one.samples)
    np.testing.assert_array_equal(one.mean, again.mean)
    np.testing.assert_array_equal(one.std, again.std)
    assert not np.array_equal(one.samples[0], other.samples[0])
    # the draws differ (an untrained posterior is wide), and their spread says so
    assert not np.array_equal(one.samples[0], one.samples[1])
    assert one.std.mean() > 0 and 0 <= one.mean.min() and one.mean.max() <= 1


def test_tiles_change_nothing_draws_included():
    model = FullyConvVAE(channels=1, seed=0, **TINY)
    x = _image(1, 120, 100)
    whole = denoise_with_samples(model, x, samples=4, seed=0, keep=2, tile=512)
    tiled = denoise_with_samples(model, x, samples=4, seed=0, keep=2, tile=48, margin=40)
    # each latent cell draws its noise from its place in the image, not from its tile
    for a, b in [(whole.mean, tiled.mean), (whole.std, tiled.std),
                 (whole.samples[1], tiled.samples[1])]:
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert whole.std.mean() > 1e-3  # the draws do differ


def test_position_keyed_noise_is_the_whole_maps_in_every_window():
    from vae_apps.models.fully_conv import position_keyed_normal

    whole = position_keyed_normal((0, 1), (-4, -4), (64, 64, 8)).numpy()
    part = position_keyed_normal((0, 1), (3, -2), (20, 30, 8)).numpy()
    np.testing.assert_array_equal(part, whole[7:27, 2:32])
    other = position_keyed_normal((0, 2), (-4, -4), (64, 64, 8)).numpy()
    assert abs(np.corrcoef(whole.ravel(), other.ravel())[0, 1]) < 0.05
    assert abs(whole.mean()) < 0.03 and abs(whole.std() - 1) < 0.03
    # neighbours along every axis are uncorrelated
    for axis in range(3):
        a, b = np.moveaxis(whole, axis, 0)[:-1], np.moveaxis(whole, axis, 0)[1:]
        assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 0.05


def test_decoding_from_one_draw_is_the_first_seeded_sample_tiled_or_not():
    model = FullyConvVAE(channels=1, seed=0, decode_draws=1, **TINY)
    x = _image(1, 120, 100)
    out = denoise_full_resolution(model, x)
    np.testing.assert_allclose(out, denoise_with_samples(model, x, samples=1, seed=0).mean,
                               atol=1e-6)
    np.testing.assert_allclose(out, denoise_full_resolution(model, x, tile=48), atol=1e-5)
    model.fitted.decode_draws = 0
    assert np.abs(out - denoise_full_resolution(model, x)).mean() > 1e-3


def test_the_mean_of_k_draws_approaches_the_posterior_mean_output():
    model = FullyConvVAE(channels=1, seed=0, **TINY)
    x = _image(1, 32, 32)
    # the posterior-mean output E_q[decoder(z)], estimated with 256 draws of another seed
    expected = denoise_with_samples(model, x, samples=256, seed=9).mean
    gaps = [np.sqrt(np.mean(np.square(denoise_with_samples(model, x, samples=k, seed=1).mean
                                      - expected))) for k in (1, 4, 16, 64)]
    assert gaps[0] > gaps[1] > gaps[2] > gaps[3]
    assert gaps[3] < gaps[0] / 4  # about 1 / sqrt(K): 64 draws, an eighth of one draw's gap


def test_training_keeps_the_decoding_nearer_the_targets_and_saving_keeps_it(tmp_path):
    import tensorflow as tf

    from vae_apps.loading import load_vae
    from vae_apps.denoising.calibration import choose_decode_draws

    model = FullyConvVAE(channels=1, seed=0, **TINY)
    x = np.stack([_image(1, 32, 32, seed=s) for s in range(4)])
    for draws in (1, 0):
        model.fitted.decode_draws = draws
        targets = model.denoise_padded(x)
        pairs = tf.data.Dataset.from_tensor_slices((x, targets)).batch(2)
        assert choose_decode_draws(model, pairs) == draws
    model.fitted.decode_draws = 1
    model.save(tmp_path / "m.keras")
    loaded = load_vae(tmp_path / "m.keras", compile=False)
    assert loaded.fitted.decode_draws == 1
    np.testing.assert_allclose(loaded.denoise_padded(x), model.denoise_padded(x), atol=1e-6)


def test_a_narrow_posterior_gives_the_posterior_mean_output():
    model = FullyConvVAE(channels=1, seed=0, **TINY)
    # every posterior log-variance far down: the draws collapse onto z's mean
    log_var = model.encoder.get_layer("z_log_var")
    kernel, bias = log_var.get_weights()
    log_var.set_weights([np.zeros_like(kernel), np.full_like(bias, -30.0)])
    x = _image(1)
    draws = denoise_with_samples(model, x, samples=3, seed=0)
    np.testing.assert_allclose(draws.mean, denoise_full_resolution(model, x), atol=1e-5)
    assert draws.std.max() < 1e-5


def test_photo_denoiser_and_bad_counts():
    from vae_apps.errors import UserError

    grey, colour = (FullyConvVAE(channels=c, seed=0, **TINY) for c in (1, 3))
    both = PhotoDenoiser(grey, colour)
    x = _image(3)
    np.testing.assert_array_equal(denoise_with_samples(both, x, samples=2).mean,
                                  denoise_with_samples(colour, x, samples=2).mean)
    with pytest.raises(UserError, match="at least 1"):
        denoise_with_samples(grey, _image(1), samples=0)


def test_cli_writes_the_mean_the_uncertainty_map_and_samples(tmp_path, capsys):
    from PIL import Image

    from apps.cli import main
    from vae_apps.io.images import read_image
    from vae_apps.loading import load_for_inference

    model = FullyConvVAE(channels=3, seed=0, **TINY)
    model.save(tmp_path / "m.keras")
    (tmp_path / "in" / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 56, 3), dtype="uint8")).save(tmp_path / "in" / "sub" / "a.jpg")
    Image.fromarray(rng.integers(0, 255, (33, 20), dtype="uint8")).save(tmp_path / "in" / "b.png")
    args = ["denoise", str(tmp_path / "in"), str(tmp_path / "out"), "--model", str(tmp_path / "m.keras"),
            "--samples", "3", "--uncertainty", str(tmp_path / "std"), "--samples-out",
            str(tmp_path / "draws"), "--quiet"]
    assert main(args) == 0
    assert "denoised 2 images" in capsys.readouterr().out
    for name, size in [("sub/a", (56, 40)), ("b", (20, 33))]:
        with Image.open(tmp_path / "std" / f"{name}.png") as std:
            assert std.mode in ("I;16", "I") and std.size == size
            values = np.asarray(std)
        assert values.max() > 0  # an untrained posterior is unsure everywhere
    # the command loads the file in the machine's precision (bfloat16 where the CPU is fast at it)
    expected = denoise_with_samples(load_for_inference(tmp_path / "m.keras"),
                                    read_image(tmp_path / "in" / "b.png")[0], samples=3, seed=0)
    with Image.open(tmp_path / "std" / "b.png") as std:
        np.testing.assert_allclose(np.asarray(std) / 65535, expected.std.mean(axis=-1), atol=1 / 65535)
    draws = sorted(p.name for p in (tmp_path / "draws" / "sub").iterdir())
    assert draws == ["a_sample1.jpg", "a_sample2.jpg", "a_sample3.jpg"]
    assert (tmp_path / "out" / "sub" / "a.jpg").exists()


def test_cli_uncertainty_without_samples_is_a_clear_error(tmp_path, capsys):
    from PIL import Image

    from apps.cli import main

    (tmp_path / "in").mkdir()
    Image.fromarray(np.zeros((8, 8), "uint8")).save(tmp_path / "in" / "a.png")
    status = main(["denoise", str(tmp_path / "in"), str(tmp_path / "out"), "--uncertainty",
                   str(tmp_path / "std")])
    assert status != 0
    assert "--samples" in capsys.readouterr().err


def test_predictive_std_is_the_weighted_terms_and_the_posterior_spread_alone_with_weight_one():
    from vae_apps.denoising.full_resolution import predictive_std, uncertainty_terms

    rng = np.random.default_rng(0)
    noisy, mean = _image(3, seed=1), _image(3, seed=2)
    spread = rng.random(noisy.shape, dtype="float32") / 10
    np.testing.assert_allclose(predictive_std(noisy, mean, spread, (1.0, 0.0, 0.0)), spread, rtol=1e-6)
    terms = uncertainty_terms(noisy, mean, spread)
    assert [t.shape for t in terms] == [noisy.shape] * 3 and all(t.min() >= 0 for t in terms)
    np.testing.assert_allclose(predictive_std(noisy, mean, spread, (2.0, 3.0, 0.5)) ** 2,
                               2 * terms[0] + 3 * terms[1] + 0.5 * terms[2], rtol=1e-5)


def test_calibrated_uncertainty_covers_the_share_asked_for_and_is_saved(tmp_path):
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.io.photos import bundled_photo
    from vae_apps.loading import load_vae
    from vae_apps.denoising.calibration import calibrate_uncertainty

    model = FullyConvVAE(channels=1, seed=0, **TINY)
    photos = [bundled_photo("moon"), bundled_photo("page")]
    noise = parse_noise("gaussian:0.1")
    weights = calibrate_uncertainty(model, photos, noise, crop=64, samples=2, seed=0)
    assert model.fitted.uncertainty_weights == weights and len(weights) == 3 and min(weights) >= 0
    # the same crops and noise again: 95 % of the errors within 2 predicted standard deviations
    again = calibrate_uncertainty(model, photos, noise, crop=64, samples=2, seed=0)
    assert again == pytest.approx(weights)
    model.save(tmp_path / "m.keras")
    assert load_vae(tmp_path / "m.keras").fitted.uncertainty_weights == pytest.approx(weights)


def test_the_presets_uncertainty_is_calibrated_on_a_held_out_photo_and_higher_on_edges():
    """The shipped weights were fitted on the training photos; camera is held out."""
    from scipy.ndimage import sobel

    from vae_apps.denoising.noise import parse_noise
    from vae_apps.denoising.presets import load_preset
    from vae_apps.io.photos import bundled_photo

    photo = load_preset("photo", precision="float32")
    assert all(m.fitted.uncertainty_weights is not None for m in photo.models.values())
    clean = bundled_photo("camera")[96:288, 160:352]
    noisy = np.round(np.clip(parse_noise("gaussian:0.1").apply(clean[None], seed=0)[0], 0, 1) * 255) / 255
    result = denoise_with_samples(photo, noisy, samples=8, seed=0)
    inside = np.mean(np.abs(result.mean - clean) <= 2 * result.std)
    raw = np.mean(np.abs(result.mean - clean) <= 2 * result.posterior_std)
    assert 0.88 <= inside <= 0.99, inside  # measured: 0.95 on held-out photos
    assert raw < 0.5  # the draws' spread alone is far too narrow
    edges = np.hypot(sobel(clean[..., 0], 0), sobel(clean[..., 0], 1))
    assert result.std[edges > np.quantile(edges, 0.9)].mean() > 1.5 * result.std[edges < np.quantile(edges, 0.5)].mean()
