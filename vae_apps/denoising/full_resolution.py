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

# Split out of this module; their public names are also read from here.
from vae_apps.denoising.levels import (  # noqa: F401
    LEVEL_MAP_BOUNDS, camera_noise_strength, estimate_noise_level, estimate_noise_level_map,
    estimated_level_share)
from vae_apps.denoising.local_means import (  # noqa: F401
    MEAN_KEEPING_LEVELS, MEAN_WINDOW, expected_clipped, keep_local_means, local_mean_shift,
    with_local_means_of)
from vae_apps.denoising.tiles import TILE, TILE_MARGIN, level_window, windows
from vae_apps.errors import UserError
from vae_apps.io.images import TURNS, turned, turned_back

# The window (Gaussian standard deviation, pixels) over which removal_gain compares what a
# blind model removed with the noise level: 4 and 8 gave the same PSNR within 0.15 dB
# on clean and sigma-25 grey photos.
REMOVAL_WINDOW = 4.0
# The bound follows brightness (_level_by_brightness): shot noise is stronger in the
# highlights than one level for the image says. Ten held-out grey photos, Poisson-Gaussian
# noise (shot 0.01, sigma 0.02): 30.25 -> 30.54 dB with the 10th percentile of 8 bands
# (clean: 48.18 -> 48.14 dB). The median of each band gave 30.81 but took clean camera from
# 47.45 to 38.18 dB (its grass fills a band); the 25th percentile 30.71 and 41.03 dB.
BRIGHTNESS_BINS = 8
BRIGHTNESS_QUANTILE = 10
# predictive_std: the window (Gaussian standard deviation, pixels) of its local terms;
# with 2, 2 predicted standard deviations covered 90-98 % of the presets' errors on noisy
# held-out photos (benchmarks/denoise_uncertainty.py).
UNCERTAINTY_WINDOW = 2.0
# self_ensemble averages over the image's TURNS variants (the geometric self-ensemble of
# Timofte et al. 2016): a network's errors differ between them while the image does not, so
# their mean is nearer the clean image (+0.14 to +0.43 dB on noisy held-out photos, every
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
    chosen, levels, strength = _model_and_levels(model, pixels, tile, margin, strength, noise_level)
    turns = TURNS if self_ensemble else 1
    out = _finished(model, chosen, pixels, levels, tile, margin, turns)
    if _strengthened(chosen, strength, noise_level):
        out = with_local_means_of(out, _finished(model, chosen, pixels, _unstrengthened(
            levels, strength), tile, margin, turns))
    return _grain_smoothed(chosen, out, turns)


def _finished(photo, chosen, pixels, levels, tile, margin, turns):
    """``chosen``'s output for ``pixels`` at ``levels`` (``_levels``), over ``turns``
    variants, with ``photo``'s finishing (``_finishing``) and clipping's shift undone."""
    channels = pixels.shape[-1]
    if channels == chosen.channels:
        out = _tiled_turns(chosen, pixels, tile, margin, levels[0], turns)
    elif chosen.channels == 1:
        out = np.concatenate([_tiled_turns(chosen, pixels[..., c:c + 1], tile, margin, level, turns)
                              for c, level in enumerate(levels)], axis=-1)
    else:
        out = _tiled_turns(chosen, _as_model_sees(chosen, pixels), tile, margin,
                           levels[0], turns).mean(axis=-1, keepdims=True)
    return _unclipped(chosen, _corrected(pixels, out, *_finishing(photo, pixels, out, levels,
                                                                  tile, margin)))


def _strengthened(chosen, strength, noise_level):
    """Whether the level ``chosen`` is given was read off the image and then raised by
    ``--strength``: its result then keeps the local means of the result at strength 1
    (``with_local_means_of``)."""
    return strength > 1.0 and noise_level is None and getattr(chosen, "noise_level_input", False)


def _unstrengthened(levels, strength):
    """``_levels``' levels as read, before ``strength`` multiplied them."""
    return [level / np.float32(strength) for level in levels]


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
    curves, key = _GRAIN_CURVES.setdefault(model, {}), (turns, tuple(model.fitted.clipped_noise))
    if key not in curves:
        curves[key] = grain_variance(
            lambda x: _unclipped(model, _tiled_turns(model, x, TILE, TILE_MARGIN, None, turns)),
            law, model.channels)
    return curves[key]


def clipped_law(model):
    """The ``ClippedPoissonGaussian`` of a model's ``clipped_noise``, or None."""
    values = getattr(getattr(model, "fitted", None), "clipped_noise", None)
    return None if values is None else _law(*values)


@functools.lru_cache(maxsize=8)
def _law(gain, variance):  # its tables take ~0.01 s: once per model, not per image
    from vae_apps.denoising.clipped_noise import ClippedPoissonGaussian

    return ClippedPoissonGaussian(gain, variance)


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


def _level_by_brightness(removed_level, denoised, bins=BRIGHTNESS_BINS,
                         quantile=BRIGHTNESS_QUANTILE):
    """The level of what a blind model removed as a function of brightness: in each of
    ``bins`` bands of equal pixel count of the (smoothed) output's brightness, the
    ``quantile`` percentile of ``removed_level``, interpolated between the bands' median
    brightness. Noise that grows with brightness (shot noise) reads higher in the bright
    bands; texture, which covers only part of a band, stays below its low percentile.
    Statistics on every fourth pixel each way (``removed_level`` is smooth at that scale)."""
    from scipy.ndimage import gaussian_filter

    bright = gaussian_filter(np.asarray(denoised, "float32").mean(axis=-1), REMOVAL_WINDOW)
    sample_bright, sample_removed = bright[::4, ::4].ravel(), removed_level[::4, ::4].ravel()
    order = np.argsort(sample_bright, kind="stable")
    bands = np.array_split(order, bins)
    centres = np.array([np.median(sample_bright[band]) for band in bands])
    levels = np.array([np.percentile(sample_removed[band], quantile) for band in bands])
    return np.interp(bright, centres, levels).astype("float32")


def _gain(removed_level, noise_level):
    return np.minimum(1.0, noise_level / np.maximum(removed_level, 1e-8))[..., None].astype("float32")


def _finishing(photo, pixels, out, levels, tile, margin):
    """``(gain, shift)`` that turn the model's output ``out``, or any posterior draw,
    into the result ``pixels - gain * (pixels - draw) + shift``.

    For a ``PhotoDenoiser`` image that its blind model denoised, the gain is the removal
    gain at the larger of the colour estimator's reading of the image and the median
    local level of what the model removed (the estimator alone read Gaussian sigma 50
    on grey images as 34 grey levels), or where higher, the level removed in the pixel's
    brightness band (``_level_by_brightness``); else 1. Wherever a noise level is known, the
    shift keeps the input's local means (``keep_local_means``); else 0. ``levels``: what
    ``_levels`` gave the model."""
    gain, level = 1.0, None if levels[0] is None else float(np.mean(levels))
    if level is None and isinstance(photo, PhotoDenoiser):
        estimator = photo.models[3]
        if getattr(estimator, "noise_level_input", False):
            removed_level = _removed_level_map(pixels, out)
            level = max(estimate_noise_level(estimator, _as_model_sees(estimator, pixels), tile,
                                             margin), float(np.median(removed_level)))
            gain = _gain(removed_level, np.maximum(level, _level_by_brightness(removed_level, out)))
    if level is None:
        return gain, 0.0
    return gain, local_mean_shift(pixels, pixels - gain * (pixels - out), level)


def _corrected(pixels, draw, gain, shift):
    """``clip(pixels - gain * (pixels - draw) + shift)``, computed in one new array."""
    if np.isscalar(gain) and gain == 1.0 and np.isscalar(shift) and shift == 0.0:
        return draw
    out = np.subtract(pixels, draw, dtype="float32")
    out *= gain
    np.subtract(pixels, out, out=out)
    out += shift
    return np.clip(out, 0.0, 1.0, out=out)


def _model_for(model, pixels, strength, noise_level):
    """The fully convolutional model that denoises ``pixels`` (a ``PhotoDenoiser``
    picks by channels, and by whether a level or strength is asked for)."""
    if isinstance(model, PhotoDenoiser):
        return model.for_channels(pixels.shape[-1],
                                  noise_level=strength != 1.0 or noise_level is not None)
    return model


def _model_and_levels(model, pixels, tile, margin, strength, noise_level):
    """The fully convolutional model that denoises ``pixels``, the levels it is given
    (``_levels``; a photo preset's estimated levels go through ``estimated_level_share``)
    and the strength they were given at: for a photo preset's colour model reading the
    level itself, ``strength`` times ``camera_noise_strength``."""
    chosen = _model_for(model, pixels, strength, noise_level)
    photo = isinstance(model, PhotoDenoiser)
    if (photo and noise_level is None and chosen.channels == 3 and pixels.shape[-1] == 3
            and getattr(chosen, "noise_level_input", False)):
        # _noise_level's shared map, with the whole image's level read once for both
        level_map, whole = estimate_noise_level_map(chosen, pixels, tile, margin)
        strength = strength * camera_noise_strength(chosen, pixels, tile, margin, level=whole)
        return chosen, [estimated_level_share(level_map) * np.float32(strength)], strength
    return chosen, _levels(chosen, pixels, tile, margin, strength, noise_level,
                           shared=photo), strength


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


def _latent_origin(model, top, left, crop):
    """The first latent cell of a window that starts ``crop`` pixels above and left of
    (top, left): tiles and whole images draw the same posterior noise at each place."""
    return (top - crop) // model.latent_stride, (left - crop) // model.latent_stride


def _tiled(model, pixels, tile, margin, noise_level):
    out = np.empty_like(pixels)
    for window, (h, w), crop, (top, left) in windows(pixels, model.stride, tile, margin):
        level = level_window(noise_level, pixels.shape, model.stride, margin, top, left, h, w)
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
    training images after training (``vae_apps.denoising.calibration.calibrate_uncertainty``) so
    that about 95 % of the errors lie within 2 predicted standard deviations.

    Examples:
    >>> std = predictive_std(noisy, result.mean, result.posterior_std, model.fitted.uncertainty_weights)
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
    chosen, levels, strength = _model_and_levels(model, pixels, tile, margin, strength, noise_level)
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
    if _strengthened(chosen, strength, noise_level):
        kept = with_local_means_of(mean, _finished(model, chosen, pixels, _unstrengthened(
            levels, strength), tile, margin, 1))
        draws = [np.clip(draw + (kept - mean), 0.0, 1.0) for draw in draws]
        mean = kept
    law, finished = clipped_law(chosen), mean
    if law is not None:  # as denoise_full_resolution; every draw moved as their mean
        unclipped = law.undo_shift(mean)
        finished = _grain_smoothed(chosen, unclipped)
        draws = [np.clip(draw + (finished - mean), 0.0, 1.0) for draw in draws]
        mean = unclipped
    weights = getattr(getattr(chosen, "fitted", None), "uncertainty_weights", None)
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
    for window, (h, w), crop, (top, left) in windows(pixels, model.stride, tile, margin):
        part = level_window(level, pixels.shape, model.stride, margin, top, left, h, w)
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
