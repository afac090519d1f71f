"""Local means of images: the input's means kept where a denoiser should not move them
(clean and lightly noisy images; the colours of a stronger --strength), and the mean a file
shows where noise was clipped at black and white."""

import numpy as np

# keep_local_means: the noise levels (0-1 scale) between which the input's local means
# stop being kept, and the window of a local mean (Gaussian standard deviation, pixels).
MEAN_KEEPING_LEVELS = (4 / 255, 12 / 255)
MEAN_WINDOW = 8.0
MEAN_BLOCK = 4


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
    shift = local_mean_shift(pixels, denoised, noise_level, window, levels)
    if np.isscalar(shift):
        return denoised
    out = np.add(denoised, shift, dtype="float32")
    return np.clip(out, 0.0, 1.0, out=out)


def local_mean_shift(pixels, denoised, noise_level, window=MEAN_WINDOW, levels=MEAN_KEEPING_LEVELS):
    """What ``keep_local_means`` adds to ``denoised``: 0.0 from ``levels[1]`` on; the local
    means on blocks, a strip of rows at a time (``local_means``)."""
    weight = float(np.clip((levels[1] - noise_level) / (levels[1] - levels[0]), 0.0, 1.0))
    if weight == 0.0:
        return 0.0

    def strip(rows):
        # What the input should average to if the output were the clean image: the
        # output with noise of this level added and clipped to [0, 1], as files store it.
        return (np.asarray(pixels[rows], "float32")
                - expected_clipped(np.asarray(denoised[rows], "float32"), noise_level))

    means = local_means(strip, pixels.shape, window)
    means *= np.float32(weight)
    return means


def local_means(strip, shape, window=MEAN_WINDOW):
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


def with_local_means_of(detail, reference, window=MEAN_WINDOW):
    """``detail`` with its local means (a Gaussian window of ``window`` pixels) replaced by
    ``reference``'s: ``--strength`` above 1 removes more grain and detail, never changes
    colours. Told more noise than an image has, the camera-noise preset takes the lift
    that noise clipped at black gives a camera's shadows for a cast to remove: a phone
    crop with 8 grey levels of noise lost 11-17 grey levels of blue at --strength 1.5-2
    (docs/denoising.md)."""
    shift = local_means(lambda rows: np.subtract(reference[rows], detail[rows], dtype="float32"),
                         detail.shape, window)
    out = np.add(detail, shift, dtype="float32")
    return np.clip(out, 0.0, 1.0, out=out)


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
