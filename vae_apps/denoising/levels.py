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
# share below (0.8), against one level for the whole image: 12 SIDD phone crops 31.26 ->
# 31.47 dB, noise left on flat areas of 11 DND crops 0.36 -> 0.32 of the input's, clean
# held-out photos 40.6 -> 40.5 dB at worst, held-out photos with Gaussian sigma 25 30.68 ->
# 30.73 (docs/denoising.md, "What was measured on the way").
LEVEL_BLOCK = 64
LEVEL_MAP_BOUNDS = (0.5, 1.25)
# The estimator reads a clean scan's grain as noise (clean baboon: 5.3 grey levels), so an
# estimated level is shared out: 80 % of it below 6.5 grey levels, rising linearly to the
# whole level at 13. The preset trained with camera noise keeps clean baboon at 41.4 dB when
# given 4 grey levels (the one before it: 39.1), so it needs less of a cut than the 55 % it
# had: with 55 % the noise of DND's low-ISO camera crops was left in place (0.47 of it on
# flat areas, 0.36 with 80 %) and SIDD came to 30.87 dB instead of 31.26. A level the user
# gives (--sigma) is not shared out; --strength multiplies the shared level.
ESTIMATED_LEVEL_SHARE = 0.8
ESTIMATED_LEVEL_SHARED_BELOW = (6.5 / 255, 13 / 255)


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
    rise = np.clip((np.asarray(level, "float32") - below[0]) / (below[1] - below[0]), 0.0, 1.0)
    shared = np.asarray(level, "float32") * (share + (1.0 - share) * rise)
    return float(shared) if shared.ndim == 0 else shared.astype("float32")
