"""What a trained full-resolution denoiser fits after training, on its training images:
the decoder's draws, the noise-level scale, the clipped-noise law, the uncertainty weights."""

import logging

import numpy as np

from vae_apps.errors import UserError

log = logging.getLogger("vae_apps")


def choose_decode_draws(model, pairs):
    """Set ``model.fitted.decode_draws`` to what denoises the validation ``pairs`` better: 0
    (the decoder at the posterior mean code) or 1 (one seeded posterior draw).

    A decoder trained on posterior draws can come to depend on their noise, which the
    mean code lacks: a grey model trained from scratch on 12 photos scored 23.5 dB at
    sigma 25 from the mean code and 28.5 dB from one draw, an impulse-noise model 24.3
    and 26.6 dB; the shipped presets the same within 0.06 dB either way. The mean of 16
    draws added at most 0.1 dB more for 16 times the decoding.

    Args:
        model: FullyConvVAE. The trained model.
        pairs: tf.data.Dataset. Batches of (input, target): clean targets, or for a
            noisy-only model the other half of each pair (its noise independent of the
            input's, so the order of the two squared errors is that against clean).

    Returns:
        The number of draws chosen, also set on the model.

    Examples:
    >>> choose_decode_draws(model, val_ds.batch(32))
    0
    """
    errors = {}
    for draws in (0, 1):
        model.fitted.decode_draws = draws
        total = count = 0
        for inputs, targets in pairs:
            out = model.denoise_padded(np.asarray(inputs))
            total += float(np.sum(np.square(out - np.asarray(targets))))
            count += out.size
        errors[draws] = total / max(count, 1)
    model.fitted.decode_draws = min(errors, key=errors.get)
    log.info("denoising from %s (validation mean squared error %.3g, other %.3g)",
             "one posterior draw" if model.fitted.decode_draws else "the posterior mean code",
             errors[model.fitted.decode_draws], errors[1 - model.fitted.decode_draws])
    return model.fitted.decode_draws


def calibrate_noise_level(model, images, noise, *, crop=256, crops_per_image=4, seed=0):
    """Fit the noise-level estimator's calibration on whole-image crops of the training
    images and set it on ``model`` (``noise_level_scale``, ``noise_level_offset``).

    The estimator is trained on 64 x 64 patches, its level is read as the median of its
    map over a whole image: the calibration maps that median to the true noise level
    (the standard deviation of noisy - clean) by least squares over ``crops_per_image``
    crops of every image, each with a draw of ``noise``. A clean photo's median of 1-2
    grey levels then reads as about 0, and the levels of noisy photos lose the median's
    bias (measured mid-training: 27 grey levels read where the truth was 24).

    Args:
        model: FullyConvVAE. A model with ``noise_level_input``.
        images: list. Image files or H x W x C arrays (the training images).
        noise: Noise. The training noise (``vae_apps.denoising.noise``).
        crop: int. Crop side (a multiple of 4); smaller images are used whole.
        crops_per_image: int. Crops per image.
        seed: int. Seeds the crops and the noise.

    Returns:
        (scale, offset), also set on ``model``.

    Examples:
    >>> scale, offset = calibrate_noise_level(model, photos, parse_noise("photo"))
    """
    medians, truths = [], []
    for index, k, clean in _calibration_crops(images, model.channels, crop, crops_per_image,
                                              np.random.default_rng([seed, 77]), model.stride):
        noisy = noise.apply(clean[None], seed=seed * 100_000 + index * 100 + k)
        medians.append(float(np.median(model.noise_level_map(noisy))))
        truths.append(float((noisy - clean[None]).std()))
    if len(medians) < 2:
        raise UserError("too few readable images to calibrate the noise level on")
    scale, offset = np.polyfit(np.array(medians), np.array(truths), 1)
    if not scale > 0:  # a degenerate fit: keep the estimator as trained
        scale, offset = 1.0, 0.0
    model.fitted.noise_level_scale, model.fitted.noise_level_offset = float(scale), float(offset)
    return model.fitted.noise_level_scale, model.fitted.noise_level_offset


# fit_clipped_noise reads the noise off crops of at most this many of the images (a
# seeded choice), of at most CLIPPED_NOISE_CROP pixels a side (half images of 512).
CLIPPED_NOISE_IMAGES = 16


CLIPPED_NOISE_CROP = 1024


def fit_clipped_noise(model, images, seed=0):
    """Read the law of the noise of a noisy-only model's training images off the images
    and the model's output on them (``fit_clipped_poisson_gaussian``) and set it on the
    model (``clipped_noise``): denoising then undoes the mean shift of the noise clipped
    at black and white. A folder too small or too uniform to read it from leaves the model
    as it is, with a warning.

    Args:
        model: FullyConvVAE. A model trained on the noisy ``images`` alone.
        images: list. Image files or H x W x C arrays (the noisy training images).
        seed: int. Seeds the choice of images and crops.

    Returns:
        ``ClippedPoissonGaussian`` or None.

    Examples:
    >>> law = fit_clipped_noise(model, noisy_files)
    >>> law.describe()  # doctest: +SKIP
    'Poisson-Gaussian noise, 33 photons at white, Gaussian part 5.3 grey levels'
    """
    from vae_apps.denoising.clipped_noise import fit_clipped_poisson_gaussian
    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.denoising.noisy_only import neighbour_triples

    rng = np.random.default_rng([seed, 79])
    chosen = sorted(rng.permutation(len(images))[:CLIPPED_NOISE_IMAGES])
    model.fitted.clipped_noise = None  # the model's own output: what the noisy values average
    denoised, seconds, thirds = [], [], []
    for index, _, pixels in _calibration_crops([images[i] for i in chosen], model.channels,
                                               CLIPPED_NOISE_CROP, 1, rng):
        first, second, third = neighbour_triples(pixels, seed=[seed, 79, index])
        if min(first.shape[:2]) >= 2:
            denoised.append(denoise_full_resolution(model, first))
            seconds.append(second)
            thirds.append(third)
    law = fit_clipped_poisson_gaussian(denoised, seconds, thirds)
    if law is None:
        # e.g. a telescope image, flat only in its dark sky: one brightness cannot tell the
        # Poisson part from the Gaussian one
        log.warning("too few flat areas at different brightness levels to read the noise's "
                    "law off the images: clipping at black and white is not undone")
        return None
    model.fitted.clipped_noise = (law.gain, law.variance)
    log.info("read off the noisy images: %s", law.describe())
    return law


# Crops the uncertainty weights are fitted on, at least (a folder of one image: 16 crops of
# it, not 2): on the one-image microscopy folder (noisy-only, Poisson 30 / Poisson-Gaussian)
# 2 crops covered 91.4 / 97.7 % of the errors, 16 crops 95.3 / 97.2 %
# (benchmarks/noisy_only_uncertainty.py).
MIN_CALIBRATION_CROPS = 16


def calibrate_uncertainty(denoiser, images, noise, *, model=None, crop=160, crops_per_image=None,
                          samples=8, seed=0, coverage=0.95):
    """Fit the weights of the predicted error variance (``predictive_std``) on crops of
    the training images and set them on the model (``uncertainty_weights``).

    The posterior draws' spread alone is far narrower than the error of the shipped
    presets (2 spreads covered 10-21 % of the errors on noisy held-out photos) and
    follows it weakly (correlation 0.1-0.3); with the local gradient and residual
    terms added, fitted here, 2 predicted standard deviations covered 90-98 % of the
    held-out errors (benchmarks/denoise_uncertainty.py, docs/denoising.md).
    The terms' weights come from non-negative least squares on the squared errors,
    then one factor scales them so that a share ``coverage`` of the training pixels'
    errors lies within 2 predicted standard deviations.

    Without clean images (``noise`` None: ``images`` are the noisy ones), each crop is
    split into three half images from different pixels of every 2 x 2 cell
    (``noisy_only.neighbour_triples``); the first is denoised, and the squared error of
    each of its pixels is estimated from the other two (``squared_error_estimate``): no
    noise model needed, and unbiased where the noise is independent from pixel to
    pixel, so the least squares fit holds; single errors are unknown: no coverage
    factor. On the noisy-only models of benchmarks/denoise_noisy_only.py, 2 predicted
    standard deviations then covered 95.3 / 97.2 % of the errors on ``cell`` (Poisson 30
    / Poisson-Gaussian) and 87.4 / 92.3 % on the colour photos, where Stein's unbiased
    risk estimate with a variance function read off the images gave 99.9 / 99.6 and
    57.0 / 50.6 % (``benchmarks/noisy_only_uncertainty.py``).

    Args:
        denoiser: FullyConvVAE or PhotoDenoiser. What ``denoise_with_samples`` runs.
        images: list. Image files or H x W x C arrays (the training images).
        noise: Noise or None. The training noise; None: the images are noisy already.
        model: FullyConvVAE or None. The model that gets the weights (default:
            ``denoiser`` itself; give it when ``denoiser`` is a ``PhotoDenoiser``).
        crop: int. Crop side; smaller images are used whole.
        crops_per_image: int or None. Crops per image; None: 2, more for folders of
            fewer than 8 images (``MIN_CALIBRATION_CROPS`` in all).
        samples: int. Posterior draws per crop.
        seed: int. Seeds the crops, the noise and the draws.
        coverage: float. The share of errors within 2 predicted standard deviations.

    Returns:
        The weights (three floats), also set on ``model``.

    Examples:
    >>> weights = calibrate_uncertainty(model, photos, parse_noise("photo"))
    >>> weights = calibrate_uncertainty(model, noisy_files, None)   # noisy-only
    """
    target = denoiser if model is None else model
    terms, errors = uncertainty_fit_data(denoiser, images, noise, target.channels, crop=crop,
                                         crops_per_image=crops_per_image, samples=samples,
                                         seed=seed)
    weights = fit_uncertainty_weights(terms, errors)
    if noise is not None:
        predicted = np.sqrt(terms @ weights) + 1e-12
        scale = np.quantile(np.sqrt(errors) / predicted, coverage) / 2.0
        weights = weights * scale ** 2
    target.fitted.uncertainty_weights = tuple(float(w) for w in weights)
    return target.fitted.uncertainty_weights


def fit_uncertainty_weights(terms, errors):
    """The non-negative least-squares weights of the three ``uncertainty_terms`` on the
    squared ``errors`` (``uncertainty_fit_data``), on at most ~200,000 of the pixels;
    no coverage factor.

    Examples:
    >>> weights = fit_uncertainty_weights(*uncertainty_fit_data(photo, files, noise, 3))
    """
    from scipy.optimize import nnls

    every = max(1, len(errors) // 200_000)
    return nnls(terms[::every], errors[::every])[0]


def uncertainty_fit_data(denoiser, images, noise, channels, *, crop=160, crops_per_image=None,
                         samples=8, seed=0):
    """What ``calibrate_uncertainty`` fits: per pixel of crops of ``images``, the three
    ``uncertainty_terms`` and the squared error of the denoised mean (against the clean
    crop; without clean images, ``noise`` None, ``squared_error_estimate`` of it on
    the first of three half images of crops twice as large).

    Args:
        denoiser: FullyConvVAE or PhotoDenoiser. What ``denoise_with_samples`` runs.
        images: list. Image files or H x W x C arrays.
        noise: Noise or None. Added to the crops; None: the images are noisy already.
        channels: int. The channels the crops are read with.
        crop, crops_per_image, samples, seed: as ``calibrate_uncertainty``.

    Returns:
        (terms, float64 (pixels, 3); squared errors (pixels,)).

    Examples:
    >>> terms, errors = uncertainty_fit_data(photo, files, parse_noise("photo"), 3)
    """
    from vae_apps.denoising.full_resolution import (clipped_law, denoise_with_samples,
                                                    uncertainty_terms)
    from vae_apps.loading import with_precision

    if crops_per_image is None:
        crops_per_image = max(2, -(-MIN_CALIBRATION_CROPS // max(1, len(images))))
    crops = [pixels for _, _, pixels in _calibration_crops(
        images, channels, crop if noise is not None else 2 * crop, crops_per_image,
        np.random.default_rng([seed, 78]))]
    if not crops:
        raise UserError("too few readable images to calibrate the uncertainty on")
    if noise is None:
        from vae_apps.denoising.noisy_only import neighbour_triples, squared_error_estimate

        # float32, the precision the neighbour estimate's coverage was measured in
        denoiser = with_precision(denoiser, "float32")
        law = clipped_law(denoiser)
    terms, errors = [], []
    for index, pixels in enumerate(crops):
        if noise is None:
            noisy, second, third = neighbour_triples(pixels, seed=[seed, index])
            if min(noisy.shape[:2]) < 2:
                continue
        else:
            noisy = noise.apply(pixels[None], seed=seed * 100_000 + index)[0]
            noisy = np.round(np.clip(noisy, 0, 1) * 255) / np.float32(255)  # as an 8-bit file
        result = denoise_with_samples(denoiser, noisy, samples=samples, seed=seed)
        terms.append(np.stack([t.ravel() for t in uncertainty_terms(
            noisy, result.output, result.posterior_std)], axis=1))
        if noise is None:
            # The other half images average the clipped mean; moved by the model's clipping
            # shift at its own output they average the clean value the output estimates.
            if law is not None:
                shift = result.mean - law.clipped_mean(result.mean)
                second, third = second + shift, third + shift
            errors.append(squared_error_estimate(result.mean, second, third).ravel())
        else:
            errors.append(np.square(result.mean - pixels).ravel())
    if not terms:
        raise UserError("the images are too small to calibrate the uncertainty on")
    return np.concatenate(terms).astype("float64"), np.concatenate(errors)


def _calibration_crops(images, channels, crop, crops_per_image, rng, multiple=1):
    """(image index, crop number, crop) for ``crops_per_image`` random crops of every
    readable image: side ``crop`` at most, else the image's side cut to a ``multiple``."""
    from vae_apps.io.images import read_image, to_shape

    for index, image in enumerate(images):
        try:
            pixels = image if isinstance(image, np.ndarray) else read_image(image)[0]
        except Exception:  # reported when the patches were drawn
            continue
        pixels = to_shape(pixels, *pixels.shape[:2], channels)
        height, width = pixels.shape[:2]
        side_h, side_w = min(crop, height - height % multiple), min(crop, width - width % multiple)
        for k in range(crops_per_image):
            top, left = rng.integers(0, height - side_h + 1), rng.integers(0, width - side_w + 1)
            yield index, k, pixels[top:top + side_h, left:left + side_w]
