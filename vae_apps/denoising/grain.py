"""Smoothing the grain a noisy-only model leaves on flat areas.

A model trained on its noisy folder alone averages a few pixels' worth of neighbours on a
flat area: on flat fields of their own folder's noise law the benchmark's noisy-only models
kept 0.6-19 % of the noise's variance, as a grain 3-4 pixels across, and on images with large
smooth areas (the moon, a clock's face, skies) they stayed up to 5 dB below NL-means
(benchmarks/noisy_only_outside.py, docs/denoising.md).

``smooth_grain`` is a guided filter (He et al. 2013) with the output as its own guide: over
every window of ``GRAIN_RADIUS``, a local linear fit of the output to itself, shrunk towards
the window's mean by ``var / (var + eps)``. Where the output varies less than ``eps`` it is
smoothed, where it varies more (edges, texture) it is kept. ``eps`` is the variance the
model itself leaves on a flat field of the pixel's brightness (``grain_variance``), measured
on flat fields of the noise law the model read off its folder: no clean image, and no
constant chosen on a benchmark. The same trained models gained 0.05-1.25 dB on each of the ten
folders of the noisy-only benchmarks whose models read a law (docs/denoising.md).
"""

import numpy as np

# The flat fields grain_variance measures: brightness levels, side and the border left
# out (the mirrored padding at a field's edge is not a flat field's inside).
GRAIN_LEVELS = np.linspace(0.05, 0.95, 10)
GRAIN_FIELD = 128
GRAIN_BORDER = 16
# smooth_grain's window: (2 r + 1) x (2 r + 1) pixels. In a prototype on the benchmarks'
# models, 3 and 6 gained the same on the photo folders within 0.1 dB (grey textures and
# scenes: +1.11 / +1.21 dB), but on the microscopy image +0.34 / +0.06 dB (Poisson noise)
# and +0.82 / +0.35 (Poisson-Gaussian).
GRAIN_RADIUS = 3


def grain_variance(denoise, law, channels, seed=0):
    """The variance ``denoise`` leaves on flat fields of noise drawn from ``law``, at
    each of ``GRAIN_LEVELS``.

    Args:
        denoise: callable. Takes an H x W x C noisy image, returns its denoised image.
        law: ClippedPoissonGaussian. The noise the denoiser was trained on.
        channels: int. The channels of the flat fields (the model's).
        seed: int. Seeds the noise: the same seed, the same variances.

    Returns:
        float32 array, one variance (0-1 scale, averaged over channels) per level.

    Examples:
    >>> curve = grain_variance(lambda x: denoise_full_resolution(model, x), law, 1)
    """
    rng = np.random.default_rng([seed, 91])
    inside = slice(GRAIN_BORDER, GRAIN_FIELD - GRAIN_BORDER)
    variances = []
    for level in GRAIN_LEVELS:
        flat = np.full((GRAIN_FIELD, GRAIN_FIELD, channels), level, "float32")
        out = denoise(law.sample(flat, rng))[inside, inside]
        variances.append(np.mean(np.var(out, axis=(0, 1))))
    return np.asarray(variances, "float32")


def smooth_grain(image, eps, radius=GRAIN_RADIUS):
    """``image`` through a self-guided filter of ``radius`` with a per-pixel ``eps``.

    Args:
        image: np.ndarray. A denoised image (H, W, C), values in [0, 1].
        eps: np.ndarray. Per pixel, the variance below which it is smoothed (same shape).
        radius: int. Half the window's side, less one pixel.

    Returns:
        float32 H x W x C in [0, 1]; each channel filtered on its own.

    Examples:
    >>> smoothed = smooth_grain(denoised, np.full_like(denoised, 1e-4))
    """
    from scipy.ndimage import uniform_filter

    def box(values):
        return uniform_filter(values, size=(2 * radius + 1, 2 * radius + 1, 1), mode="reflect")

    image = np.asarray(image, "float32")
    mean = box(image)
    variance = np.maximum(box(image * image) - mean * mean, 0.0)
    slope = variance / (variance + np.maximum(eps, 1e-12))
    offset = mean - slope * mean
    return np.clip(box(slope) * image + box(offset), 0.0, 1.0)
