"""Corruption models for denoising, selected by spec strings.

A spec is ``name:value`` (``gaussian:0.5``, ``salt_pepper:0.2``, ``mask:0.3``,
``block:8``) or several joined by ``+`` (``gaussian:0.3+mask:0.1``), applied in
order. ``gaussian``, ``salt_pepper`` and ``mask`` also take a range ``LOW-HIGH``
(``gaussian:0.02-0.2``): each image then gets its own value, drawn uniformly, so
one denoiser learns every level in the range (blind denoising). Every corruption is a pure function of the images and a stateless seed,
so the same seed gives the same noise, inside a ``tf.data`` pipeline or on arrays.
"""

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

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


# name -> (function, parameter type, valid range description, check, takes LOW-HIGH)
CORRUPTIONS = {
    "gaussian": (gaussian, float, "a standard deviation > 0", lambda v: v > 0, True),
    "salt_pepper": (salt_pepper, float, "a fraction in (0, 1]", lambda v: 0 < v <= 1, True),
    "mask": (mask, float, "a fraction in (0, 1]", lambda v: 0 < v <= 1, True),
    "block": (block, int, "a square size >= 1 in pixels", lambda v: v >= 1, False),
}


@dataclass(frozen=True)
class Noise:
    """A parsed noise spec: a sequence of (corruption, value) applied in order.

    Made by ``parse_noise``; ``apply(x, seed)`` corrupts NumPy images reproducibly,
    calling it on a tensor batch with a stateless seed corrupts inside ``tf.data``.

    Args:
        spec: str. The spec it was parsed from (``"gaussian:0.1-0.3+mask:0.2"``).
        steps: tuple. ``(function, value or (low, high))`` pairs, applied in order; a
            range draws each image's strength uniformly.

    Examples:
    >>> noisy = parse_noise("salt_pepper:0.2").apply(x, seed=0)
    """

    spec: str
    steps: tuple  # (function, value or (low, high))

    def __call__(self, x, seed):
        """Corrupt a float32 batch (N, H, W, C) with a stateless seed of shape (2,)."""
        x = tf.convert_to_tensor(x, tf.float32)
        seed = tf.cast(seed, tf.int64)
        for i, (fn, value) in enumerate(self.steps):
            step_seed = tf.random.experimental.stateless_fold_in(seed, i)
            if isinstance(value, tuple):  # a range: one value per image
                low, high = value
                value = tf.random.stateless_uniform(
                    (tf.shape(x)[0], 1, 1, 1), tf.random.experimental.stateless_fold_in(step_seed, -1),
                    minval=low, maxval=high)
            x = fn(x, value, step_seed)
        return x

    def apply(self, x, seed=0, batch_size=1024):
        """Corrupt a NumPy array reproducibly: the same seed gives the same noise."""
        x = np.asarray(x, "float32")
        out = np.empty_like(x)
        for b, start in enumerate(range(0, len(x), batch_size)):
            out[start:start + batch_size] = self(x[start:start + batch_size], [seed, b]).numpy()
        return out


def parse_noise(spec):
    """Parse a noise spec into a ``Noise``; raise UserError if malformed.

    Args:
        spec: str. ``NAME:VALUE`` corruptions joined by ``+``; NAME one of ``CORRUPTIONS``
            (gaussian, salt_pepper, mask, block); a range ``LOW-HIGH`` draws the level
            afresh per image where the kind allows it.

    Examples:
    >>> noise = parse_noise("gaussian:0.5+mask:0.1")
    >>> noisy = noise.apply(x, seed=0)
    """
    steps = []
    for part in str(spec).split("+"):
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
        if dash and values[0] >= values[1]:
            raise UserError(f"noise {part!r}: a range LOW-HIGH needs LOW < HIGH")
        steps.append((fn, tuple(values) if dash else values[0]))
    return Noise(spec=str(spec), steps=tuple(steps))
