"""The noise level a model that takes one is given, read off the image by its estimator:
one level for the whole image, a map per region, and the photo presets' share of it."""

import numpy as np

from vae_apps.denoising.tiles import TILE, TILE_MARGIN, windows

# The level a photo preset's model is given varies over the image (estimate_noise_level_map):
# real camera noise is weaker in the highlights (SIDD's crops: 4-18 grey levels in their
# brightest fifth, 8-40 below it), and a scene's flat parts tell its level better than its
# textures.
# The calibrated median of the estimator's map on blocks of LEVEL_BLOCK pixels, kept within
# LEVEL_MAP_BOUNDS times the whole image's level: more than a quarter above it, the blocks
# read texture (fur, foliage) as noise and clean photos lose detail; below it, smooth and
# bright parts keep theirs. With the camera-noise preset after its first 12 epochs and the
# share of that time (0.8), against one level for the whole image: 12 SIDD phone crops 31.26 ->
# 31.47 dB, noise left on flat areas of 11 DND crops 0.36 -> 0.32 of the input's, clean
# held-out photos 40.6 -> 40.5 dB at worst, held-out photos with Gaussian sigma 25 30.68 ->
# 30.73 (docs/denoising.md, "What was measured on the way").
LEVEL_BLOCK = 64
LEVEL_MAP_BOUNDS = (0.5, 1.25)
# The estimator reads a clean scan's grain as noise (clean baboon: 5.3 grey levels with the
# preset before camera noise kept its noise below black, 4.2 since), so an estimated level
# is shared out: ESTIMATED_LEVEL_SHARE of it below 6.5 grey levels, rising linearly to the
# whole level at 13. With 55 % the noise of DND's low-ISO camera crops was left in place
# (0.47 of it on flat areas, 0.36 with 80 %) and SIDD came to 30.87 dB instead of 31.26.
# With today's preset (the eight held-out colour photos; clean: worst / mean dB from the
# clean photo; Gaussian sigma 5: mean, and the smoothest photo, smarties, where NL-means
# gives 40.90; 33 DND crops' noise left on flat areas):
#   80 %: clean 41.81 / 48.90, sigma 5 38.09, smarties 40.47, DND 0.254
#   90 %: clean 40.64 / 48.00, sigma 5 38.34, smarties 41.01, DND 0.227 (kept)
#   100 %: clean 39.59 / 47.21, sigma 5 38.48, smarties 41.43, DND 0.204
# The limit is baboon's grain, 40 dB. A level the user gives (--sigma) is not shared out;
# --strength multiplies the shared level.
ESTIMATED_LEVEL_SHARE = 0.9
ESTIMATED_LEVEL_SHARED_BELOW = (6.5 / 255, 13 / 255)
# Real camera noise is removed at CAMERA_NOISE_STRENGTH times the level read off the image
# (camera_noise_strength), where the noise is coarse as a camera's is: 2 x the level read
# off the image averaged over 2 x 2 pixels, over the level read off the image itself, is
# about 1 for white noise (Gaussian sigma 25 on nine held-out photos: 0.84-1.13) and 1.3-2.1
# for camera noise (the pipeline's on the same photos; 12 SIDD phone crops 1.34-1.71, 33
# DND camera crops 1.27-2.05). The colour preset, trained on the pipeline's noise, is best
# at the level as read on that noise (after its fifth training step; eight training photos,
# shot 0.003 and 0.01: 33.59 / 30.39 dB at 1, 33.31 / 29.85 at 1.25), but leaves real
# camera noise behind: on the SIDD crops 33.57 dB at 1, 35.07 at 1.25, 34.97 at 1.5, 1.25
# or 1.5 best on every crop; on three DSLRs' crops at ISO 1600-6400 the preset before
# camera noise joined its training gained 0.9 dB at --strength 2.
# The strength rises between the ends of CAMERA_NOISE_COARSENESS and only where the level
# is above ESTIMATED_LEVEL_SHARED_BELOW's first end (below it, texture shows in the
# reading: clean photos read 1.7-2.3).
CAMERA_NOISE_STRENGTH = 1.25
CAMERA_NOISE_COARSENESS = (1.15, 1.3)


def estimate_noise_level(model, pixels, tile=TILE, margin=TILE_MARGIN):
    """The noise standard deviation (0-1 scale) a noise-level model's estimator reads
    off one H x W x C image: the median of its map over the whole image, tile by tile,
    calibrated (``FullyConvVAE.calibrated``).

    The median, not the mean: noise is everywhere, texture is not. On clean held-out
    photos the map's mean said 3.4-12.8 grey levels (fur, foliage and edges look like
    noise locally) and its median 1.0-2.0 on all but the baboon; on noisy ones both
    agree within 0.5 grey levels of the true sigma (10, 25, 50 of 255).

    Examples:
    >>> round(255 * estimate_noise_level(model, noisy_photo))  # doctest: +SKIP
    25
    """
    return float(model.calibrated(np.median(estimator_map(model, pixels, tile, margin))))


def estimator_map(model, pixels, tile=TILE, margin=TILE_MARGIN):
    """The estimator's map of the whole image at half resolution, tile by tile."""
    height, width = pixels.shape[:2]
    out = np.empty((-(-height // 2), -(-width // 2)), "float32")
    for window, (h, w), crop, (top, left) in windows(pixels, model.stride, tile, margin):
        level = model.noise_level_map(window[None])[0]
        out[top // 2:top // 2 + -(-h // 2), left // 2:left // 2 + -(-w // 2)] = (
            level[crop // 2:crop // 2 + -(-h // 2), crop // 2:crop // 2 + -(-w // 2)])
    return out


def estimate_noise_level_map(model, pixels, tile=TILE, margin=TILE_MARGIN, block=LEVEL_BLOCK,
                             bounds=None):
    """The noise level per region: the calibrated median of the estimator's map on
    blocks of ``block`` x ``block`` pixels, kept within ``bounds`` times the whole
    image's level (default ``LEVEL_MAP_BOUNDS``), brought to full resolution (bilinear).
    Camera noise is weaker in the highlights than in the mid-tones and shadows; one
    level for the whole image over-smooths the one or under-smooths the others.

    Returns:
        (level map H x W float32, the whole image's level): 0-1 scale.

    Examples:
    >>> levels, level = estimate_noise_level_map(model, noisy_photo)
    """
    from scipy.ndimage import zoom

    half = estimator_map(model, pixels, tile, margin)
    whole = float(model.calibrated(np.median(half)))
    cell = max(1, block // 2)
    rows, cols = -(-half.shape[0] // cell), -(-half.shape[1] // cell)
    padded = np.pad(half, ((0, rows * cell - half.shape[0]), (0, cols * cell - half.shape[1])),
                    mode="symmetric")
    medians = np.median(padded.reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3)
                        .reshape(rows, cols, -1), axis=-1)
    low, high = LEVEL_MAP_BOUNDS if bounds is None else bounds
    local = np.clip(model.calibrated(medians), low * whole, high * whole)
    height, width = pixels.shape[:2]
    full = zoom(local.astype("float32"), (block, block), order=1, grid_mode=True, mode="nearest")
    return np.ascontiguousarray(full[:height, :width], "float32"), whole


def estimated_level_share(level, share=ESTIMATED_LEVEL_SHARE, below=ESTIMATED_LEVEL_SHARED_BELOW):
    """The part of an estimated noise level (0-1 scale) a photo preset's model is given:
    ``share`` of it below ``below[0]``, the whole level from ``below[1]`` on, linear between.

    Examples:
    >>> round(255 * estimated_level_share(4 / 255), 2), 255 * estimated_level_share(25 / 255)
    (2.2, 25.0)
    """
    shared = np.asarray(level, "float32") * (share + (1.0 - share) * _ramp(level, below))
    return float(shared) if shared.ndim == 0 else shared.astype("float32")


def noise_coarseness(model, pixels, tile=TILE, margin=TILE_MARGIN, level=None):
    """How coarse an image's noise is: twice the level read off the image averaged over
    2 x 2 pixels, over the level read off the image (``estimate_noise_level``). White
    noise halves its standard deviation in a 2 x 2 mean (about 1); a camera's noise,
    correlated over neighbouring pixels by demosaicing and its processing, less (1.3-2.1).

    Args:
        level: float or None. The level already read off ``pixels``
            (``estimate_noise_level``); None reads it.

    Returns:
        (coarseness, the level read off the image on the 0-1 scale).

    Examples:
    >>> coarseness, level = noise_coarseness(model, photo_with_gaussian_noise)
    >>> round(coarseness, 1)  # doctest: +SKIP
    1.0
    """
    height, width = (side - side % 2 for side in pixels.shape[:2])
    pooled = pixels[:height, :width].reshape(height // 2, 2, width // 2, 2, -1).mean(axis=(1, 3))
    if level is None:
        level = estimate_noise_level(model, pixels, tile, margin)
    return 2.0 * estimate_noise_level(model, pooled, tile, margin) / max(level, 1e-6), level


def camera_noise_strength(model, pixels, tile=TILE, margin=TILE_MARGIN, level=None):
    """The factor (1 to ``CAMERA_NOISE_STRENGTH``) a photo preset's colour model's level
    is multiplied by on ``pixels``: rising with ``noise_coarseness`` between the ends of
    ``CAMERA_NOISE_COARSENESS``, and with the level read between the ends of
    ``ESTIMATED_LEVEL_SHARED_BELOW`` (1 for white noise, clean photos and faint noise).
    ``level``: as ``noise_coarseness``.

    Examples:
    >>> camera_noise_strength(model, phone_photo)  # doctest: +SKIP
    1.25
    """
    if min(pixels.shape[:2]) < 16:  # too small to read at half size
        return 1.0
    coarseness, level = noise_coarseness(model, pixels, tile, margin, level)
    weight = _ramp(coarseness, CAMERA_NOISE_COARSENESS) * _ramp(level, ESTIMATED_LEVEL_SHARED_BELOW)
    return 1.0 + (CAMERA_NOISE_STRENGTH - 1.0) * float(weight)


def _ramp(value, ends):
    """0 up to ``ends[0]``, 1 from ``ends[1]`` on, linear between (arrays elementwise)."""
    return np.clip((np.asarray(value, "float32") - ends[0]) / (ends[1] - ends[0]), 0.0, 1.0)
