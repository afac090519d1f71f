import numpy as np
import pytest

from vae_apps.errors import UserError
from vae_apps.denoising.noise import parse_noise

GREY = np.full((200, 16, 16, 1), 0.5, "float32")


def test_gaussian_has_the_requested_spread_and_is_clipped():
    out = parse_noise("gaussian:0.1").apply(GREY, seed=0)
    assert (out - GREY).std() == pytest.approx(0.1, rel=0.02)
    assert abs((out - GREY).mean()) < 0.005
    wide = parse_noise("gaussian:2").apply(GREY, seed=0)
    assert wide.min() == 0.0 and wide.max() == 1.0


@pytest.mark.parametrize("p", [0.1, 0.4])
def test_salt_pepper_flips_a_fraction_p_half_each_way(p):
    out = parse_noise(f"salt_pepper:{p}").apply(GREY, seed=0)
    assert (out == 0).mean() == pytest.approx(p / 2, abs=0.01)
    assert (out == 1).mean() == pytest.approx(p / 2, abs=0.01)


def test_mask_drops_a_fraction_p_to_zero():
    out = parse_noise("mask:0.3").apply(GREY, seed=0)
    assert (out == 0).mean() == pytest.approx(0.3, abs=0.01)
    assert set(np.unique(out)) == {0.0, 0.5}


def test_block_blacks_out_exactly_one_square_per_image():
    out = parse_noise("block:5").apply(GREY, seed=0)
    zeros = (out == 0).reshape(len(out), 16, 16)
    assert (zeros.sum(axis=(1, 2)) == 25).all()
    rows, cols = np.nonzero(zeros[0])
    assert rows.max() - rows.min() == 4 and cols.max() - cols.min() == 4
    corners = {tuple(np.argwhere(z)[0]) for z in zeros}
    assert len(corners) > 20  # positions vary


def test_block_larger_than_the_image_covers_it():
    out = parse_noise("block:40").apply(GREY[:3], seed=0)
    assert (out == 0).all()


@pytest.mark.parametrize("spec", ["gaussian:0.5", "salt_pepper:0.2", "mask:0.3", "block:4",
                                  "gaussian:0.2+mask:0.2"])
def test_same_seed_same_noise_other_seed_other_noise(spec):
    noise = parse_noise(spec)
    np.testing.assert_array_equal(noise.apply(GREY, seed=5), noise.apply(GREY, seed=5))
    assert not np.array_equal(noise.apply(GREY, seed=5), noise.apply(GREY, seed=6))


def test_combined_specs_apply_in_order():
    out = parse_noise("gaussian:0.1+mask:0.5").apply(GREY, seed=0)
    assert (out == 0).mean() == pytest.approx(0.5, abs=0.02)
    kept = out[out != 0]
    assert kept.std() == pytest.approx(0.1, rel=0.05)


@pytest.mark.parametrize("spec, message", [
    ("speckle:0.1", "unknown kind"), ("gaussian", "standard deviation"),
    ("gaussian:-1", "standard deviation"), ("mask:1.5", "fraction"), ("block:2.5", "square size"),
])
def test_malformed_specs_are_refused_with_the_reason(spec, message):
    with pytest.raises(UserError, match=message):
        parse_noise(spec)


def test_a_range_draws_one_level_per_image_within_it():
    out = parse_noise("gaussian:0.02-0.2").apply(GREY, seed=0)
    spreads = (out - GREY).reshape(len(GREY), -1).std(axis=1)
    assert spreads.min() > 0.015 and spreads.max() < 0.21
    assert spreads.max() - spreads.min() > 0.12  # levels differ from image to image
    np.testing.assert_array_equal(out, parse_noise("gaussian:0.02-0.2").apply(GREY, seed=0))
    fractions = (parse_noise("salt_pepper:0.1-0.3").apply(GREY, seed=1) != 0.5).mean(axis=(1, 2, 3))
    assert 0.07 < fractions.min() and fractions.max() < 0.33


@pytest.mark.parametrize("spec, message", [
    ("gaussian:0.2-0.1", "LOW < HIGH"), ("block:2-8", "one value"), ("mask:0.1-2", "fraction"),
])
def test_malformed_ranges_are_refused(spec, message):
    with pytest.raises(UserError, match=message):
        parse_noise(spec)


RAMP = np.tile(np.linspace(0.05, 0.95, 32, dtype="float32")[None, None, :, None], (64, 32, 1, 3))


def test_poisson_variance_grows_with_the_signal_and_its_mean_is_the_signal():
    gain = 0.005  # the brightest column used (0.63) stays 5 standard deviations below 1
    out = parse_noise(f"poisson:{gain}").apply(RAMP, seed=0)
    dark, bright = (out - RAMP)[..., 4, :], (out - RAMP)[..., 20, :]
    assert dark.var() == pytest.approx(gain * RAMP[0, 0, 4, 0], rel=0.1)
    assert bright.var() == pytest.approx(gain * RAMP[0, 0, 20, 0], rel=0.1)
    assert abs((out - RAMP)[..., :21, :].mean()) < 0.002


def test_poisson_gaussian_chain_adds_both_variances():
    out = parse_noise("poisson:0.01+gaussian:0.05").apply(RAMP, seed=0)
    middle = (out - RAMP)[..., 14:18, :]
    assert middle.var() == pytest.approx(0.01 * 0.5 + 0.05 ** 2, rel=0.1)


def test_correlated_noise_has_the_spread_and_is_correlated_in_space_and_across_channels():
    mid = np.full((64, 32, 32, 3), 0.5, "float32")
    noise = parse_noise("correlated:0.05").apply(mid, seed=0) - mid
    assert noise.std() == pytest.approx(0.05, rel=0.05)
    right = np.corrcoef(noise[:, :, :-1].ravel(), noise[:, :, 1:].ravel())[0, 1]
    across = np.corrcoef(noise[..., 0].ravel(), noise[..., 1].ravel())[0, 1]
    white = parse_noise("gaussian:0.05").apply(mid, seed=0) - mid
    assert right > 0.4 and across > 0.3
    assert abs(np.corrcoef(white[:, :, :-1].ravel(), white[:, :, 1:].ravel())[0, 1]) < 0.02


def test_jpeg_in_the_loop_matches_pil_and_subsampling_is_chosen_per_image():
    import io

    from PIL import Image

    photo = np.random.default_rng(0).random((1, 32, 32, 3)).astype("float32")
    photo = np.repeat(np.repeat(photo[:, ::4, ::4], 4, axis=1), 4, axis=2)  # blocky: JPEG keeps it
    for name, subsampling in (("jpeg420", 2), ("jpeg444", 0)):
        out = parse_noise(f"{name}:75").apply(photo, seed=0)[0]
        buffer = io.BytesIO()
        Image.fromarray(np.round(photo[0] * 255).astype("uint8")).save(
            buffer, "JPEG", quality=75, subsampling=subsampling)
        expected = np.asarray(Image.open(buffer), "float32") / 255
        np.testing.assert_array_equal(out, expected)
    mixed = parse_noise("jpeg:75").apply(np.repeat(photo, 40, axis=0), seed=0)
    kinds = {bytes(np.round(m * 255).astype("uint8")) for m in mixed}
    assert len(kinds) == 2  # both subsamplings occur
    grey = parse_noise("jpeg:60-95").apply(photo[..., :1], seed=0)
    assert grey.shape == (1, 32, 32, 1) and np.abs(grey - photo[..., :1]).max() > 0


def test_a_mixture_gives_each_image_one_chain():
    out = parse_noise("mask:1,gaussian:0.001-0.002").apply(GREY, seed=0)
    masked = (out == 0).all(axis=(1, 2, 3))
    assert 0.35 < masked.mean() < 0.65
    assert np.abs(out[~masked] - 0.5).max() < 0.02  # the others got the faint Gaussian
    np.testing.assert_array_equal(out, parse_noise("mask:1,gaussian:0.001-0.002").apply(GREY, seed=0))


def test_the_photo_mix_parses_and_leaves_some_patches_clean():
    from vae_apps.denoising.noise import PHOTO_NOISE

    x = np.repeat(RAMP[:1], 120, axis=0)
    out = parse_noise(PHOTO_NOISE).apply(x, seed=0)
    spread = (out - x).reshape(len(x), -1).std(axis=1)
    assert out.shape == x.shape and (spread < 0.004).mean() > 0.08 and spread.max() > 0.05


@pytest.mark.parametrize("spec, message", [
    ("poisson:0", "gain"), ("jpeg:101", "JPEG quality"), ("jpeg:abc", "JPEG quality"),
    ("gaussian:0.1,", "empty chain"),
])
def test_malformed_new_kinds_are_refused(spec, message):
    with pytest.raises(UserError, match=message):
        parse_noise(spec)
