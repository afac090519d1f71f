"""What the shipped photo presets must do on photos they never saw: leave clean photos
alone (colours included), lay no pattern at the networks' stride, and smooth more when
asked to (``--strength``). Inputs are crops of scikit-image photos held out from the
presets' training, and a saturated test card made here."""

import numpy as np
import pytest

from vae_apps.denoising.full_resolution import denoise_full_resolution
from vae_apps.denoising.presets import load_preset
from vae_apps.io.photos import bundled_photo


@pytest.fixture(scope="module")
def photo():
    return load_preset("photo")


def saturated_card():
    """Pure and mixed hues at full saturation, in soft-edged bands (96 x 96 x 3)."""
    hues = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1],
                     [1, .5, 0], [.2, .8, .1]], "float32")
    band = np.repeat(hues, 12, axis=0)[:, None, :]  # 96 rows
    shade = np.linspace(0.35, 1.0, 96, dtype="float32")[None, :, None]
    return np.clip(band * shade + 0.02, 0, 1).astype("float32")


def clean_inputs():
    return {"astronaut": bundled_photo("astronaut")[40:200, 120:280],
            "coffee": bundled_photo("coffee")[100:260, 200:360],
            "card": saturated_card(),
            "camera": bundled_photo("camera")[100:260, 150:310]}


@pytest.mark.parametrize("name", ["astronaut", "coffee", "card", "camera"])
def test_a_clean_photo_comes_back_unchanged_in_colour_and_detail(photo, name):
    clean = clean_inputs()[name]
    out = denoise_full_resolution(photo, clean)
    shift = np.abs((out - clean).mean(axis=(0, 1))) * 255  # per channel, grey levels
    psnr = 10 * np.log10(1 / np.mean((out - clean) ** 2))
    assert shift.max() < 0.5, f"{name}: mean colour shift {shift.round(2)} grey levels"
    assert psnr >= 40, f"{name}: {psnr:.1f} dB from its clean input"


def _period_peaks(difference, periods=(2, 4)):
    """For each frequency of the given pixel periods (rows, columns, diagonal): its power
    relative to the median power around it, and its amplitude in grey levels of 255."""
    spectrum = np.abs(np.fft.fft2(difference, axes=(0, 1))) ** 2
    spectrum = spectrum.mean(axis=-1)
    size = spectrum.shape[0]
    ratios, amplitudes = [], []
    for period in periods:
        k = size // period
        for fy, fx in ((k, 0), (0, k), (k, k)):
            window = spectrum[np.ix_(np.arange(fy - 3, fy + 4) % size, np.arange(fx - 3, fx + 4) % size)]
            ratios.append(spectrum[fy, fx] / (np.median(window) + 1e-12))
            amplitudes.append(np.sqrt(spectrum[fy, fx]) / size ** 2 * 255)
    return np.array(ratios), np.array(amplitudes)


@pytest.mark.parametrize("kind", ["astronaut", "chelsea", "coffee", "flat"])
def test_no_periodic_pattern_at_the_networks_stride(photo, kind):
    size = 128
    corners = {"astronaut": (200, 200), "chelsea": (50, 100), "coffee": (100, 200)}
    if kind == "flat":
        image = np.full((size, size, 3), 0.45, "float32")
    else:
        top, left = corners[kind]
        image = bundled_photo(kind)[top:top + size, left:left + size]
    difference = denoise_full_resolution(photo, image) - image
    ratios, amplitudes = _period_peaks(difference)
    # On a clean photo the difference is tiny, so a peak's height over its surroundings
    # says little: the preset before camera noise peaked at 15x (astronaut), 45x (chelsea)
    # and 2x (coffee) here, at 0.016, 0.043 and 0.001 grey levels (given the whole
    # estimated level: 0.019, 0.093 and 0.040); the camera-noise preset, given 80 % of the
    # level read below 6.5 grey levels, peaked on chelsea at 0.099 (171x). What must not be
    # there is a peak an 8-bit file or an eye could show: any peak 10x above its
    # surroundings stays under 0.15 grey levels (an 8-bit file rounds to whole ones). On a
    # flat image the rest of the spectrum is ~0: under half a grey level.
    if kind != "flat":
        assert amplitudes[ratios >= 10].max(initial=0.0) < 0.15, (ratios.round(1), amplitudes.round(3))
    assert amplitudes.max() < 0.5, amplitudes.round(3)


def test_strength_smooths_monotonically_and_the_default_is_the_estimate(photo):
    clean = bundled_photo("coffee")[100:228, 200:328]
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 0.06, clean.shape), 0, 1
                    ).astype("float32")
    changes = [np.abs(denoise_full_resolution(photo, noisy, strength=s) - noisy).mean()
               for s in (0.25, 0.5, 1.0, 2.0, 4.0)]
    assert all(a < b for a, b in zip(changes, changes[1:])), changes
    model = photo.for_channels(3)
    from vae_apps.denoising.full_resolution import estimate_noise_level, estimate_noise_level_map

    level = estimate_noise_level(model, noisy)
    assert 0.03 < level < 0.1  # the noise is 0.06
    levels, whole = estimate_noise_level_map(model, noisy)
    assert whole == pytest.approx(level) and levels.shape == noisy.shape[:2]
    np.testing.assert_allclose(denoise_full_resolution(photo, noisy),
                               denoise_full_resolution(photo, noisy, noise_level=levels), atol=1e-6)


def test_an_estimated_low_level_is_shared_out_and_a_given_level_is_not(photo):
    from vae_apps.denoising.full_resolution import estimate_noise_level_map, estimated_level_share

    levels = np.linspace(0, 30 / 255, 61)
    given = [estimated_level_share(level) for level in levels]
    assert all(a <= b for a, b in zip(given, given[1:]))  # more noise read, more removed
    # clean baboon's grain, read as 4.2 grey levels: the preset is given 3.8 (40.6 dB from
    # the clean scan; given the whole 4.2, 39.6)
    assert estimated_level_share(4.2 / 255) <= 3.8 / 255
    assert estimated_level_share(20 / 255) == pytest.approx(20 / 255)  # real noise: whole
    np.testing.assert_allclose(estimated_level_share(np.array([[5.3, 20]]) / 255),
                               [[estimated_level_share(5.3 / 255), 20 / 255]], rtol=1e-6)
    clean = bundled_photo("coffee")[100:228, 200:328]
    model = photo.for_channels(3, noise_level=True)
    level_map, _ = estimate_noise_level_map(model, clean)
    np.testing.assert_allclose(
        denoise_full_resolution(photo, clean),
        denoise_full_resolution(model, clean, noise_level=estimated_level_share(level_map)),
        atol=1e-6)
    np.testing.assert_allclose(denoise_full_resolution(photo, clean, noise_level=0.02),
                               denoise_full_resolution(model, clean, noise_level=0.02), atol=1e-6)


def test_with_a_strength_grey_photos_go_to_the_colour_preset_when_the_grey_one_takes_no_level(photo):
    grey = bundled_photo("camera")[100:196, 150:246]
    noisy = np.clip(grey + np.random.default_rng(1).normal(0, 0.05, grey.shape), 0, 1).astype("float32")
    out = denoise_full_resolution(photo, noisy, strength=0.5)
    assert out.shape == grey.shape
    if not getattr(photo.for_channels(1), "noise_level_input", False):
        from vae_apps.denoising.full_resolution import (estimate_noise_level_map,
                                                        estimated_level_share)

        colour = photo.for_channels(3)
        level = estimated_level_share(estimate_noise_level_map(colour, np.repeat(noisy, 3, axis=-1))[0])
        np.testing.assert_allclose(
            out, denoise_full_resolution(colour, noisy, noise_level=0.5 * level), atol=1e-6)


def test_a_whole_clean_grey_photo_keeps_its_fine_detail(photo):
    # camera's grass and coat edges: the blind grey model alone smoothed them to 35.4 dB;
    # the removal bound at the photo's estimated level keeps them.
    clean = bundled_photo("camera")
    out = denoise_full_resolution(photo, clean)
    psnr = 10 * np.log10(1 / np.mean((out - clean) ** 2))
    assert psnr >= 40, f"{psnr:.1f} dB from its clean input"


def test_the_removal_bound_keeps_noise_removal_on_noisy_grey_photos(photo):
    clean = bundled_photo("camera")[100:356, 100:356]
    noisy = np.clip(clean + np.random.default_rng(2).normal(0, 25 / 255, clean.shape), 0, 1
                    ).astype("float32")
    bounded = denoise_full_resolution(photo, noisy)
    alone = denoise_full_resolution(photo.for_channels(1), noisy)  # the blind model, unbounded
    psnr = lambda out: 10 * np.log10(1 / np.mean((out - clean) ** 2))  # noqa: E731
    assert psnr(bounded) > psnr(alone) - 0.3, (psnr(bounded), psnr(alone))
    assert psnr(bounded) > psnr(noisy) + 6


def test_removal_gain_passes_noise_and_stops_removing_structure():
    from vae_apps.denoising.full_resolution import removal_gain
    from scipy.ndimage import gaussian_filter

    clean = bundled_photo("camera")[:128, :128]
    sigma = 20 / 255
    noisy = clean + np.random.default_rng(0).normal(0, sigma, clean.shape).astype("float32")
    # removing exactly the noise stays (almost) whole
    assert removal_gain(noisy, clean, sigma).mean() > 0.85
    # removing structure from a clean image is cut down to the level
    blurred = gaussian_filter(clean, (2, 2, 0))
    gain = removal_gain(clean, blurred, 1 / 255)
    limited = clean - gain * (clean - blurred)
    assert np.sqrt(np.mean((limited - clean) ** 2)) < 1.5 / 255
    assert np.sqrt(np.mean((blurred - clean) ** 2)) > 3 / 255  # what the blur removed


def test_the_removal_bound_follows_shot_noise_up_the_brightness_but_not_texture():
    from vae_apps.denoising.full_resolution import _level_by_brightness

    # a ramp from dark to bright with shot noise: what was removed grows with brightness
    ramp = np.tile(np.linspace(0.05, 0.95, 256, dtype="float32"), (128, 1))[..., None]
    shot = np.sqrt(0.01 * ramp[..., 0])
    read = _level_by_brightness(shot, ramp)
    assert read[:, -8:].mean() > 2.5 * read[:, :8].mean()
    # a low percentile of each band: near the level, never above it (0.8-0.97 of it)
    ratio = read[:, 32:] / shot[:, 32:]
    assert 0.75 < ratio.min() and ratio.max() <= 1.0 + 1e-6, (ratio.min(), ratio.max())
    # texture filling a third of a brightness band stays under its band's low percentile
    removed = np.full((128, 256), 2 / 255, "float32")
    removed[:, 100:130] = 12 / 255  # one band spans about 32 columns of the ramp
    assert _level_by_brightness(removed, ramp).max() < 2.5 / 255


def test_local_means_are_kept_at_low_noise_levels_and_left_to_the_model_at_high_ones():
    from vae_apps.denoising.full_resolution import MEAN_KEEPING_LEVELS, keep_local_means

    rng = np.random.default_rng(0)
    clean = bundled_photo("coffee")[:96, :96]
    cast = np.clip(clean + np.array([-1.0, 0.0, 0.8], "float32") / 255, 0, 1)  # a faint cast
    kept = keep_local_means(clean, cast, 2 / 255)
    assert np.abs((kept - clean).mean(axis=(0, 1))).max() * 255 < 0.05
    # noise removed exactly (zero local mean) stays removed
    noisy = clean + rng.normal(0, 3 / 255, clean.shape).astype("float32")
    kept = keep_local_means(noisy, clean, 3 / 255)
    assert np.sqrt(np.mean((kept - clean) ** 2)) < 0.2 / 255
    # from the upper level on, the model's output is returned as it is
    assert keep_local_means(clean, cast, MEAN_KEEPING_LEVELS[1]) is cast


def test_a_clean_photo_on_a_dark_background_keeps_its_colours(photo):
    # a fundus photo (one of the presets' training photos: training fits no channel mean):
    # a quarter of it near black, where the shipped colour model alone darkened the red
    # channel by 1.1 grey levels (a clean image read as clipped noise)
    clean = bundled_photo("retina")[::4, ::4]
    out = denoise_full_resolution(photo, clean)
    shift = np.abs((out - clean).mean(axis=(0, 1))) * 255
    assert shift.max() < 0.5, shift.round(2)


def test_local_means_on_blocks_match_a_full_resolution_filter_at_any_size():
    from scipy.ndimage import gaussian_filter

    from vae_apps.denoising.full_resolution import MEAN_WINDOW, expected_clipped, keep_local_means

    clean = bundled_photo("astronaut")[:301, :263]  # sizes that are not multiples of a block
    cast = np.clip(clean + gaussian_filter(np.random.default_rng(0).normal(0, 0.05, clean.shape),
                                           (20, 20, 0)), 0, 1).astype("float32")
    level = 2 / 255
    kept = keep_local_means(clean, cast, level)
    reference = np.clip(cast + gaussian_filter(clean - expected_clipped(cast, level),
                                               (MEAN_WINDOW, MEAN_WINDOW, 0), mode="reflect"), 0, 1)
    assert kept.shape == clean.shape and kept.dtype == np.float32
    assert np.abs(kept - reference).max() < 0.5 / 255
