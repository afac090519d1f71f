"""The law of noise clipped at black and white: its moments, its fit, undoing its shift."""

import numpy as np
import pytest

from vae_apps.denoising.clipped_noise import ClippedPoissonGaussian, fit_clipped_poisson_gaussian
from vae_apps.denoising.noise import parse_noise


def _noisy(clean, spec, seed=0):
    return parse_noise(spec).apply(np.asarray(clean, "float32")[None], seed=seed)[0]


# Clean values the moment tests draw 4,000 noisy values of each.
VALUES = np.array([0.0, 0.02, 0.3, 0.9, 0.97, 1.0], "float32")


def _assert_the_laws_moments(noisy, law):
    """``noisy`` (4,000 x len(VALUES)) has ``law``'s clipped mean and variance."""
    x, mean, variance = law.tables()
    # 4,000 draws a value: the sample mean is within ~0.005 of the law's
    np.testing.assert_allclose(noisy.mean(axis=0), np.interp(VALUES, x, mean), atol=0.006)
    np.testing.assert_allclose(noisy.var(axis=0), np.interp(VALUES, x, variance),
                               rtol=0.12, atol=2e-4)


@pytest.mark.parametrize("gain, sd", [(1 / 30, 0.0), (0.01, 0.02), (0.0, 0.05)])
def test_the_clipped_mean_and_variance_are_those_of_the_package_noise(gain, sd):
    spec = "+".join([f"poisson:{gain}"] * (gain > 0) + [f"gaussian:{sd}"] * (sd > 0))
    clean = np.broadcast_to(VALUES, (4000, len(VALUES)))[..., None]
    law = ClippedPoissonGaussian(gain, sd * sd)
    _assert_the_laws_moments(_noisy(clean, spec)[..., 0], law)
    x, mean, _ = law.tables()
    if gain:  # near white the noisy values average less than the clean one
        assert np.interp(1.0, x, mean) < 0.96


@pytest.mark.parametrize("gain, sd", [(1 / 30, 0.0), (0.01, 0.02), (1e-4, 0.01), (0.0, 0.05)])
def test_the_laws_own_draws_have_its_clipped_mean_and_variance(gain, sd):
    law = ClippedPoissonGaussian(gain, sd * sd)
    clean = np.broadcast_to(VALUES, (4000, len(VALUES)))
    noisy = law.sample(clean, np.random.default_rng(0))
    assert noisy.dtype == np.float32 and noisy.min() >= 0 and noisy.max() <= 1
    _assert_the_laws_moments(noisy, law)
    np.testing.assert_array_equal(noisy, law.sample(clean, np.random.default_rng(0)))


def test_unclipped_inverts_the_clipped_mean():
    law = ClippedPoissonGaussian(1 / 30, 0.02 ** 2)
    clean = np.linspace(0, 1, 101, dtype="float32")
    np.testing.assert_allclose(law.unclipped(law.clipped_mean(clean)), clean, atol=2e-3)
    assert law.unclipped(np.float32(0.999)) == 1.0  # beyond what white averages: white


def test_the_law_is_read_off_noisy_images_and_their_denoised_versions_alone():
    from skimage import data
    from skimage.transform import resize

    clean = resize(data.astronaut() / 255.0, (256, 256), anti_aliasing=True).astype("float32")
    for gain, sd in [(1 / 30, 0.0), (0.01, 0.02)]:
        spec = "+".join([f"poisson:{gain}"] + [f"gaussian:{sd}"] * (sd > 0))
        first, second = (_noisy(clean, spec, seed) for seed in range(2))
        # what an ideal noisy-only denoiser returns: what the noisy values average
        ideal = ClippedPoissonGaussian(gain, sd * sd).clipped_mean(clean)
        law = fit_clipped_poisson_gaussian([ideal], [first], [second])
        assert abs(law.gain - gain) < 0.2 * gain, (law.gain, gain)
        # What is undone: the clipped mean, within 2 grey levels of the true law's. Near
        # black, pure Poisson noise and a small Gaussian part clipped at 0 read alike (2
        # images: a Gaussian part of 3.7 grey levels, 1.5 grey levels at black).
        values = np.linspace(0, 1, 201, dtype="float32")
        true_law = ClippedPoissonGaussian(gain, sd * sd)
        assert np.abs(law.clipped_mean(values) - true_law.clipped_mean(values)).max() < 2 / 255


def test_too_uniform_images_give_no_law():
    flat = [np.full((40, 40, 1), 0.5, "float32")]
    assert fit_clipped_poisson_gaussian(flat, flat, flat) is None


def test_the_shift_is_undone_on_local_means_strip_by_strip_as_on_the_whole_image():
    law = ClippedPoissonGaussian(1 / 30, 0.0)
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(0.9, 0.05, (70, 50, 3)), 0, 1).astype("float32")
    whole = law.undo_shift(image, strip=1000)
    np.testing.assert_array_equal(law.undo_shift(image, strip=16), whole)
    assert whole.shape == image.shape and whole.dtype == np.float32
    assert whole.mean() > image.mean() + 0.03  # near white: moved up
    # mid-tones far from both ends keep their values
    middle = np.full((20, 20, 1), 0.4, "float32")
    np.testing.assert_allclose(law.undo_shift(middle), middle, atol=2e-3)


def test_a_model_carries_its_law_through_save_and_load_and_denoising_undoes_it(tmp_path):
    from vae_apps.denoising.full_resolution import denoise_full_resolution, denoise_with_samples
    from vae_apps.denoising.grain import GRAIN_LEVELS, grain_variance, smooth_grain
    from vae_apps.loading import load_vae
    from vae_apps.models.fully_conv import FullyConvVAE

    model = FullyConvVAE(channels=1, filters=8, latent_channels=4, blocks=(1, 1), seed=0,
                         clipped_noise=(1 / 30, 0.0))
    image = np.full((32, 32, 1), 0.93, "float32")
    model(image[None])
    model.save(tmp_path / "m.keras")
    loaded = load_vae(tmp_path / "m.keras")
    assert loaded.fitted.clipped_noise == pytest.approx((1 / 30, 0.0))
    plain = FullyConvVAE.from_config({**loaded.get_config(), "clipped_noise": None})
    plain.set_weights(loaded.get_weights())
    raw = denoise_full_resolution(plain, image)
    law = ClippedPoissonGaussian(1 / 30, 0.0)
    # then the grain it leaves on flat fields of that law is smoothed (grain.py)
    curve = grain_variance(lambda x: law.undo_shift(denoise_full_resolution(plain, x)), law, 1)
    finished = lambda x: smooth_grain(x, np.interp(x, GRAIN_LEVELS, curve))  # noqa: E731
    np.testing.assert_allclose(denoise_full_resolution(loaded, image),
                               finished(law.undo_shift(raw)), atol=1e-6)
    sampled = denoise_with_samples(loaded, image, samples=2, keep=2, seed=0)
    np.testing.assert_allclose(sampled.mean, finished(law.undo_shift(
        denoise_with_samples(plain, image, samples=2, seed=0).mean)), atol=1e-6)
    assert all(s.shape == image.shape for s in sampled.samples)
