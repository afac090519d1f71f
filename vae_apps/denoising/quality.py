"""Image quality of a denoised image against its clean reference: PSNR and SSIM."""

import numpy as np


def psnr_ssim(clean, image):
    """PSNR (dB) and SSIM of one image against its clean reference (scikit-image's).

    Args:
        clean: np.ndarray. The reference (H, W, C) in [0, 1].
        image: np.ndarray. The image scored, same shape (clipped to [0, 1]).

    Returns:
        ``(psnr, ssim)``; identical images score ``(100.0, 1.0)``.

    Examples:
    >>> psnr, ssim = psnr_ssim(clean, denoised)
    """
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    clean = np.asarray(clean, "float64")
    image = np.clip(np.asarray(image, "float64"), 0.0, 1.0)
    if np.array_equal(clean, image):
        return 100.0, 1.0  # PSNR is infinite for identical images; cap it
    win = min(7, *clean.shape[:2])
    win -= 1 - win % 2  # odd, no larger than the image
    return (peak_signal_noise_ratio(clean, image, data_range=1.0),
            structural_similarity(clean, image, data_range=1.0, channel_axis=-1, win_size=win))


def image_quality(clean, images):
    """Mean PSNR (dB) and SSIM of ``images`` against ``clean`` (N x H x W x C floats).

    Args:
        clean: np.ndarray. The references (N, H, W, C) in [0, 1].
        images: np.ndarray. The outputs to score (clipped to [0, 1]).

    Examples:
    >>> image_quality(x_test, model.reconstruct(noisy))["psnr"]  # doctest: +SKIP
    19.4
    """
    scores = np.array([psnr_ssim(c, i) for c, i in zip(clean, images)])
    return {"psnr": float(scores[:, 0].mean()), "ssim": float(scores[:, 1].mean())}
