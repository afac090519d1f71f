"""Noise clipped at black and white: its mean shift, read off noisy images and undone.

An image file holds values in [0, 1]; a sensor's noise that would go past them is cut
off. Near white (or black, with a Gaussian part) the noisy values then average less
(more) than the clean one: at a peak of 30 photons a white pixel averages 0.93. A model
trained on noisy images alone learns what the noisy images average, so it returns that
shifted mean; knowing the noise's law, the clean value that averages it is one lookup
away (Foi 2009, "Clipped noisy images: heteroskedastic modeling and practical
denoising"). Undone on the local means (``undo_shift``), it took the noisy-only models
on the held-out photos from 27.50 to 28.92 dB (colour) and 27.33 to 28.49 dB (grey) with
Poisson noise (peak 30), 7-8 dB on a photo with a white background (smarties), and from
30.17 to 31.04 / 29.88 to 30.71 dB with Poisson-Gaussian noise; the microscopy image,
which is dark, moved by 0.01-0.07 dB (benchmarks/denoise_noisy_only.py, the same trained
models without and with it; docs/denoising.md).

The law is ``clip(gain * Poisson(x / gain) + N(0, variance), 0, 1)``: Poisson-Gaussian,
the model of camera and microscope sensors (Foi et al. 2008); ``gain`` 0 is Gaussian.
"""

import numpy as np

# The law's tables are computed at this many clean values in [0, 1]; the mean's inverse
# is interpolated between them (a step of 1 / 2048, under a tenth of a grey level).
TABLE_POINTS = 2049
# Above this many photons at white (gain below 1 / 1000) the Poisson law is replaced by
# the normal law of the same mean and variance: within 0.1 % of it, with no sum over counts.
NORMAL_ABOVE_PHOTONS = 1000
# undo_shift: the Gaussian window (standard deviation, pixels) of the local means the
# shift is undone on; 1, 2 and 4 gave +1.32 / +1.37 / +1.33 dB on the held-out colour
# photos (Poisson, peak 30) and SSIM 0.784 / 0.788 / 0.793 (0.790 before), with the law
# as first read (gain 0.0300, true 0.0333); with the law read now, 4 gives +1.42 dB, 0.794.
SHIFT_WINDOW = 4.0


class ClippedPoissonGaussian:
    """The noise law ``clip(gain * Poisson(x / gain) + N(0, variance), 0, 1)``.

    Args:
        gain: float. Variance per unit of signal (1 / photons at white); 0: Gaussian.
        variance: float. The Gaussian part's variance (0-1 scale).

    Examples:
    >>> law = ClippedPoissonGaussian(gain=1 / 30, variance=0.0)
    >>> round(float(law.clipped_mean(np.float32(1.0))), 2)  # a white pixel, 30 photons
    0.93
    >>> round(float(law.unclipped(np.float32(0.93))), 2)
    1.0
    """

    def __init__(self, gain, variance):
        self.gain, self.variance = max(float(gain), 0.0), max(float(variance), 0.0)
        self._tables = None

    def sample(self, clean, rng):
        """Noisy values of the ``clean`` ones (an array in [0, 1]) drawn from the law with
        the NumPy Generator ``rng``, clipped to [0, 1]; float32.

        Examples:
        >>> law.sample(np.full((64, 64, 1), 0.5, "float32"), np.random.default_rng(0))
        """
        clean = np.asarray(clean, "float64")
        if self.gain * NORMAL_ABOVE_PHOTONS > 1.0:
            signal = self.gain * rng.poisson(clean / self.gain)
        else:  # Poisson of this many photons: its normal law (see NORMAL_ABOVE_PHOTONS)
            signal = clean + np.sqrt(self.gain * clean) * rng.standard_normal(clean.shape)
        noisy = signal + np.sqrt(self.variance) * rng.standard_normal(clean.shape)
        return np.clip(noisy, 0.0, 1.0).astype("float32")

    def tables(self, points=TABLE_POINTS):
        """``(clean, mean, variance)``: at ``points`` clean values from 0 to 1, the mean
        and the variance of the clipped noisy value (the mean made non-decreasing)."""
        if self._tables is not None and len(self._tables[0]) == points:
            return self._tables
        x = np.linspace(0.0, 1.0, points)
        sd = np.sqrt(self.variance)
        if self.gain * NORMAL_ABOVE_PHOTONS > 1.0:
            from scipy.stats import poisson

            counts = np.arange(int(1 / self.gain + 10 * np.sqrt(1 / self.gain) + 20) + 1)
            chance = poisson.pmf(counts[None, :], x[:, None] / self.gain)
            first, second = _clipped_normal_moments(self.gain * counts[None, :], sd)
            mean, square = (chance * first).sum(axis=1), (chance * second).sum(axis=1)
        else:
            mean, square = _clipped_normal_moments(x, np.sqrt(self.gain * x + self.variance))
        self._tables = (x, np.maximum.accumulate(mean), np.maximum(square - mean * mean, 0.0))
        return self._tables

    def clipped_mean(self, clean):
        """E[noisy] for clean values ``clean`` (any shape, in [0, 1])."""
        x, mean, _ = self.tables()
        return np.interp(clean, x, mean).astype("float32")

    def unclipped(self, mean):
        """The clean values whose noisy values average ``mean`` (any shape): the inverse
        of ``clipped_mean``, in [0, 1]."""
        x, table, _ = self.tables()
        return np.interp(mean, table, x).astype("float32")

    def undo_shift(self, image, window=SHIFT_WINDOW, strip=512):
        """``image`` (what noisy values average, H x W x C) plus the clipping's mean
        shift, undone on its local means: ``image + unclipped(m) - m`` with ``m`` the
        Gaussian local mean (``window`` pixels), clipped to [0, 1].

        On the local means, not pixel by pixel: near white the inverse's slope is about
        2 (30 photons), and taken pixel by pixel it doubled what noise the model left
        there; on the held-out colour photos (Poisson, peak 30) SSIM fell from 0.790 to
        0.772 (PSNR +1.24 dB), with a window of 4 pixels it rose to 0.793 (+1.33 dB; the
        same law, ``SHIFT_WINDOW``).
        Computed a strip of rows at a time: one array of the image's size more.

        Examples:
        >>> out = law.undo_shift(denoise_full_resolution(noisy_only_model, noisy))
        """
        from scipy.ndimage import gaussian_filter

        image = np.asarray(image, "float32")
        out = np.empty_like(image)
        reach = int(4.0 * window + 0.5)  # gaussian_filter's radius: strips join exactly
        for top in range(0, image.shape[0], strip):
            start, stop = max(0, top - reach), min(image.shape[0], top + strip + reach)
            local = gaussian_filter(image[start:stop], (window, window, 0), mode="reflect")
            part = image[start:stop] + (self.unclipped(local) - local)
            out[top:top + strip] = part[top - start:top - start + strip]
        return np.clip(out, 0.0, 1.0, out=out)

    def describe(self):
        """One line for people: the law in photons at white and grey levels."""
        photons = f"{1 / self.gain:.0f} photons at white" if self.gain > 0 else "no Poisson part"
        return (f"Poisson-Gaussian noise, {photons}, Gaussian part "
                f"{255 * np.sqrt(self.variance):.1f} grey levels")


def _clipped_normal_moments(mean, sd):
    """E[c] and E[c^2] for c = clip(Y, 0, 1), Y ~ N(mean, sd^2) (arrays broadcast)."""
    from scipy.special import ndtr

    sd = np.maximum(sd, 1e-6)
    low, high = -mean / sd, (1.0 - mean) / sd
    density_low, density_high = (np.exp(-0.5 * t * t) / np.sqrt(2 * np.pi) for t in (low, high))
    inside, above = ndtr(high) - ndtr(low), ndtr(-high)
    first = mean * inside + sd * (density_low - density_high) + above
    second = (mean * mean * inside + 2 * mean * sd * (density_low - density_high)
              + sd * sd * (inside + low * density_low - high * density_high) + above)
    return first, second


# fit_clipped_poisson_gaussian: a place counts as flat where the denoised image changes by
# less than FLAT_STEP to each of its four neighbours (0-1 scale), or if fewer than a share
# FLAT_SHARE of the places are, the flattest FLAT_SHARE of them (a model that leaves some
# noise); bins of the denoised value with fewer places than MIN_PAIRS are left out.
FLAT_STEP = 0.01
FLAT_SHARE = 0.25
BINS = 50
MIN_PAIRS = 100


def fit_clipped_poisson_gaussian(denoised_images, first_views, second_views):
    """The ``ClippedPoissonGaussian`` law of a noise, read off noisy images alone.

    Each image comes as three half images from different pixels of every 2 x 2 cell
    (``noisy_only.neighbour_triples``): one denoised, ``denoised_images``, and the two
    others. Where the denoised image is flat, half the squared difference of the two
    others estimates the noise's variance at the denoised value; the law whose clipped
    variance matches it best, bin by bin of the denoised value (least squares on the
    logarithms), is returned. The denoised image never saw the two other pixels, so
    choosing flat places does not choose small differences: with the denoised image
    made from the very pixels compared, a folder with Gaussian noise of sigma 0.1 read
    0.045.

    Needs no clean image. Noise correlated between neighbours (JPEG, demosaicing) reads
    low, so less is undone. Near black, pure Poisson noise and a small Gaussian part
    clipped at 0 read alike: on the benchmark's Poisson folders (peak 30) it read 30
    photons at white and a Gaussian part of 5-6 grey levels where there is none (but
    the 8-bit rounding's 0.3); undone with either part, the colour photos scored the
    same within 0.01 dB.

    Args:
        denoised_images: list of np.ndarray. Denoised half images (h, w, C) in [0, 1].
        first_views: list of np.ndarray. Noisy half images of the same places, other pixels.
        second_views: list of np.ndarray. The same, third pixels.

    Returns:
        ClippedPoissonGaussian, or None where the flat places fill fewer than three bands
        of brightness (``BINS`` bands, ``MIN_PAIRS`` places each).

    Examples:
    >>> first, second, third = neighbour_triples(noisy, seed=0)
    >>> law = fit_clipped_poisson_gaussian([denoise(first)], [second], [third])
    """
    from scipy.optimize import minimize

    if not len(denoised_images):
        return None
    means, halves, steps = [], [], []
    for denoised, first, second in zip(denoised_images, first_views, second_views):
        denoised = np.asarray(denoised, "float32")
        step = np.zeros(denoised.shape, "float32")  # the largest change to a neighbour
        for axis in (0, 1):
            change = np.abs(np.diff(denoised, axis=axis))
            ahead, behind = [slice(None)] * 3, [slice(None)] * 3
            ahead[axis], behind[axis] = slice(1, None), slice(None, -1)
            step[tuple(ahead)] = np.maximum(step[tuple(ahead)], change)
            step[tuple(behind)] = np.maximum(step[tuple(behind)], change)
        means.append(denoised.ravel())
        halves.append(0.5 * np.square(np.subtract(first, second, dtype="float32")).ravel())
        steps.append(step.ravel())
    steps = np.concatenate(steps)
    flat = steps < max(FLAT_STEP, np.quantile(steps, FLAT_SHARE))
    means, halves = np.concatenate(means)[flat], np.concatenate(halves)[flat]
    means, halves = means.astype("float64"), halves.astype("float64")
    where = np.minimum((means * BINS).astype(int), BINS - 1).clip(0)
    count = np.bincount(where, minlength=BINS)
    used = count >= MIN_PAIRS
    if used.sum() < 3:
        return None
    mean = (np.bincount(where, means, BINS) / np.maximum(count, 1))[used]
    variance = (np.bincount(where, halves, BINS) / np.maximum(count, 1))[used]
    count = count[used]
    variance = np.maximum(variance, 1e-10)

    def mismatch(logs):
        x, table, clipped_variance = ClippedPoissonGaussian(*np.exp(logs)).tables(513)
        predicted = np.interp(np.interp(mean, table, x), x, clipped_variance)
        return float(np.sum(count * np.square(np.log(variance) - np.log(predicted + 1e-12)))
                     / count.sum())

    # Start from a straight line through the mid-tones, where clipping is least.
    middle = (mean > 0.2) & (mean < 0.8)
    slope, offset = np.polyfit(mean[middle], variance[middle], 1) if middle.sum() > 2 else (1e-3, 1e-4)
    start = np.log([max(slope, 1e-5), max(offset, 1e-7)])
    best = minimize(mismatch, start, method="Nelder-Mead", options={"xatol": 1e-3, "fatol": 1e-7})
    return ClippedPoissonGaussian(*np.exp(best.x))
