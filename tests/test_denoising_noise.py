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
