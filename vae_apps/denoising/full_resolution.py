"""Denoising photos at their own resolution with fully convolutional models.

An image is denoised whole when it fits in one tile, else in tiles that each see
``TILE_MARGIN`` pixels of context on every side and keep only their centre; the
margin covers the model's receptive field (34-37 pixels, measured by perturbing one
pixel), so tiled and untiled outputs agree and no seams appear. Memory is bounded by
the tile, whatever the image size.

Channel rule: a grey model denoises a colour image channel by channel; a colour
model denoises a grey image as a grey colour image and returns its mean channel.
"""

import functools
import weakref

import numpy as np

from vae_apps.errors import UserError
from vae_apps.io.images import TURNS, turned, turned_back

# Tile side in pixels: larger tiles waste less on margins but hold more activations.
# Outputs are the same at any tile (bit for bit: the margin covers the receptive field).
# 768 against 512: a 660 x 550 image is one window instead of four (0.73 -> 1.00 MP/s),
# a 1500 x 1200 photo 0.78 -> 0.85 MP/s, a 4000 x 3000 colour JPEG through the command
# peaks at 1.85 GB instead of 1.66 (medians of 8 alternating runs; 1024: no faster).
TILE = 768
TILE_MARGIN = 40
# The window (Gaussian standard deviation, pixels) over which removal_gain compares what a
# blind model removed with the noise level: 4 and 8 gave the same PSNR within 0.15 dB
# on clean and sigma-25 grey photos.
REMOVAL_WINDOW = 4.0
# keep_local_means: the noise levels (0-1 scale) between which the input's local means
# stop being kept, and the window of a local mean (Gaussian standard deviation, pixels).
MEAN_KEEPING_LEVELS = (4 / 255, 12 / 255)
MEAN_WINDOW = 8.0
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
MEAN_BLOCK = 4
# predictive_std: the window (Gaussian standard deviation, pixels) of its local terms;
# with 2, 2 predicted standard deviations covered 90-97 % of the presets' errors on noisy
# held-out photos (benchmarks/denoise_uncertainty.py).
UNCERTAINTY_WINDOW = 2.0
# self_ensemble averages over the image's TURNS variants (the geometric self-ensemble of
# Timofte et al. 2016): a network's errors differ between them while the image does not, so
# their mean is nearer the clean image (+0.17 to +0.41 dB on noisy held-out photos, every
# photo nearer; benchmarks/self_ensemble.py).


def denoise_full_resolution(model, pixels, tile=TILE, margin=TILE_MARGIN, strength=1.0,
                            noise_level=None, self_ensemble=False):
    """Denoise one H x W x C image (float32 in [0, 1]) at its own size.

    Args:
        model: FullyConvVAE or PhotoDenoiser. The denoiser.
        pixels: np.ndarray. The image (H, W, C), C = 1 or 3, any height and width.
        tile: int. Side of the tiles an image larger than ``tile`` x ``tile`` is cut
            into (bounds the memory: a 4000 x 3000 colour photo peaked at 2.27 GB).
        margin: int. Context each tile sees beyond its own pixels.
        strength: float. For a model that takes a noise level: multiplies it (> 1
            removes more, < 1 keeps more of the grain and detail).
        noise_level: float or None. The noise standard deviation on the 0-1 scale
            (25 grey levels: 0.098); None estimates it from the image (blind).
        self_ensemble: bool. Denoise the image's 8 turns and mirror images and average
            the outputs, each turned back (``TURNS``): 5-8 times the time, for a result
            nearer the clean image (docs/denoising.md gives the gain measured).

    Returns:
        float32 H x W x C in [0, 1].

    Examples:
    >>> clean = denoise_full_resolution(load_preset("photo"), noisy_photo)
    >>> clean.shape == noisy_photo.shape
    True
    """
    pixels = np.asarray(pixels, "float32")
    chosen, levels = _model_and_levels(model, pixels, tile, margin, strength, noise_level)
    channels = pixels.shape[-1]
    turns = TURNS if self_ensemble else 1
    if channels == chosen.channels:
        out = _tiled_turns(chosen, pixels, tile, margin, levels[0], turns)
    elif chosen.channels == 1:
        out = np.concatenate([_tiled_turns(chosen, pixels[..., c:c + 1], tile, margin, level, turns)
                              for c, level in enumerate(levels)], axis=-1)
    else:
        out = _tiled_turns(chosen, _as_model_sees(chosen, pixels), tile, margin,
                           levels[0], turns).mean(axis=-1, keepdims=True)
    out = _unclipped(chosen, _corrected(pixels, out, *_finishing(model, pixels, out, levels,
                                                                 tile, margin)))
    if strength > 1.0 and noise_level is None and getattr(chosen, "noise_level_input", False):
        out = _with_local_means_of(out, denoise_full_resolution(
            model, pixels, tile, margin, 1.0, None, self_ensemble))
    return _grain_smoothed(chosen, out, turns)


def _with_local_means_of(detail, reference, window=MEAN_WINDOW):
    """``detail`` with its local means (a Gaussian window of ``window`` pixels) replaced by
    ``reference``'s: ``--strength`` above 1 removes more grain and detail, never changes
    colours. Told more noise than an image has, the camera-noise preset takes the lift
    that noise clipped at black gives a camera's shadows for a cast to remove: a phone
    crop with 8 grey levels of noise lost 11-17 grey levels of blue at --strength 1.5-2
    (docs/denoising.md)."""
    shift = _local_means(lambda rows: np.subtract(reference[rows], detail[rows], dtype="float32"),
                         detail.shape, window)
    out = np.add(detail, shift, dtype="float32")
    return np.clip(out, 0.0, 1.0, out=out)


def _local_means(strip, shape, window=MEAN_WINDOW):
    """Local means (a Gaussian window of ``window`` pixels) of an image of ``shape`` (H, W,
    C) whose rows ``strip(rows)`` gives (a slice of rows at a time), taken on blocks of
    ``MEAN_BLOCK`` pixels, smoothed and brought back to full size: one full-size array more
    than the image, whatever its size (a 4000 x 3000 photo: 144 MB, not the 700 MB of
    filtering at full resolution); the same result within 0.03 dB on the held-out photos."""
    from scipy.ndimage import gaussian_filter, zoom

    height, width, channels = shape
    block, rows_at_once = MEAN_BLOCK, 64 * MEAN_BLOCK
    coarse = np.empty((-(-height // block), -(-width // block), channels), "float32")
    for top in range(0, height, rows_at_once):
        part = strip(slice(top, top + rows_at_once))
        rows, cols = -part.shape[0] % block, -width % block
        part = np.pad(part, ((0, rows), (0, cols), (0, 0)), mode="edge")
        coarse[top // block:(top + len(part)) // block] = part.reshape(
            part.shape[0] // block, block, part.shape[1] // block, block, channels).mean(axis=(1, 3))
    coarse = gaussian_filter(coarse, (window / block, window / block, 0), mode="reflect")
    return zoom(coarse, (block, block, 1), output=np.float32, order=1, grid_mode=True,
                mode="nearest")[:height, :width]


def _unclipped(model, image):
    """``image`` mapped from what the noisy values average to the clean value, for a model
    that carries the law of clipped noise it was trained on (``clipped_noise``)."""
    law = clipped_law(model)
    return image if law is None else law.undo_shift(image)


def _grain_smoothed(model, image, turns=1):
    """``image`` with the grain ``model`` leaves on flat areas smoothed
    (``vae_apps.denoising.grain``), for a model that carries its noise's law (a noisy-only
    model); else unchanged. ``turns``: the outputs averaged (``self_ensemble``)."""
    from vae_apps.denoising.grain import GRAIN_LEVELS, smooth_grain

    curve = _grain_curve(model, turns)
    if curve is None:
        return image
    return smooth_grain(image, np.interp(image, GRAIN_LEVELS, curve).astype("float32"))


# model -> {(turns, its law): its grain_variance}: measured once per model and law
# (~0.16 MP of flat fields); a law set anew (fit_clipped_noise) is measured anew
_GRAIN_CURVES = weakref.WeakKeyDictionary()


def _grain_curve(model, turns):
    from vae_apps.denoising.grain import grain_variance

    law = clipped_law(model)
    if law is None:
        return None
    curves, key = _GRAIN_CURVES.setdefault(model, {}), (turns, tuple(model.clipped_noise))
    if key not in curves:
        curves[key] = grain_variance(
            lambda x: _unclipped(model, _tiled_turns(model, x, TILE, TILE_MARGIN, None, turns)),
            law, model.channels)
    return curves[key]


def clipped_law(model):
    """The ``ClippedPoissonGaussian`` of a model's ``clipped_noise``, or None."""
    values = getattr(model, "clipped_noise", None)
    return None if values is None else _law(*values)


@functools.lru_cache(maxsize=8)
def _law(gain, variance):  # its tables take ~0.01 s: once per model, not per image
    from vae_apps.denoising.clipped_noise import ClippedPoissonGaussian

    return ClippedPoissonGaussian(gain, variance)


def keep_local_means(pixels, denoised, noise_level, window=MEAN_WINDOW, levels=MEAN_KEEPING_LEVELS):
    """The denoised image with the local means of the input put back, fully where the
    noise level is at most ``levels[0]``, not at all from ``levels[1]`` on, blended
    between.

    Noise has no local mean, so what a denoiser removes from a clean or lightly noisy
    image should have none either, beyond what clipping at 0 and 1 adds
    (``expected_clipped``); the shipped colour model moved the channel means of clean
    photos by up to 0.9 grey levels (a faint cast: flower, retina, rocket). Strong noise
    is left to the model: there the noise level varies across the image (camera noise)
    and putting the means back cost 0.6 dB at sigma 25 and 1.9 dB at sigma 50 on the
    held-out colour photos (docs/denoising.md).

    Args:
        pixels: np.ndarray. The input image (H, W, C) in [0, 1].
        denoised: np.ndarray. The denoiser's output, same shape.
        noise_level: float. The noise standard deviation on the 0-1 scale.
        window: float. The Gaussian window (standard deviation, pixels) of a local mean.
        levels: (float, float). Where the blend starts and ends (0-1 scale).

    Examples:
    >>> out = keep_local_means(clean_photo, denoise_full_resolution(model, clean_photo), 2 / 255)
    """
    shift = _local_mean_shift(pixels, denoised, noise_level, window, levels)
    if np.isscalar(shift):
        return denoised
    out = np.add(denoised, shift, dtype="float32")
    return np.clip(out, 0.0, 1.0, out=out)


def _local_mean_shift(pixels, denoised, noise_level, window=MEAN_WINDOW, levels=MEAN_KEEPING_LEVELS):
    """What ``keep_local_means`` adds to ``denoised``: 0.0 from ``levels[1]`` on; the local
    means on blocks, a strip of rows at a time (``_local_means``)."""
    weight = float(np.clip((levels[1] - noise_level) / (levels[1] - levels[0]), 0.0, 1.0))
    if weight == 0.0:
        return 0.0

    def strip(rows):
        # What the input should average to if the output were the clean image: the
        # output with noise of this level added and clipped to [0, 1], as files store it.
        return (np.asarray(pixels[rows], "float32")
                - expected_clipped(np.asarray(denoised[rows], "float32"), noise_level))

    means = _local_means(strip, pixels.shape, window)
    means *= np.float32(weight)
    return means


def expected_clipped(clean, noise_level):
    """E[clip(clean + noise, 0, 1)] for Gaussian noise of standard deviation
    ``noise_level``: the mean a noisy file shows where the clean value is near 0 or 1
    (a saturated red channel at 0 with sigma 5 of 255 averages 2 grey levels).

    Examples:
    >>> float(expected_clipped(np.float32(0.0), 5 / 255) * 255)  # doctest: +ELLIPSIS
    1.99...
    """
    from scipy.special import ndtr

    sigma = max(float(noise_level), 1e-6)
    clean = np.asarray(clean, "float32")
    out = clean.copy()

    def clip_bias(distance):  # E[max(0, X)] - m for X ~ N(m, sigma^2), m = distance to the bound
        t = distance / sigma
        return sigma * np.exp(-0.5 * t * t) / np.sqrt(2 * np.pi) - distance * ndtr(-t)

    # Beyond 6 sigma from a bound its bias is below 1e-8 sigma: only pixels near 0 or 1 count.
    # One bound per pixel: the same as clipped_noise's two-bound _clipped_normal_moments mean
    # to 6e-8 at sigma 2/255 to 0.2, in half its time or less (a dark 2000 x 2000 colour image,
    # 53 % of its values near a bound: 0.34-0.40 s against 0.65-1.9 s); it runs on every
    # strip a preset denoises.
    low, high = clean < 6 * sigma, clean > 1 - 6 * sigma
    out[low] += clip_bias(clean[low])
    out[high] -= clip_bias(1 - clean[high])
    return out


def removal_gain(pixels, denoised, noise_level, window=REMOVAL_WINDOW):
    """Per-pixel factors (H x W x 1, in (0, 1]) that keep a denoiser from removing more
    than the noise has: where the local standard deviation of ``pixels - denoised``
    (a Gaussian window of ``window`` pixels, over the channels) exceeds ``noise_level``,
    the removed part is scaled down to it.

    A blind model cannot be told that a photo is clean; this bound can. The shipped
    grey model alone took clean held-out photos to 35.4-52.0 dB (camera's grass and
    coat edges smoothed); with the bound at the estimated level 40.6-52.1 dB, while
    Gaussian sigma 5 gained 0.5 dB and sigma 10-50, Poisson-Gaussian and JPEG'd noise
    changed by -0.32 to +0.15 dB (ten held-out grey photos, docs/denoising.md).

    Args:
        pixels: np.ndarray. The input image (H, W, C) in [0, 1].
        denoised: np.ndarray. The denoiser's output, same shape.
        noise_level: float. The noise standard deviation on the 0-1 scale.
        window: float. The Gaussian window's standard deviation in pixels.

    Examples:
    >>> gain = removal_gain(noisy, out, 25 / 255)
    >>> limited = noisy - gain * (noisy - out)
    """
    return _gain(_removed_level_map(pixels, denoised, window), noise_level)


def _removed_level_map(pixels, denoised, window=REMOVAL_WINDOW):
    from scipy.ndimage import gaussian_filter

    removed = np.asarray(pixels, "float32") - np.asarray(denoised, "float32")
    return np.sqrt(gaussian_filter((removed * removed).mean(axis=-1), window))


def _gain(removed_level, noise_level):
    return np.minimum(1.0, noise_level / np.maximum(removed_level, 1e-8))[..., None].astype("float32")


def _finishing(photo, pixels, out, levels, tile, margin):
    """``(gain, shift)`` that turn the model's output ``out``, or any posterior draw,
    into the result ``pixels - gain * (pixels - draw) + shift``.

    For a ``PhotoDenoiser`` image that its blind model denoised, the gain is the removal
    gain at the larger of the colour estimator's reading of the image and the median
    local level of what the model removed (the estimator alone read Gaussian sigma 50
    on grey images as 34 grey levels); else 1. Wherever a noise level is known, the
    shift keeps the input's local means (``keep_local_means``); else 0. ``levels``: what
    ``_levels`` gave the model."""
    gain, level = 1.0, None if levels[0] is None else float(np.mean(levels))
    if level is None and isinstance(photo, PhotoDenoiser):
        estimator = photo.models[3]
        if getattr(estimator, "noise_level_input", False):
            removed_level = _removed_level_map(pixels, out)
            level = max(estimate_noise_level(estimator, _as_model_sees(estimator, pixels), tile,
                                             margin), float(np.median(removed_level)))
            gain = _gain(removed_level, level)
    if level is None:
        return gain, 0.0
    return gain, _local_mean_shift(pixels, pixels - gain * (pixels - out), level)


def _corrected(pixels, draw, gain, shift):
    """``clip(pixels - gain * (pixels - draw) + shift)``, computed in one new array."""
    if np.isscalar(gain) and gain == 1.0 and np.isscalar(shift) and shift == 0.0:
        return draw
    out = np.subtract(pixels, draw, dtype="float32")
    out *= gain
    np.subtract(pixels, out, out=out)
    out += shift
    return np.clip(out, 0.0, 1.0, out=out)


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
    return float(model.calibrated(np.median(_estimator_map(model, pixels, tile, margin))))


def _estimator_map(model, pixels, tile=TILE, margin=TILE_MARGIN):
    """The estimator's map of the whole image at half resolution, tile by tile."""
    height, width = pixels.shape[:2]
    out = np.empty((-(-height // 2), -(-width // 2)), "float32")
    for window, (h, w), crop, (top, left) in _windows(pixels, model.stride, tile, margin):
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

    half = _estimator_map(model, pixels, tile, margin)
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


def _model_for(model, pixels, strength, noise_level):
    """The fully convolutional model that denoises ``pixels`` (a ``PhotoDenoiser``
    picks by channels, and by whether a level or strength is asked for)."""
    if isinstance(model, PhotoDenoiser):
        return model.for_channels(pixels.shape[-1],
                                  noise_level=strength != 1.0 or noise_level is not None)
    return model


def _model_and_levels(model, pixels, tile, margin, strength, noise_level):
    """The fully convolutional model that denoises ``pixels`` and the levels it is given
    (``_levels``; a photo preset's estimated levels go through ``estimated_level_share``)."""
    chosen = _model_for(model, pixels, strength, noise_level)
    return chosen, _levels(chosen, pixels, tile, margin, strength, noise_level,
                           shared=isinstance(model, PhotoDenoiser))


def _levels(model, pixels, tile, margin, strength, noise_level, shared=False):
    """The level ``model`` is given for each part of ``pixels`` it denoises: one per colour
    channel when a grey model denoises a colour image (each channel read on its own), else
    one; ``[None]`` for a blind model. ``shared``: an estimated level goes through
    ``estimated_level_share`` (the photo presets)."""
    if model.channels == 1 and pixels.shape[-1] > 1:
        return [_noise_level(model, pixels[..., c:c + 1], tile, margin, strength, noise_level, shared)
                for c in range(pixels.shape[-1])]
    return [_noise_level(model, _as_model_sees(model, pixels), tile, margin, strength, noise_level,
                         shared)]


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


def _as_model_sees(model, pixels):
    """A grey image as the grey colour image a colour model denoises; else unchanged."""
    if pixels.shape[-1] == 1 and model.channels == 3:
        return np.repeat(pixels, 3, axis=-1)
    return pixels


def _noise_level(model, pixels, tile, margin, strength, noise_level, shared=False):
    """The level a model that takes one is given (a map estimated per region unless
    told, then ``estimated_level_share`` of it if ``shared``; x strength); None for a
    blind model."""
    if not getattr(model, "noise_level_input", False):
        if strength != 1.0 or noise_level is not None:
            raise UserError("this model takes no noise level: --strength and --sigma need a "
                            "model trained with one (the photo presets, or vae-apps train "
                            "--patch-size)")
        return None
    if noise_level is None:
        noise_level, _ = estimate_noise_level_map(model, pixels, tile, margin)
        if shared:
            noise_level = estimated_level_share(noise_level)
    if np.ndim(noise_level) >= 2:
        return noise_level * np.float32(strength)
    return float(noise_level) * float(strength)


def _windows(pixels, stride, tile, margin):
    """(window, (h, w), margin, (top, left)) per tile: the tile's pixels plus ``margin`` of context,
    mirrored at the image's borders, padded to a multiple of ``stride``."""
    height, width, _ = pixels.shape
    tile, margin = tile - tile % stride, margin + -margin % stride
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            h, w = min(tile, height - top), min(tile, width - left)
            # The window of the image mirrored at its borders, without a padded copy of
            # the whole image (a 4000 x 3000 colour photo is 144 MB in float32).
            yield (pixels[np.ix_(*_window_index(pixels.shape, stride, margin, top, left, h, w))],
                   (h, w), margin, (top, left))


def _window_index(shape, stride, margin, top, left, h, w):
    """The rows and columns of the window of tile (top, left, h, w): mirrored at the
    borders, padded to a multiple of ``stride`` (``margin`` already one)."""
    rows = _mirrored(np.arange(top - margin, top + h + -h % stride + margin), shape[0])
    cols = _mirrored(np.arange(left - margin, left + w + -w % stride + margin), shape[1])
    return rows, cols


def _level_window(level, shape, stride, margin, top, left, h, w):
    """A noise level for one window: a number as it is, a level map (H x W) cut as the
    window is (``_windows``)."""
    if np.ndim(level) < 2:
        return level
    margin = margin + -margin % stride
    return level[np.ix_(*_window_index(shape, stride, margin, top, left, h, w))][None]


def _latent_origin(model, top, left, crop):
    """The first latent cell of a window that starts ``crop`` pixels above and left of
    (top, left): tiles and whole images draw the same posterior noise at each place."""
    return (top - crop) // model.latent_stride, (left - crop) // model.latent_stride


def _tiled(model, pixels, tile, margin, noise_level):
    out = np.empty_like(pixels)
    for window, (h, w), crop, (top, left) in _windows(pixels, model.stride, tile, margin):
        level = _level_window(noise_level, pixels.shape, model.stride, margin, top, left, h, w)
        batch = window[None] if level is None else model.with_noise_level(window[None], level)
        result = model.denoise_padded(batch, _latent_origin(model, top, left, crop))[0]
        out[top:top + h, left:left + w] = result[crop:crop + h, crop:crop + w]
    return np.clip(out, 0.0, 1.0, out=out)


def _tiled_turns(model, pixels, tile, margin, noise_level, turns):
    """``_tiled`` over the first ``turns`` variants of ``turned``, averaged."""
    if turns == 1:
        return _tiled(model, pixels, tile, margin, noise_level)
    total = np.zeros_like(pixels)
    for turn in range(turns):
        variant = np.ascontiguousarray(turned(pixels, turn))
        level = (noise_level if np.ndim(noise_level) < 2  # a level map turns with the image
                 else np.ascontiguousarray(turned(noise_level[..., None], turn)[..., 0]))
        total += turned_back(_tiled(model, variant, tile, margin, level), turn)
    return total / np.float32(turns)


def _mirrored(index, size):
    """Indices outside 0..size-1 reflected back in (numpy's "symmetric" padding)."""
    period = 2 * size
    index = np.mod(index, period)
    return np.where(index < size, index, period - 1 - index)


class PosteriorSamples:
    """What ``denoise_with_samples`` returns for one image.

    Attributes:
        mean: np.ndarray. H x W x C, the mean of the samples: the denoised image.
        std: np.ndarray. H x W x C, the predicted standard deviation of each pixel's
            error (0-1 scale): ``predictive_std`` where the model carries
            ``uncertainty_weights``, else ``posterior_std``.
        posterior_std: np.ndarray. H x W x C, the samples' own per-pixel spread (for
            the shipped presets far narrower than the error: it says where the model
            hesitates, not how wrong it is).
        samples: list of np.ndarray. The first ``keep`` samples themselves.
        output: np.ndarray. H x W x C, the mean before a noisy-only model's grain is
            smoothed (``vae_apps.denoising.grain``; else the mean itself): what the
            uncertainty's terms read (``uncertainty_terms``).
    """

    def __init__(self, mean, std, samples, posterior_std=None, output=None):
        self.mean, self.std, self.samples = mean, std, samples
        self.posterior_std = std if posterior_std is None else posterior_std
        self.output = mean if output is None else output


def uncertainty_terms(pixels, mean, posterior_std, window=UNCERTAINTY_WINDOW):
    """The three per-pixel terms whose weighted sum is the predicted error variance:
    the posterior variance, the local squared gradient of the denoised image (errors
    gather at edges and in texture) and the local mean of the squared residual
    ``pixels - mean`` (the noise the image had where it was removed).

    Args:
        pixels: np.ndarray. The noisy image (H, W, C).
        mean: np.ndarray. Its denoised image, same shape.
        posterior_std: np.ndarray. The posterior draws' spread, same shape.
        window: float. Gaussian window (pixels) of the two local terms.

    Returns:
        A list of three float32 H x W x C arrays.

    Examples:
    >>> terms = uncertainty_terms(noisy, result.output, result.posterior_std)
    """
    from scipy.ndimage import gaussian_filter, sobel

    blur = (window, window, 0)
    gradient = sum(sobel(mean, axis=a) ** 2 for a in (0, 1)) / np.float32(32)  # Sobel's gain 4, squared, x2 axes
    residual = np.square(np.subtract(pixels, mean, dtype="float32"))
    return [np.square(posterior_std, dtype="float32"),
            gaussian_filter(gradient.astype("float32"), blur),
            gaussian_filter(residual, blur)]


def predictive_std(pixels, mean, posterior_std, weights):
    """The predicted standard deviation of each pixel's error: the square root of the
    ``weights``-weighted sum of ``uncertainty_terms``. The weights are fitted on
    training images after training (``vae_apps.training.calibrate_uncertainty``) so
    that about 95 % of the errors lie within 2 predicted standard deviations.

    Examples:
    >>> std = predictive_std(noisy, result.mean, result.posterior_std, model.uncertainty_weights)
    """
    variance = np.zeros(np.shape(mean), "float32")
    for term, weight in zip(uncertainty_terms(pixels, mean, posterior_std), weights):
        variance += np.float32(weight) * term
    return np.sqrt(variance, out=variance)


def denoise_with_samples(model, pixels, samples=16, seed=0, keep=0, tile=TILE, margin=TILE_MARGIN,
                         strength=1.0, noise_level=None):
    """Denoise one image from ``samples`` draws of the posterior q(z | image): their
    mean, their per-pixel standard deviation and a few of them. Tile by tile, as
    ``denoise_full_resolution``: memory is bounded by the tile and ``keep``.

    Args:
        model: FullyConvVAE or PhotoDenoiser. The denoiser.
        pixels: np.ndarray. The image (H, W, C), C = 1 or 3.
        samples: int. Posterior draws (K >= 1).
        seed: int. The same seed, the same draws.
        keep: int. How many of the draws to return whole (at most ``samples``).
        tile, margin, strength, noise_level: as ``denoise_full_resolution``.

    Returns:
        ``PosteriorSamples``; every draw is clipped to [0, 1].

    Examples:
    >>> result = denoise_with_samples(load_preset("photo"), noisy_photo, samples=16)
    >>> result.mean.shape == result.std.shape == noisy_photo.shape
    True
    """
    if int(samples) < 1:
        raise UserError(f"--samples must be at least 1, got {samples}")
    pixels = np.asarray(pixels, "float32")
    chosen, levels = _model_and_levels(model, pixels, tile, margin, strength, noise_level)
    run = dict(samples=int(samples), seed=int(seed), keep=min(int(keep), int(samples)),
               tile=tile, margin=margin)
    channels = pixels.shape[-1]
    if channels == chosen.channels:
        result = _sampled(chosen, pixels, level=levels[0], **run)
    elif chosen.channels == 1:  # each colour channel on its own
        parts = [_sampled(chosen, pixels[..., c:c + 1], level=level, **run)
                 for c, level in enumerate(levels)]
        result = PosteriorSamples(np.concatenate([p.mean for p in parts], axis=-1),
                                  np.concatenate([p.std for p in parts], axis=-1),
                                  [np.concatenate(draws, axis=-1)
                                   for draws in zip(*(p.samples for p in parts))])
    else:
        result = _sampled(chosen, _as_model_sees(chosen, pixels), level=levels[0],
                          channel_mean=True, **run)
    gain, shift = _finishing(model, pixels, result.mean, levels, tile, margin)
    # every draw is corrected as their mean: the same gain towards the input, the same shift
    mean, spread = _corrected(pixels, result.mean, gain, shift), gain * result.std
    draws = [_corrected(pixels, draw, gain, shift) for draw in result.samples]
    if strength > 1.0 and noise_level is None and getattr(chosen, "noise_level_input", False):
        kept = _with_local_means_of(mean, denoise_full_resolution(model, pixels, tile, margin))
        draws = [np.clip(draw + (kept - mean), 0.0, 1.0) for draw in draws]
        mean = kept
    law, finished = clipped_law(chosen), mean
    if law is not None:  # as denoise_full_resolution; every draw moved as their mean
        unclipped = law.undo_shift(mean)
        finished = _grain_smoothed(chosen, unclipped)
        draws = [np.clip(draw + (finished - mean), 0.0, 1.0) for draw in draws]
        mean = unclipped
    weights = getattr(chosen, "uncertainty_weights", None)
    # The terms read the model's output before its grain is smoothed (the calibration
    # fits them to the smoothed output's errors): the smoothing flattens the gradient term
    # on flat areas, where the output's grain said how far off it may be. Read after it, 2
    # predicted standard deviations held 89.6 % of the errors on the colour photos with
    # Poisson 30, read before it 90.2 (benchmarks/denoise_noisy_only.py, docs/denoising.md).
    std = spread if weights is None else predictive_std(pixels, mean, spread, weights)
    return PosteriorSamples(finished, std, draws, posterior_std=spread, output=mean)


def _sampled(model, pixels, samples, seed, keep, tile, margin, level, channel_mean=False):
    out_channels = 1 if channel_mean else pixels.shape[-1]
    shape = pixels.shape[:2] + (out_channels,)
    mean, std = np.empty(shape, "float32"), np.empty(shape, "float32")
    kept = [np.empty(shape, "float32") for _ in range(keep)]
    for window, (h, w), crop, (top, left) in _windows(pixels, model.stride, tile, margin):
        part = _level_window(level, pixels.shape, model.stride, margin, top, left, h, w)
        batch = window[None] if part is None else model.with_noise_level(window[None], part)
        origin = _latent_origin(model, top, left, crop)
        draws = np.stack([np.clip(model.sample_padded(batch, (seed, k), origin)[0], 0, 1)
                          for k in range(samples)])[:, crop:crop + h, crop:crop + w]
        if channel_mean:
            draws = draws.mean(axis=-1, keepdims=True)
        mean[top:top + h, left:left + w] = draws.mean(axis=0)
        std[top:top + h, left:left + w] = draws.std(axis=0)
        for k in range(keep):
            kept[k][top:top + h, left:left + w] = draws[k]
    return PosteriorSamples(mean, std, kept)


class PhotoDenoiser:
    """A grey and a colour fully convolutional model: each image gets the one that
    matches its channels (the shipped ``photo`` preset is one of these).

    Args:
        grey: FullyConvVAE. A model with 1 channel.
        colour: FullyConvVAE. A model with 3 channels.

    Examples:
    >>> photo = PhotoDenoiser(load_vae("grey.keras"), load_vae("rgb.keras"))
    >>> clean = photo.reconstruct(noisy_batch)  # each image by the matching model
    """

    image_shape = (None, None, None)
    channels = None

    def __init__(self, grey, colour):
        self.models = {1: grey, 3: colour}

    def for_channels(self, channels, noise_level=False):
        """The model for images with ``channels`` channels (colour for 3, else grey);
        with ``noise_level`` (a strength or a level asked for) the colour model where the
        grey one takes no noise level (the colour rule then denoises grey images)."""
        model = self.models[3 if channels == 3 else 1]
        if noise_level and not getattr(model, "noise_level_input", False):
            return self.models[3]
        return model

    def reconstruct(self, x, batch_size=None, strength=1.0, noise_level=None):
        """Denoise a batch of same-size images (N x H x W x C)."""
        return np.stack([denoise_full_resolution(self, image, strength=strength,
                                                 noise_level=noise_level)
                         for image in np.asarray(x, "float32")])
