import numpy as np
import pytest
import tensorflow as tf

from vae_apps.denoising import camera
from vae_apps.denoising.noise import parse_noise
from vae_apps.errors import UserError


@pytest.fixture(scope="module")
def patches():
    import skimage.data

    photo = skimage.data.astronaut().astype("float32") / 255.0
    return np.stack([photo[r:r + 64, c:c + 64] for r in (40, 200, 300) for c in (60, 220)])


def test_unprocess_then_process_gives_the_patch_back_within_one_grey_level(patches):
    for seed in range(3):  # every tone curve, colour matrix and white balance drawn
        cam = camera.random_camera(len(patches), tf.constant([seed, 7]))
        back = camera.process(camera.unprocess(patches, cam), cam).numpy()
        assert np.abs(back - patches).max() * 255 < 1.0
    assert len(set(cam["curve"].numpy())) > 1


@pytest.mark.parametrize("method", [camera.demosaic_bilinear, camera.demosaic_malvar])
def test_demosaicing_a_mosaic_of_one_colour_gives_that_colour_back(method):
    colour = np.ones((2, 16, 18, 3), "float32") * np.array([0.2, 0.55, 0.8], "float32")
    out = method(camera.mosaic(colour)).numpy()
    np.testing.assert_allclose(out, colour, atol=1e-6)


def test_mosaic_keeps_one_colour_per_pixel_in_rggb_order():
    raw = np.stack([np.full((4, 4), v, "float32") for v in (0.1, 0.5, 0.9)], -1)[None]
    bayer = camera.mosaic(raw).numpy()[0, ..., 0]
    np.testing.assert_allclose(bayer[:2, :2], [[0.1, 0.5], [0.5, 0.9]])


def test_sensor_noise_variance_follows_brightness_as_drawn():
    shot, read = np.float32(0.004), np.float32(0.0001)
    for level in (0.1, 0.3, 0.6):  # 4.5 standard deviations or more from 0 and 1: unclipped
        raw = np.full((1, 256, 256, 1), level, "float32")
        out = camera.add_sensor_noise(raw, tf.constant([shot]), tf.constant([read]),
                                      tf.constant([0, 1])).numpy()
        assert out.var() == pytest.approx(shot * level + read, rel=0.05)


def test_read_noise_follows_the_log_linear_relation_to_shot_noise():
    shot = tf.fill([4000], 1e-3)
    log_read = np.log(camera.read_noise(shot, tf.constant([0, 1])).numpy())
    slope, intercept, spread = camera.READ_FROM_SHOT
    assert log_read.mean() == pytest.approx(slope * np.log(1e-3) + intercept, abs=0.02)
    assert log_read.std() == pytest.approx(spread, rel=0.05)


def test_camera_noise_is_stronger_in_the_dark_and_grows_with_the_shot_level(patches):
    flat = np.concatenate([np.full((8, 64, 64, 3), v, "float32") for v in (0.15, 0.85)])
    low = parse_noise("camera:0.0005").apply(flat, seed=0) - flat
    high = parse_noise("camera:0.01").apply(flat, seed=0) - flat
    assert high.std() > 2 * low.std()
    # after the tone curve the same raw noise is larger in the shadows than in the highlights
    assert high[:8].std() > high[8:].std()


def test_camera_noise_below_black_is_kept_so_dark_patches_get_no_cast():
    # Noise clipped at the sensor's black lifted dark patches, red and blue most (after
    # white balance): a magenta cast the preset learnt to remove, which turned SIDD's dark
    # purple crops grey. Real noisy files average darker than their references, not lighter.
    flat = np.full((16, 64, 64, 3), 0.1, "float32") * np.array([1.0, 0.8, 0.9], "float32")
    cam = camera.random_camera(16, tf.constant([0, 9]))
    cam["jpeg"] = tf.zeros_like(cam["jpeg"])
    out = camera.camera_noise(flat, 0.01, tf.constant([0, 3]), camera=cam).numpy()
    assert (out - flat).std() * 255 > 20  # strong noise, where the clipping showed
    red, green, blue = (out - flat).mean(axis=(0, 1, 2)) * 255  # clipped: 9.6, 0.9, 6.3
    assert max(red, green, blue) < 2 and (red + blue) / 2 - green < 1.5
    raw = np.full((1, 64, 64, 1), 0.002, "float32")
    noisy = camera.add_sensor_noise(raw, tf.constant([0.01]), tf.constant([1e-4]),
                                    tf.constant([0, 1])).numpy()
    assert noisy.min() < 0 and abs(noisy.mean() - 0.002) < 0.001


def test_camera_noise_is_seeded_and_keeps_the_clean_content(patches):
    noise = parse_noise("camera:0.0001-0.012")
    first, again = noise.apply(patches, seed=3), noise.apply(patches, seed=3)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, noise.apply(patches, seed=4))
    # noise, not a colour change: the channel means of patches away from black stay those
    # of the clean patch
    bright = patches.mean(axis=(1, 2)).min(axis=1) > 0.25
    mild = parse_noise("camera:0.001").apply(patches[bright], seed=3)
    shift = np.abs(mild.mean(axis=(1, 2)) - patches[bright].mean(axis=(1, 2))) * 255
    assert bright.sum() >= 3 and shift.mean() < 1.0 and shift.max() < 3


def test_jpeg_is_in_the_loop_where_the_camera_saves_one(patches):
    cam = camera.random_camera(len(patches), tf.constant([0, 1]))
    cam["chroma_blur"] = tf.zeros_like(cam["chroma_blur"])
    as_png, as_jpeg = dict(cam, jpeg=tf.zeros_like(cam["jpeg"])), dict(cam, jpeg=tf.ones_like(cam["jpeg"]))
    png = camera.camera_noise(patches, 0.002, tf.constant([0, 2]), camera=as_png).numpy()
    jpeg = camera.camera_noise(patches, 0.002, tf.constant([0, 2]), camera=as_jpeg).numpy()
    np.testing.assert_allclose(png * 255, np.round(png * 255), atol=1e-3)  # 8-bit values
    # JPEG at quality 70-98 with 4:2:0 chroma: the noisy image's blocks coded, so that
    # coding it again at the same quality changes it far less than the first coding did
    from vae_apps.denoising.jpeg import SUBSAMPLING, jpeg_round_trip

    again = jpeg_round_trip(jpeg, cam["quality"].numpy(), np.array([0, 3]), SUBSAMPLING["420"])
    first_change = np.abs(jpeg - png).mean()
    assert first_change * 255 > 0.5
    assert np.abs(again - jpeg).mean() < 0.5 * first_change


def test_grey_images_get_grey_camera_noise():
    grey = np.full((2, 32, 32, 1), 0.4, "float32")
    out = parse_noise("camera:0.005").apply(grey, seed=0)
    assert out.shape == grey.shape and out.std() > 0.005


def test_a_mixture_may_give_the_camera_chain_no_image_of_a_batch():
    out = parse_noise("camera:0.001,gaussian:0.1").apply(np.full((1, 16, 16, 3), 0.5, "float32"))
    assert out.shape == (1, 16, 16, 3)


def test_a_log_uniform_range_needs_a_positive_low_end():
    with pytest.raises(UserError, match="log-uniformly"):
        parse_noise("camera:0-0.01")



def test_the_photo_mix_holds_camera_noise_for_a_third_of_its_patches():
    from vae_apps.denoising.noise import camera as camera_kind

    chains = parse_noise("photo").chains
    assert sum(any(fn is camera_kind for fn, _ in chain) for chain in chains) / len(chains) == pytest.approx(1 / 3)


@pytest.mark.parametrize("shot", [0.0005, 0.002, 0.008])
def test_the_colour_preset_reads_camera_noise_within_a_quarter_of_its_level(shot):
    import skimage.data

    from vae_apps.denoising.full_resolution import estimate_noise_level
    from vae_apps.denoising.presets import load_preset

    model = load_preset("photo-rgb")
    for k, name in enumerate(("astronaut", "coffee", "chelsea")):
        clean = getattr(skimage.data, name)().astype("float32")[:256, :256] / 255.0
        noisy = parse_noise(f"camera:{shot}").apply(clean[None], seed=k)[0]
        true = float((noisy - clean).std())
        assert estimate_noise_level(model, noisy) == pytest.approx(true, rel=0.25), name


def test_the_level_map_follows_a_noise_level_that_varies_over_the_image():
    from vae_apps.denoising.full_resolution import LEVEL_MAP_BOUNDS, estimate_noise_level_map
    from vae_apps.denoising.presets import load_preset

    clean = np.full((128, 256, 3), 0.5, "float32")
    sigma = np.where(np.arange(256) < 128, 12 / 255, 6 / 255).astype("float32")[None, :, None]
    noisy = np.clip(clean + sigma * np.random.default_rng(0).normal(size=clean.shape), 0, 1)
    levels, whole = estimate_noise_level_map(load_preset("photo-rgb"), noisy.astype("float32"))
    assert levels.shape == (128, 256)
    assert levels[:, :64].mean() > 1.2 * levels[:, -64:].mean()  # more where there is more
    low, high = LEVEL_MAP_BOUNDS
    assert low * whole - 1e-6 <= levels.min() <= levels.max() <= high * whole + 1e-6


def test_a_strength_above_one_removes_more_grain_and_keeps_the_colours():
    import skimage.data
    from scipy.ndimage import gaussian_filter

    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.denoising.presets import load_preset

    photo = load_preset("photo")
    clean = skimage.data.coffee().astype("float32")[100:228, 200:328] / 255.0
    noisy = parse_noise("camera:0.001").apply(clean[None], seed=0)[0]
    plain, strong = (denoise_full_resolution(photo, noisy, strength=s) for s in (1.0, 2.0))
    # local means over 16 pixels away from the borders: 0.6 grey levels apart at most (without
    # the means kept: 10.6 over 8 pixels, the whole crop's blue 2.6 grey levels lower)
    means = lambda x: gaussian_filter(x, (16, 16, 0))[16:-16, 16:-16]
    assert np.abs(means(strong) - means(plain)).max() * 255 < 1.0
    assert np.abs(strong.mean(axis=(0, 1)) - plain.mean(axis=(0, 1))).max() * 255 < 0.3
    assert np.abs(strong - noisy).mean() > np.abs(plain - noisy).mean()


def test_coarse_camera_noise_is_removed_at_a_higher_strength_and_white_noise_is_not():
    import skimage.data

    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.denoising.levels import (CAMERA_NOISE_STRENGTH, camera_noise_strength,
                                           estimate_noise_level_map, estimated_level_share,
                                           noise_coarseness)
    from vae_apps.denoising.presets import load_preset

    photo = load_preset("photo")
    model = photo.for_channels(3)
    clean = skimage.data.astronaut().astype("float32")[:192, 160:352] / 255.0
    white = parse_noise("gaussian:0.08").apply(clean[None], seed=0)[0]
    camera_noisy = parse_noise("camera:0.01").apply(clean[None], seed=0)[0]
    # white noise halves in a 2 x 2 mean, a camera's (correlated) noise does not
    assert noise_coarseness(model, white)[0] < 1.15 < 1.3 < noise_coarseness(model, camera_noisy)[0]
    assert camera_noise_strength(model, white) == 1.0
    assert camera_noise_strength(model, clean) == 1.0  # faint readings: texture, not noise
    assert camera_noise_strength(model, camera_noisy) == pytest.approx(CAMERA_NOISE_STRENGTH)
    as_read, _ = estimate_noise_level_map(model, camera_noisy)
    at_read = denoise_full_resolution(photo, camera_noisy, noise_level=estimated_level_share(as_read))
    default = denoise_full_resolution(photo, camera_noisy)
    assert np.abs(default - camera_noisy).mean() > np.abs(at_read - camera_noisy).mean()
    np.testing.assert_allclose(denoise_full_resolution(photo, white),
                               denoise_full_resolution(photo, white, noise_level=estimated_level_share(
                                   estimate_noise_level_map(model, white)[0])), atol=1e-6)
