"""JPEG saving and decoding as a degradation (``vae_apps.denoising.noise``'s jpeg kinds and
the camera pipeline's last step, ``vae_apps.denoising.camera``)."""

import io

import numpy as np

# JPEG's chroma subsampling, as PIL names it: 0 keeps colour at full resolution
# (4:4:4), 2 halves it both ways (4:2:0, what most cameras and editors write).
SUBSAMPLING = {"444": 0, "420": 2}


def jpeg_round_trip(x, quality, seed, subsampling):
    """Images saved as JPEG and decoded again, through PIL (as users' files are).

    Args:
        x: np.ndarray. float32 images (N, H, W, C) in [0, 1], C = 1 or 3.
        quality: float or array. JPEG quality, one or one per image.
        seed: array. Seeds the choice of chroma subsampling where ``subsampling`` is None.
        subsampling: int or None. PIL's subsampling (``SUBSAMPLING``); None draws 4:2:0 or
            4:4:4 per image.

    Returns:
        float32 array, the shape of ``x``.

    Examples:
    >>> saved = jpeg_round_trip(x, 90, np.array([0, 1]), SUBSAMPLING["420"])
    """
    from PIL import Image

    rng = np.random.default_rng(np.asarray(seed).astype("uint64"))
    quality = np.broadcast_to(np.asarray(quality).reshape(-1), (len(x),))
    out = np.empty_like(x)
    for i, image in enumerate(x):
        pixels = np.round(np.clip(image, 0.0, 1.0) * 255).astype("uint8")
        grey = pixels.shape[-1] == 1
        chosen = subsampling if subsampling is not None else rng.choice([0, 2])
        buffer = io.BytesIO()
        Image.fromarray(pixels[..., 0] if grey else pixels).save(
            buffer, "JPEG", quality=int(round(float(quality[i]))), subsampling=int(chosen))
        decoded = np.asarray(Image.open(buffer), "float32") / 255.0
        out[i] = decoded[..., None] if grey else decoded
    return out
