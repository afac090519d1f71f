"""Corruption models for denoising, selected by spec strings.

A spec is ``name:value`` (``gaussian:0.5``, ``poisson:0.01``, ``jpeg:90``,
``salt_pepper:0.2``) or several joined by ``+`` (``poisson:0.01+gaussian:0.02``:
Poisson-Gaussian noise; ``gaussian:0.1+jpeg:90``: a noisy photo saved as JPEG),
applied in order. Most kinds also take a range ``LOW-HIGH`` (``gaussian:0-0.2``):
each image then gets its own value, drawn uniformly, so one denoiser learns every
level in the range (blind denoising; a range from 0 leaves some images clean).
Several chains joined by ``,`` make a mixture: each image gets one of them, drawn
uniformly; ``photo`` names the mix the photo presets train on (``PHOTO_NOISE``).

Every corruption is a pure function of the images and a stateless seed, so the
same seed gives the same noise, inside a ``tf.data`` pipeline or on arrays.
"""

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from vae_apps.denoising.jpeg import SUBSAMPLING, jpeg_round_trip
from vae_apps.errors import UserError


def gaussian(x, sigma, seed):
    """Add N(0, sigma^2) to every pixel, clipped to [0, 1].

    Args:
        x: tf.Tensor. float32 images (N, H, W, C) in [0, 1].
        sigma: float. The standard deviation.
        seed: tf.Tensor. A stateless seed, shape (2,).

    Examples:
    >>> noisy = gaussian(x, 0.5, tf.constant([0, 1]))
    """
    return tf.clip_by_value(x + sigma * tf.random.stateless_normal(tf.shape(x), seed), 0.0, 1.0)


POISSON_EXACT_BELOW = 50.0


def poisson(x, gain, seed):
    """Signal-dependent (shot) noise: ``gain * Poisson(x / gain)``, clipped to [0, 1].

    The variance is ``gain * x``: a pixel at full scale has ``1 / gain`` photons
    (``poisson:0.033`` is a peak of about 30 photons, photon-limited microscopy).
    Chained with ``gaussian`` it is the Poisson-Gaussian model of camera sensors.

    Args:
        x: tf.Tensor. float32 images (N, H, W, C) in [0, 1].
        gain: float or tf.Tensor. Variance per unit of signal (per image: (N, 1, 1, 1)).
        seed: tf.Tensor. A stateless seed, shape (2,).

    Examples:
    >>> noisy = poisson(x, 0.01, tf.constant([0, 1]))
    """
    # Below 1e-5 (100,000 photons) the noise is under 1/255 everywhere: left clean.
    gain = tf.broadcast_to(tf.cast(gain, tf.float32), tf.shape(x))
    safe = tf.maximum(gain, 1e-5)
    photons = x / safe
    # Exact draws where counts are few; above POISSON_EXACT_BELOW the normal law of the
    # same mean and variance is within 1 % of it, and costs far less to draw.
    small = tf.minimum(photons, POISSON_EXACT_BELOW)
    exact = tf.random.stateless_poisson(tf.shape(x), seed, small, dtype=tf.float32)
    normal = photons + tf.sqrt(photons) * tf.random.stateless_normal(
        tf.shape(x), tf.random.experimental.stateless_fold_in(seed, 1))
    counts = tf.where(photons < POISSON_EXACT_BELOW, exact, normal)
    return tf.where(gain < 1e-5, x, tf.clip_by_value(counts * safe, 0.0, 1.0))


# Camera pipelines interpolate colour from a mosaic and filter: their noise is
# correlated between neighbouring pixels and between channels. A 3 x 3 binomial
# blur and a shared component across channels give both; the result is rescaled to
# the requested standard deviation per pixel.
_BINOMIAL = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]) / 16.0
CHANNEL_CORRELATION = 0.5


def correlated(x, sigma, seed):
    """Gaussian noise correlated across neighbouring pixels and colour channels, as
    after demosaicing: per-pixel standard deviation ``sigma``, clipped to [0, 1].

    Args:
        x: tf.Tensor. float32 images (N, H, W, C) in [0, 1].
        sigma: float or tf.Tensor. The per-pixel standard deviation (per image: (N, 1, 1, 1)).
        seed: tf.Tensor. A stateless seed, shape (2,).

    Examples:
    >>> noisy = correlated(x, 0.05, tf.constant([0, 1]))
    """
    shape = tf.shape(x)
    white = tf.random.stateless_normal(shape, seed)
    channels = x.shape[-1]
    if channels > 1:  # a shared component: a correlation of CHANNEL_CORRELATION
        shared = tf.random.stateless_normal(
            tf.concat([shape[:3], [1]], 0), tf.random.experimental.stateless_fold_in(seed, 1))
        rho = CHANNEL_CORRELATION
        white = np.sqrt(1 - rho) * white + np.sqrt(rho) * shared
    kernel = tf.constant(np.tile(_BINOMIAL[:, :, None, None], (1, 1, channels, 1)), tf.float32)
    blurred = tf.nn.depthwise_conv2d(white, kernel, [1, 1, 1, 1], "SAME")
    blurred /= float(np.sqrt(np.sum(_BINOMIAL ** 2)))  # back to unit variance
    return tf.clip_by_value(x + sigma * blurred, 0.0, 1.0)


def _jpeg_with(subsampling):
    def jpeg(x, quality, seed):
        out = tf.numpy_function(lambda a, q, s: jpeg_round_trip(a, q, s, subsampling),
                                [x, tf.cast(quality, tf.float32), seed], tf.float32,
                                stateful=False)
        return tf.ensure_shape(out, x.shape)

    return jpeg


jpeg = _jpeg_with(None)
jpeg.__doc__ = """Save as JPEG at ``quality`` and decode (through PIL, as users' files are):
    colour images get 4:2:0 or 4:4:4 chroma subsampling, drawn per image from the seed
    (``jpeg420`` and ``jpeg444`` fix it).

    Args:
        x: tf.Tensor. float32 images (N, H, W, C) in [0, 1], rounded to 8 bits first.
        quality: float or tf.Tensor. JPEG quality, 1-100 (per image: (N, 1, 1, 1)).
        seed: tf.Tensor. A stateless seed, shape (2,).

    Examples:
    >>> saved = jpeg(x, 90, tf.constant([0, 1]))
    """


def salt_pepper(x, p, seed):
    """Set a fraction p of pixels to 0 or 1 (half each).

    Args:
        x: tf.Tensor. float32 images (N, H, W, C) in [0, 1].
        p: float. The fraction of pixels, in (0, 1].
        seed: tf.Tensor. A stateless seed, shape (2,).

    Examples:
    >>> noisy = salt_pepper(x, 0.2, tf.constant([0, 1]))
    """
    u = tf.random.stateless_uniform(tf.shape(x), seed)
    return tf.where(u < p / 2, 0.0, tf.where(u < p, 1.0, x))


def mask(x, p, seed):
    """Drop a fraction p of pixels to 0.

    Args:
        x: tf.Tensor. float32 images (N, H, W, C) in [0, 1].
        p: float. The expected share of pixels dropped, in (0, 1]; each pixel is
            dropped independently, so images lose slightly different numbers.
        seed: tf.Tensor. A stateless seed, shape (2,).

    Examples:
    >>> noisy = mask(x, 0.3, tf.constant([0, 1]))
    """
    return tf.where(tf.random.stateless_uniform(tf.shape(x), seed) < p, 0.0, x)


def block(x, size, seed):
    """Black out one random size x size square per image (clipped to the image).

    Args:
        x: tf.Tensor. float32 images (N, H, W, C) in [0, 1].
        size: int. The square's side in pixels.
        seed: tf.Tensor. A stateless seed, shape (2,).

    Examples:
    >>> noisy = block(x, 8, tf.constant([0, 1]))
    """
    size = int(size)
    shape = tf.shape(x)
    n, h, w = shape[0], shape[1], shape[2]
    corner = tf.random.stateless_uniform((n, 2), seed, dtype=tf.float32)
    top = tf.cast(corner[:, 0] * tf.cast(tf.maximum(h - size, 0) + 1, tf.float32), tf.int32)
    left = tf.cast(corner[:, 1] * tf.cast(tf.maximum(w - size, 0) + 1, tf.float32), tf.int32)
    rows = tf.range(h)[None, :]
    cols = tf.range(w)[None, :]
    in_rows = (rows >= top[:, None]) & (rows < top[:, None] + size)
    in_cols = (cols >= left[:, None]) & (cols < left[:, None] + size)
    square = in_rows[:, :, None, None] & in_cols[:, None, :, None]
    return tf.where(square, 0.0, x)


def camera(x, shot, seed):
    """Real camera noise: the clean sRGB images run back through a camera's pipeline
    to its raw sensor values, get shot and read noise there, and are processed again
    (demosaicing, white balance, colour matrix, tone curve, optional sharpening and
    noise reduction, JPEG): ``vae_apps.denoising.camera.camera_noise``.

    Args:
        x: tf.Tensor. float32 images (N, H, W, C) in [0, 1].
        shot: float or tf.Tensor. Shot noise, variance per unit of linear raw signal
            (1e-4: a phone at ISO 100; 1.2e-2: at ISO 12,800); a range is drawn
            log-uniformly.
        seed: tf.Tensor. A stateless seed, shape (2,).

    Examples:
    >>> noisy = camera(x, 0.003, tf.constant([0, 1]))
    """
    from vae_apps.denoising.camera import camera_noise

    return camera_noise(x, shot, seed)


# Real camera noise over the range of phones and cameras (shot noise per unit of raw signal).
CAMERA_NOISE = "camera:0.0001-0.02"
# The photo presets' training mix, one chain per patch: what users' folders hold.
PHOTO_NOISE = ",".join([
    "gaussian:0-0.004",  # clean (under 1 grey level): a clean photo must come back unchanged
    "gaussian:0-0.2",  # i.i.d. Gaussian, 0-51 grey levels
    "poisson:0.0005-0.03+gaussian:0-0.04",  # shot and read noise added to the file
    "gaussian:0-0.2+jpeg:60-95",  # a noisy photo saved as JPEG (4:2:0 or 4:4:4)
    # A camera's or phone's own file, ISO 100 to beyond 12,800 (vae_apps.denoising.camera),
    # twice: a third of the patches. It replaced "correlated:0-0.15" and a camera chain of
    # Poisson, correlated noise and JPEG, which left real camera noise in place.
    CAMERA_NOISE, CAMERA_NOISE,
])
# Mixes a spec may name (``--noise photo``).
NAMED_MIXES = {"photo": PHOTO_NOISE}

# name -> (function, parameter type, valid range description, check, takes LOW-HIGH)
CORRUPTIONS = {
    "gaussian": (gaussian, float, "a standard deviation > 0", lambda v: v > 0, True),
    "poisson": (poisson, float, "a gain > 0 (variance per unit of signal)", lambda v: v > 0, True),
    "correlated": (correlated, float, "a standard deviation > 0", lambda v: v > 0, True),
    "jpeg": (jpeg, int, "a JPEG quality in 1-100", lambda v: 1 <= v <= 100, True),
    "jpeg420": (_jpeg_with(SUBSAMPLING["420"]), int, "a JPEG quality in 1-100",
                lambda v: 1 <= v <= 100, True),
    "jpeg444": (_jpeg_with(SUBSAMPLING["444"]), int, "a JPEG quality in 1-100",
                lambda v: 1 <= v <= 100, True),
    "camera": (camera, float, "a shot noise > 0 (variance per unit of raw signal), "
               "e.g. 0.0001-0.012", lambda v: v > 0, True),
    "salt_pepper": (salt_pepper, float, "a fraction in (0, 1]", lambda v: 0 < v <= 1, True),
    "mask": (mask, float, "a fraction in (0, 1]", lambda v: 0 < v <= 1, True),
    "block": (block, int, "a square size >= 1 in pixels", lambda v: v >= 1, False),
}


@dataclass(frozen=True)
class Noise:
    """A parsed noise spec: one or more chains of (corruption, value) steps.

    Made by ``parse_noise``; ``apply(x, seed)`` corrupts NumPy images reproducibly,
    calling it on a tensor batch with a stateless seed corrupts inside ``tf.data``.
    With several chains (a mixture) each image gets one chain, drawn uniformly.

    Args:
        spec: str. The spec it was parsed from (``"gaussian:0-0.2,gaussian:0.1+jpeg:90"``).
        chains: tuple. Per chain, ``(function, value or (low, high))`` steps applied in
            order; a range draws each image's strength uniformly.

    Examples:
    >>> noisy = parse_noise("salt_pepper:0.2").apply(x, seed=0)
    """

    spec: str
    chains: tuple  # of tuples of (function, value or (low, high))

    def __call__(self, x, seed):
        """Corrupt a float32 batch (N, H, W, C) with a stateless seed of shape (2,)."""
        x = tf.convert_to_tensor(x, tf.float32)
        seed = tf.cast(seed, tf.int64)
        if len(self.chains) == 1:
            return _apply_chain(self.chains[0], x, seed)
        count = len(self.chains)
        choice = tf.random.stateless_uniform(
            (tf.shape(x)[0],), tf.random.experimental.stateless_fold_in(seed, -2),
            maxval=count, dtype=tf.int32)
        # Each chain corrupts only its own images (a sixth of the work with six chains).
        parts = tf.dynamic_partition(x, choice, count)
        where = tf.dynamic_partition(tf.range(tf.shape(x)[0]), choice, count)
        outputs = [_apply_chain(chain, part, tf.random.experimental.stateless_fold_in(seed, c))
                   for c, (chain, part) in enumerate(zip(self.chains, parts))]
        return tf.ensure_shape(tf.dynamic_stitch(where, outputs), x.shape)

    def apply(self, x, seed=0, batch_size=1024):
        """Corrupt a NumPy array reproducibly: the same seed gives the same noise."""
        x = np.asarray(x, "float32")
        out = np.empty_like(x)
        for b, start in enumerate(range(0, len(x), batch_size)):
            out[start:start + batch_size] = self(x[start:start + batch_size], [seed, b]).numpy()
        return out


# Kinds whose ranges are drawn log-uniformly: shot noise spans two decades of ISO.
LOG_UNIFORM = (camera,)


def _apply_chain(chain, x, seed):
    for i, (fn, value) in enumerate(chain):
        step_seed = tf.random.experimental.stateless_fold_in(seed, i)
        if isinstance(value, tuple):  # a range: one value per image
            low, high = value
            log = fn in LOG_UNIFORM
            value = tf.random.stateless_uniform(
                (tf.shape(x)[0], 1, 1, 1), tf.random.experimental.stateless_fold_in(step_seed, -1),
                minval=float(np.log(low) if log else low), maxval=float(np.log(high) if log else high))
            value = tf.exp(value) if log else value
        x = fn(x, value, step_seed)
    return x


def parse_noise(spec):
    """Parse a noise spec into a ``Noise``; raise UserError if malformed.

    Args:
        spec: str. ``NAME:VALUE`` corruptions joined by ``+`` (applied in order), and
            such chains joined by ``,`` (a mixture: one chain per image); NAME one of
            ``CORRUPTIONS`` (gaussian, poisson, correlated, jpeg, jpeg420, jpeg444,
            salt_pepper, mask, block); a range ``LOW-HIGH`` draws the level afresh per
            image where the kind allows it.

    Examples:
    >>> noise = parse_noise("gaussian:0.5+mask:0.1")
    >>> camera = parse_noise("poisson:0.001-0.02+gaussian:0-0.03+jpeg:60-95")
    >>> noisy = noise.apply(x, seed=0)
    """
    chains = []
    for chain in str(NAMED_MIXES.get(spec, spec)).split(","):
        if not chain.strip():
            raise UserError(f"noise {spec!r}: an empty chain between commas")
        chains.append(tuple(_parse_step(part) for part in chain.split("+")))
    return Noise(spec=str(spec), chains=tuple(chains))


def _parse_step(part):
    name, _, raw = part.strip().partition(":")
    if name not in CORRUPTIONS:
        raise UserError(f"noise {part!r}: unknown kind {name!r}; use one of "
                        f"{', '.join(CORRUPTIONS)} as NAME:VALUE, e.g. gaussian:0.5")
    fn, kind, expected, valid, ranged = CORRUPTIONS[name]
    low, dash, high = raw.partition("-")
    if dash and not ranged:
        raise UserError(f"noise {part!r}: {name} takes one value, not a range")
    try:
        values = [kind(v) for v in ((low, high) if dash else (raw,))]
    except ValueError:
        example = "8" if kind is int else "0.2 or a range such as 0.02-0.2"
        raise UserError(f"noise {part!r}: {name} takes {expected}, e.g. {name}:{example}") from None
    # A range may start at 0 (some images left clean); its top must be valid.
    if not valid(values[-1]) or values[0] < 0:
        raise UserError(f"noise {part!r}: {name} takes {expected}")
    if fn in LOG_UNIFORM and not valid(values[0]):  # drawn on a log scale: no 0
        raise UserError(f"noise {part!r}: {name}'s range is drawn log-uniformly; its LOW must "
                        f"be > 0 too")
    if dash and values[0] >= values[1]:
        raise UserError(f"noise {part!r}: a range LOW-HIGH needs LOW < HIGH")
    return fn, tuple(values) if dash else values[0]
