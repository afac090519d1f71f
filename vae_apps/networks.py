"""Encoder and decoder networks ("backbones") built from plain arguments.

The encoder maps images to the two parameters of a diagonal Gaussian q(z|x);
the decoder maps latent codes to per-pixel distribution parameters (logits for a
Bernoulli likelihood, means for a Gaussian one). Both work for any H x W x C.
"""

import math

import keras
from keras import layers

ARCHITECTURES = ("conv", "dense")


def _downsampled_size(size, steps):
    for _ in range(steps):
        size = math.ceil(size / 2)
    return size


def build_encoder(image_shape, latent_dim, architecture="conv", filters=(32, 64),
                  hidden_units=(256,), name="encoder"):
    """Return a functional model ``x -> (z_mean, z_log_var)``."""
    _check_architecture(architecture)
    inputs = keras.Input(shape=tuple(image_shape), name="image")
    h = inputs
    if architecture == "conv":
        for f in filters:
            h = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu")(h)
    h = layers.Flatten()(h)
    for units in hidden_units:
        h = layers.Dense(units, activation="relu")(h)
    z_mean = layers.Dense(latent_dim, name="z_mean")(h)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(h)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


def build_decoder(image_shape, latent_dim, architecture="conv", filters=(32, 64),
                  hidden_units=(256,), decoder_hidden_units=None, name="decoder"):
    """Return a functional model ``z -> pixel parameters`` of shape ``image_shape``.

    ``decoder_hidden_units`` are the dense widths after z (default: the encoder's
    ``hidden_units`` reversed; ``()`` goes straight to the first feature map, as in
    the keras.io example).

    The convolutional decoder mirrors the encoder: it starts from the encoder's
    last feature-map size, doubles it once per filter count and crops the excess,
    so odd image sizes come back exactly.
    """
    _check_architecture(architecture)
    height, width, channels = image_shape
    latent = keras.Input(shape=(latent_dim,), name="z")
    h = latent
    if decoder_hidden_units is None:
        decoder_hidden_units = tuple(reversed(hidden_units))
    for units in decoder_hidden_units:
        h = layers.Dense(units, activation="relu")(h)
    if architecture == "dense":
        h = layers.Dense(height * width * channels)(h)
        outputs = layers.Reshape((height, width, channels))(h)
        return keras.Model(latent, outputs, name=name)

    steps = len(filters)
    h0, w0 = _downsampled_size(height, steps), _downsampled_size(width, steps)
    h = layers.Dense(h0 * w0 * filters[-1], activation="relu")(h)
    h = layers.Reshape((h0, w0, filters[-1]))(h)
    for f in reversed(filters):
        h = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu")(h)
    # A stride-1 transposed convolution computes a 3x3 convolution's function but
    # trains ~2x faster on CPU than Conv2D here (measured: benchmarks/train_speed.py).
    h = layers.Conv2DTranspose(channels, 3, padding="same")(h)
    extra_h, extra_w = h0 * 2**steps - height, w0 * 2**steps - width
    if extra_h or extra_w:
        h = layers.Cropping2D(((0, extra_h), (0, extra_w)))(h)
    return keras.Model(latent, h, name=name)


def _check_architecture(architecture):
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
