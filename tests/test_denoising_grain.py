"""Smoothing the grain a noisy-only model leaves on flat areas."""

import numpy as np

from vae_apps.denoising.clipped_noise import ClippedPoissonGaussian
from vae_apps.denoising.grain import GRAIN_LEVELS, grain_variance, smooth_grain


def test_the_filter_smooths_what_varies_less_than_eps_and_keeps_edges():
    rng = np.random.default_rng(0)
    flat = (0.5 + 0.02 * rng.standard_normal((96, 96, 1))).astype("float32")
    smoothed = smooth_grain(flat, np.full_like(flat, 0.02 ** 2))
    assert smoothed.var() < flat.var() / 3  # 3.8 times less with this seed
    step = np.where(np.arange(96) < 48, 0.25, 0.75).astype("float32")[None, :, None]
    step = np.repeat(step, 96, axis=0) + 0.005 * rng.standard_normal((96, 96, 1)).astype("float32")
    kept = smooth_grain(step, np.full_like(step, 0.02 ** 2))
    # the edge is 25 times eps's standard deviation: it stays within a pixel of where it was
    assert kept[:, 45].mean() < 0.3 and kept[:, 50].mean() > 0.7
    np.testing.assert_allclose(smooth_grain(flat, np.zeros_like(flat)), flat, atol=1e-4)


def test_the_grain_of_a_denoiser_that_removes_nothing_is_the_noise_and_follows_the_seed():
    law = ClippedPoissonGaussian(0.01, 0.02 ** 2)
    curve = grain_variance(lambda x: x, law, 1, seed=3)
    _, _, variance = law.tables()
    expected = np.interp(GRAIN_LEVELS, np.linspace(0, 1, len(variance)), variance)
    np.testing.assert_allclose(curve, expected, rtol=0.1)
    np.testing.assert_array_equal(curve, grain_variance(lambda x: x, law, 1, seed=3))
    assert not np.array_equal(curve, grain_variance(lambda x: x, law, 1, seed=4))


def _model_pair(**law):
    from vae_apps.models.fully_conv import FullyConvVAE

    tiny = dict(filters=8, latent_channels=4, blocks=(1, 1), seed=0)
    plain, with_law = FullyConvVAE(channels=1, **tiny), FullyConvVAE(channels=1, **tiny, **law)
    with_law.set_weights(plain.get_weights())
    return plain, with_law


def test_a_model_with_a_noise_law_smooths_its_grain_on_flat_areas_tiled_or_not():
    from vae_apps.denoising.full_resolution import denoise_full_resolution, denoise_with_samples

    law = ClippedPoissonGaussian(0.02, 0.0001)
    plain, with_law = _model_pair(clipped_noise=(0.02, 0.0001))
    noisy = law.sample(np.full((150, 170, 1), 0.4, "float32"), np.random.default_rng(1))
    unsmoothed = law.undo_shift(denoise_full_resolution(plain, noisy))
    smoothed = denoise_full_resolution(with_law, noisy)
    assert smoothed.var() < 0.8 * unsmoothed.var()
    np.testing.assert_allclose(denoise_full_resolution(with_law, noisy, tile=64), smoothed,
                               atol=1 / 255)
    sampled = denoise_with_samples(with_law, noisy, samples=2, keep=1)
    assert sampled.mean.var() < 0.8 * unsmoothed.var()
    # the uncertainty's terms read the output before the smoothing
    plain_mean = denoise_with_samples(plain, noisy, samples=2).mean
    np.testing.assert_allclose(sampled.output, law.undo_shift(plain_mean), atol=1e-6)
    # a draw is moved as their mean was: by the same difference
    draw = denoise_with_samples(plain, noisy, samples=2, keep=1).samples[0]
    np.testing.assert_allclose(sampled.samples[0] - draw,
                               sampled.mean - denoise_with_samples(plain, noisy, samples=2).mean,
                               atol=2e-3)
