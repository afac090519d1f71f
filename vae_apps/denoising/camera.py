"""A camera's pipeline as a degradation: the noise that phones and cameras write into
their files, made from a clean sRGB photo.

Noise in a camera file was added to the sensor's raw mosaic and then went through the
camera's processing: demosaicing spreads it over neighbouring pixels, white balance and
the colour matrix colour it (chroma blotches), the tone curve makes its level depend on
brightness, sharpening and in-camera noise reduction change its grain, and JPEG keeps
what survives in blocks. Gaussian noise added to the file has none of that, and a
denoiser trained on it leaves real camera noise in place (benchmarks/denoise_real.py
gives the preset trained without this model beside the one trained with it).

``camera_noise`` runs the pipeline backwards from a clean sRGB patch (after "Unprocessing
Images for Learned Raw Denoising", Brooks et al. 2019: inverse tone curve, inverse colour
matrix, inverse white balance, Bayer mosaic), adds shot and read noise in linear raw space
(drawn jointly, as real sensors relate them), and forwards again with one of several
demosaicing methods, tone curves, sharpening and noise-reduction settings, and JPEG.
Every draw comes from a stateless seed: the same seed, the same noisy patch.
"""

import numpy as np
import tensorflow as tf

from vae_apps.denoising.jpeg import SUBSAMPLING, jpeg_round_trip

# XYZ -> camera colour matrices of four cameras (Brooks et al. 2019, from their DNG
# metadata); each image gets a random convex combination of them.
XYZ_TO_CAMERA = np.array([
    [[1.0234, -0.2969, -0.2266], [-0.5625, 1.6328, -0.0469], [-0.0703, 0.2188, 0.6406]],
    [[0.4913, -0.0541, -0.0202], [-0.6130, 1.3513, 0.2906], [-0.1564, 0.2151, 0.7183]],
    [[0.8380, -0.2630, -0.0639], [-0.2887, 1.0725, 0.2496], [-0.0627, 0.1427, 0.5438]],
    [[0.6596, -0.2079, -0.0562], [-0.4782, 1.3016, 0.1933], [-0.0970, 0.1581, 0.5181]],
], "float32")
# Linear sRGB -> XYZ (D65).
SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]], "float32")
# White-balance gains the camera applies (Brooks et al.): red 1.9-2.4, blue 1.5-1.9, and
# an exposure gain 1 / N(0.8, 0.1) on all three (a darker raw: more noise after it).
RED_GAIN, BLUE_GAIN, EXPOSURE = (1.9, 2.4), (1.5, 1.9), (0.8, 0.1)
# Shot noise (variance per unit of linear raw signal), drawn log-uniformly per image
# over the range the spec gives; read noise from it by the log-linear relation Brooks
# et al. fitted to real sensors: log(read) = 2.18 log(shot) + 1.20 + N(0, 0.26).
# Their range 1e-4 - 1.2e-2 covers a phone at ISO 100 to 12,800; a large sensor at the
# same ISO sits lower in it.
READ_FROM_SHOT = (2.18, 1.20, 0.26)
# The tone curves a camera may end with; each image gets one.
TONE_CURVES = ("gamma-smoothstep", "srgb", "gamma")
GAMMA = (1.8, 2.6)  # the exponent of the plain gamma curve, drawn per image
DEMOSAICS = ("bilinear", "malvar")
# Optional steps, each on about half of the images: sharpening (an unsharp mask on the
# luma, amount 0.2-1.2, sigma 1) and JPEG (quality 70-98, 4:2:0). Every image gets a light
# luma blur (sigma 0-0.6: demosaicing and noise reduction soften the grain too) and
# in-camera chroma noise reduction, a Gaussian blur of the chroma of sigma 0.3-1.2 pixels.
# The chroma blur follows the noise of real files: on the flattest 10 % of 16 x 16 blocks
# (less a plane), 45 crops of phones (SIDD) and four cameras (DND) show a chroma
# autocorrelation of 0.58-0.64 / 0.19-0.24 / 0.00-0.02 at 1 / 2 / 3 pixels. The pipeline
# gives 0.56-0.65 / 0.20-0.24 / 0.02 with no blur and 0.76-0.79 / 0.39-0.42 / 0.10 at 0.8
# (JPEG, on half the patches, adds its own); as drawn now 0.70-0.75 / 0.33-0.37 / 0.08-0.09;
# as drawn before, none on half the patches and 0.5-2.5 on the others, 0.68-0.73 /
# 0.37-0.40 / 0.14 (benchmarks/experiments/camera_noise_statistics.py). With it, and the
# earlier preset trained 12 epochs more, 12 SIDD crops 31.87 -> 32.10 dB.
SHARPEN, CHROMA_BLUR, LUMA_BLUR, JPEG_QUALITY = (0.2, 1.2), (0.3, 1.2), (0.0, 0.6), (70, 98)
STEP_CHANCE = 0.5


def _fold(seed, k):
    return tf.random.experimental.stateless_fold_in(seed, k)


def random_camera(n, seed):
    """Draw ``n`` cameras: per image its colour matrix, white balance, tone curve,
    demosaicing method and optional steps.

    Args:
        n: int or tf.Tensor. How many.
        seed: tf.Tensor. A stateless seed, shape (2,).

    Returns:
        dict of tensors with first dimension n.

    Examples:
    >>> cam = random_camera(4, tf.constant([0, 1]))
    >>> cam["rgb_to_camera"].shape
    TensorShape([4, 3, 3])
    """
    uniform = lambda k, shape=(), lo=0.0, hi=1.0: tf.random.stateless_uniform(
        tf.concat([[n], tf.constant(shape, tf.int32)], 0), _fold(seed, k), lo, hi)
    weights = uniform(0, (4,), 1e-8, 1.0)
    weights /= tf.reduce_sum(weights, axis=1, keepdims=True)
    xyz_to_camera = tf.einsum("nk,kij->nij", weights, XYZ_TO_CAMERA)
    rgb_to_camera = tf.einsum("nij,jk->nik", xyz_to_camera, SRGB_TO_XYZ)
    rgb_to_camera /= tf.reduce_sum(rgb_to_camera, axis=2, keepdims=True)  # grey stays grey
    exposure = 1.0 / tf.maximum(0.5, EXPOSURE[0] + EXPOSURE[1] * tf.random.stateless_normal(
        [n], _fold(seed, 1)))
    gains = tf.stack([uniform(2, (), *RED_GAIN), tf.ones([n]), uniform(3, (), *BLUE_GAIN)], 1)
    chance = lambda k: tf.cast(uniform(k) < STEP_CHANCE, tf.float32)
    return {
        "rgb_to_camera": rgb_to_camera,
        "gains": gains * exposure[:, None],
        "curve": tf.random.stateless_uniform([n], _fold(seed, 6), 0, len(TONE_CURVES), tf.int32),
        "gamma": uniform(7, (), *GAMMA),
        "demosaic": tf.random.stateless_uniform([n], _fold(seed, 8), 0, len(DEMOSAICS), tf.int32),
        "sharpen": chance(9) * uniform(10, (), *SHARPEN),
        "chroma_blur": uniform(12, (), *CHROMA_BLUR),
        "luma_blur": uniform(13, (), *LUMA_BLUR),
        "jpeg": chance(14),
        "quality": uniform(15, (), *JPEG_QUALITY),
    }


def read_noise(shot, seed):
    """The read noise variance (N,) of sensors with shot noise ``shot`` (N,), drawn by
    Brooks et al.'s log-linear relation (``READ_FROM_SHOT``).

    Examples:
    >>> read = read_noise(tf.constant([1e-3]), tf.constant([0, 1]))
    """
    slope, intercept, spread = READ_FROM_SHOT
    return tf.exp(slope * tf.math.log(shot) + intercept
                  + spread * tf.random.stateless_normal(tf.shape(shot), seed))


def _per_image(values, x):
    return tf.reshape(values, [-1] + [1] * (len(x.shape) - 1))


def _srgb_encode(linear):
    linear = tf.maximum(linear, 0.0)
    return tf.where(linear <= 0.0031308, 12.92 * linear,
                    1.055 * tf.pow(tf.maximum(linear, 0.0031308), 1 / 2.4) - 0.055)


def _srgb_decode(encoded):
    return tf.where(encoded <= 0.04045, encoded / 12.92,
                    tf.pow((tf.maximum(encoded, 0.04045) + 0.055) / 1.055, 2.4))


def tone_curve(linear, camera):
    """Linear camera RGB to display values by each image's tone curve: a 2.2 gamma then
    a smoothstep S-curve (Brooks et al.), the sRGB curve, or a plain gamma. Values below
    black (noise) go through the curve mirrored, -curve(-x), so that zero-mean raw noise
    stays zero-mean until the file clips it."""
    magnitude = tf.minimum(tf.abs(linear), 1.0)
    gamma = _per_image(camera["gamma"], linear)
    encoded = tf.pow(tf.maximum(magnitude, 1e-8), 1 / 2.2)
    curves = [3 * encoded ** 2 - 2 * encoded ** 3, _srgb_encode(magnitude),
              tf.pow(tf.maximum(magnitude, 1e-8), 1 / gamma)]
    return tf.where(linear < 0.0, -1.0, 1.0) * _pick(curves, camera["curve"])


def inverse_tone_curve(display, camera):
    """``tone_curve``'s inverse: display values in [0, 1] to linear camera RGB."""
    display = tf.clip_by_value(display, 0.0, 1.0)
    gamma = _per_image(camera["gamma"], display)
    unsmoothed = 0.5 - tf.sin(tf.asin(tf.clip_by_value(1.0 - 2.0 * display, -1.0, 1.0)) / 3.0)
    curves = [tf.pow(tf.maximum(unsmoothed, 1e-8), 2.2), _srgb_decode(display),
              tf.pow(tf.maximum(display, 1e-8), gamma)]
    return _pick(curves, camera["curve"])


def _pick(options, index):
    index = _per_image(index, options[0])
    out = options[0]
    for k, option in enumerate(options[1:], start=1):
        out = tf.where(tf.equal(index, k), option, out)
    return out


def unprocess(srgb, camera):
    """A clean sRGB batch (N, H, W, 3) in [0, 1] to linear raw camera RGB, before the
    mosaic: inverse tone curve, inverse colour matrix, inverse white balance.

    Examples:
    >>> raw = unprocess(x, random_camera(len(x), tf.constant([0, 1])))
    """
    linear = inverse_tone_curve(srgb, camera)
    cam = tf.einsum("nhwj,nij->nhwi", linear, camera["rgb_to_camera"])
    return cam / camera["gains"][:, None, None, :]


def process(raw, camera):
    """``unprocess``'s inverse: linear raw camera RGB (N, H, W, 3) to sRGB in [0, 1]:
    white balance, colour matrix to sRGB, tone curve."""
    balanced = tf.minimum(raw * camera["gains"][:, None, None, :], 1.0)  # saturation
    camera_to_rgb = tf.linalg.inv(camera["rgb_to_camera"])
    linear = tf.einsum("nhwj,nij->nhwi", balanced, camera_to_rgb)
    return tone_curve(linear, camera)


def mosaic(raw):
    """The Bayer mosaic (N, H, W, 1) of raw camera RGB (N, H, W, 3): one colour per pixel."""
    red, green_r, green_b, blue = _site_masks(raw)
    masks = tf.concat([red, green_r + green_b, blue], axis=-1)
    return tf.reduce_sum(raw * masks, axis=-1, keepdims=True)


def _conv(x, kernel):
    kernel = tf.constant(np.asarray(kernel, "float32")[:, :, None, None])
    pad = kernel.shape[0] // 2
    # Mirrored without repeating the edge: the Bayer pattern keeps its parity in the margin.
    padded = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")
    return tf.nn.conv2d(padded, kernel, 1, "VALID")


# Malvar, He and Cutler (2004): gradient-corrected linear demosaicing, 5 x 5 kernels / 8.
_G_AT_RB = np.array([[0, 0, -1, 0, 0], [0, 0, 2, 0, 0], [-1, 2, 4, 2, -1],
                     [0, 0, 2, 0, 0], [0, 0, -1, 0, 0]]) / 8
_ALONG_ROW = np.array([[0, 0, 0.5, 0, 0], [0, -1, 0, -1, 0], [-1, 4, 5, 4, -1],
                       [0, -1, 0, -1, 0], [0, 0, 0.5, 0, 0]]) / 8
_ALONG_COLUMN = _ALONG_ROW.T
_DIAGONAL = np.array([[0, 0, -1.5, 0, 0], [0, 2, 0, 2, 0], [-1.5, 0, 6, 0, -1.5],
                      [0, 2, 0, 2, 0], [0, 0, -1.5, 0, 0]]) / 8


def _site_masks(bayer):
    shape = tf.shape(bayer)
    rows = tf.range(shape[1])[:, None] % 2
    cols = tf.range(shape[2])[None, :] % 2
    site = lambda r, c: tf.cast((rows == r) & (cols == c), tf.float32)[None, :, :, None]
    return site(0, 0), site(0, 1), site(1, 0), site(1, 1)  # R, G in red rows, G in blue rows, B


def demosaic_bilinear(bayer):
    """RGGB mosaic (N, H, W, 1) to RGB (N, H, W, 3) by bilinear interpolation."""
    red, green_r, green_b, blue = _site_masks(bayer)
    green = green_r + green_b
    rb_kernel = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4
    g_kernel = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]]) / 4
    return tf.concat([_conv(bayer * red, rb_kernel), _conv(bayer * green, g_kernel),
                      _conv(bayer * blue, rb_kernel)], axis=-1)


def demosaic_malvar(bayer):
    """RGGB mosaic (N, H, W, 1) to RGB (N, H, W, 3) by Malvar-He-Cutler's
    gradient-corrected interpolation (sharper than bilinear, its own noise texture)."""
    red, green_r, green_b, blue = _site_masks(bayer)
    g_at_rb, row, column, diagonal = (_conv(bayer, k) for k in
                                      (_G_AT_RB, _ALONG_ROW, _ALONG_COLUMN, _DIAGONAL))
    r = bayer * red + row * green_r + column * green_b + diagonal * blue
    g = bayer * (green_r + green_b) + g_at_rb * (red + blue)
    b = bayer * blue + row * green_b + column * green_r + diagonal * red
    return tf.concat([r, g, b], axis=-1)


def demosaic(bayer, camera):
    """Each image's demosaicing method (``DEMOSAICS``)."""
    return _pick([demosaic_bilinear(bayer), demosaic_malvar(bayer)], camera["demosaic"])


def _gaussian_blur(x, sigma):
    """Per-image Gaussian blur of every channel; sigma (N,) in pixels, 0 leaves it."""
    radius = 6
    taps = tf.range(-radius, radius + 1, dtype=tf.float32)
    sigma = tf.maximum(sigma, 1e-3)[:, None]
    weights = tf.exp(-0.5 * (taps[None] / sigma) ** 2)
    weights /= tf.reduce_sum(weights, axis=1, keepdims=True)  # (N, 13)
    padded = tf.pad(x, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="SYMMETRIC")
    shape = tf.shape(x)
    rows = sum(weights[:, k, None, None, None] * padded[:, k:k + shape[1], :, :]
               for k in range(2 * radius + 1))
    return sum(weights[:, k, None, None, None] * rows[:, :, k:k + shape[2], :]
               for k in range(2 * radius + 1))


_TO_YCBCR = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5],
                      [0.5, -0.418688, -0.081312]], "float32")


def finish(difference, camera):
    """The camera's last steps, on what the noise changed (display values): noise
    reduction (a blur of the chroma and a little of the luma), then sharpening of the
    luma. Both are linear, so running them on the noise alone is running them on the
    image, less what they do to the clean image, which the clean target keeps."""
    ycc = tf.einsum("nhwj,ij->nhwi", difference, _TO_YCBCR)
    luma, chroma = ycc[..., :1], ycc[..., 1:]
    chroma = _gaussian_blur(chroma, camera["chroma_blur"])
    luma = _gaussian_blur(luma, camera["luma_blur"])
    amount = _per_image(camera["sharpen"], luma)
    luma = luma + amount * (luma - _gaussian_blur(luma, tf.ones_like(camera["sharpen"])))
    return tf.einsum("nhwj,ij->nhwi", tf.concat([luma, chroma], -1), np.linalg.inv(_TO_YCBCR))


def add_sensor_noise(raw, shot, read, seed):
    """Shot and read noise in linear raw space: variance ``shot * signal + read`` per
    pixel, then clipped at the sensor's saturation, 1. Not at black: a raw file stores
    black at an offset (64 of 1023, 512 of 16383), so the noise below it is kept and the
    noisy values average the clean ones. Clipped there, the lift after white balance and
    the colour matrix was a magenta cast: a flat patch of display value 0.1, shot noise 0.01
    (24 grey levels) came out red +9.6, green +0.9, blue +6.3 grey levels (now +0.3, +0.3,
    -1.2), and the preset trained on it turned SIDD's dark purple crops grey (sidd_4: red
    50 -> 41, blue 46 -> 40, the reference 58 / 55), while real noisy files average darker
    than their references, never lighter (12 SIDD crops: 0.2-9 grey levels).

    Args:
        raw: tf.Tensor. Linear raw values (N, H, W, C).
        shot: tf.Tensor. (N,) variance per unit of signal.
        read: tf.Tensor. (N,) signal-independent variance.
        seed: tf.Tensor. A stateless seed, shape (2,).
    """
    variance = _per_image(shot, raw) * tf.maximum(raw, 0.0) + _per_image(read, raw)
    noisy = raw + tf.sqrt(variance) * tf.random.stateless_normal(tf.shape(raw), seed)
    return tf.minimum(noisy, 1.0)


def camera_noise(x, shot, seed, camera=None):
    """Degrade clean sRGB images as a camera would have recorded them with noise:
    unprocess, mosaic, shot and read noise, then demosaic, white balance, colour matrix,
    tone curve, optional noise reduction and sharpening, 8 bits or JPEG. The image's own
    content goes through unchanged but for the 8 bits or the JPEG: only the noise is
    the camera's.

    Args:
        x: tf.Tensor. float32 images (N, H, W, C) in [0, 1]; grey images (C = 1) go
            through as grey colour and come back as their channel mean.
        shot: float or tf.Tensor. The shot noise per image ((N, 1, 1, 1) or one value);
            the read noise is drawn from it (``READ_FROM_SHOT``).
        seed: tf.Tensor. A stateless seed, shape (2,).
        camera: dict or None. ``random_camera``'s draw; None draws one from ``seed``.

    Examples:
    >>> noisy = camera_noise(x, 0.005, tf.constant([0, 1]))
    """
    x = tf.convert_to_tensor(x, tf.float32)
    # A mixture may hand this chain no image of a batch; convolutions of an empty batch
    # come back with the wrong shape, so an empty batch is returned as it is.
    return tf.cond(tf.shape(x)[0] > 0, lambda: _camera_noise(x, shot, seed, camera), lambda: x)


def _camera_noise(x, shot, seed, camera):
    seed = tf.cast(seed, tf.int64)
    grey = x.shape[-1] == 1
    rgb = tf.repeat(x, 3, axis=-1) if grey else x
    n = tf.shape(x)[0]
    if camera is None:
        camera = random_camera(n, _fold(seed, 0))
    shot = tf.broadcast_to(tf.reshape(tf.cast(shot, tf.float32), [-1]), [n])
    read = read_noise(shot, _fold(seed, 1))
    bayer = mosaic(unprocess(rgb, camera))
    noisy = add_sensor_noise(bayer, shot, read, _fold(seed, 2))
    # The noise as the camera's pipeline leaves it: the processed noisy mosaic less the
    # processed clean one, so that demosaicing's own errors on the clean image (2-3 grey
    # levels at edges) are not taught as noise; the clean target stays the photo itself.
    noise = process(demosaic(noisy, camera), camera) - process(demosaic(bayer, camera), camera)
    out = tf.clip_by_value(rgb + finish(noise, camera), 0.0, 1.0)
    out = _saved(out, camera, _fold(seed, 3))
    out = tf.reduce_mean(out, axis=-1, keepdims=True) if grey else out
    return tf.ensure_shape(out, x.shape)


def _saved(srgb, camera, seed):
    """8-bit values, or a JPEG at the image's quality (4:2:0) where the camera saves one
    (only those images are encoded)."""
    def save(images, quality, saves_jpeg, seed):
        out = np.round(images * np.float32(255.0)) / np.float32(255.0)
        chosen = saves_jpeg > 0.5
        if chosen.any():
            out[chosen] = jpeg_round_trip(images[chosen], quality[chosen], seed, SUBSAMPLING["420"])
        return out

    saved = tf.numpy_function(save, [srgb, camera["quality"], camera["jpeg"], seed], tf.float32,
                              stateful=False)
    return tf.ensure_shape(saved, srgb.shape)
