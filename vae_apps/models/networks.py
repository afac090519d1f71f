"""Encoder and decoder networks ("backbones") built from plain arguments.

The encoder maps images to the two parameters of a diagonal Gaussian q(z|x);
the decoder maps latent codes to per-pixel distribution parameters (logits for a
Bernoulli likelihood, means for a Gaussian one). Both work for any H x W x C.
"""

import math

import keras
import numpy as np
from keras import layers, ops

ARCHITECTURES = ("conv", "dense")


def _downsampled_size(size, steps):
    for _ in range(steps):
        size = math.ceil(size / 2)
    return size


def build_encoder(image_shape, latent_dim, architecture="conv", filters=(32, 64),
                  hidden_units=(256,), name="encoder"):
    """Return a functional model ``x -> (z_mean, z_log_var)``.

    Args:
        image_shape: (int, int, int). (height, width, channels).
        latent_dim: int. Size of z.
        architecture: str. ``"conv"`` (3 x 3 stride-2 convolutions, one per
            ``filters`` entry) or ``"dense"``.
        filters: tuple of int. Convolution widths.
        hidden_units: tuple of int. Dense widths between the features and the code.
        name: str. The model's name.

    Examples:
    >>> encoder = build_encoder((28, 28, 1), latent_dim=32, filters=(32, 64), hidden_units=(512,))
    >>> z_mean, z_log_var = encoder(x)
    """
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
                  hidden_units=(256,), decoder_hidden_units=None, outputs_per_channel=1,
                  name="decoder"):
    """Return a functional model ``z -> pixel parameters`` of shape ``image_shape``.

    The convolutional decoder mirrors the encoder: it starts from the encoder's
    last feature-map size, doubles it once per filter count and crops the excess,
    so odd image sizes come back exactly.

    Args:
        image_shape: (int, int, int). (height, width, channels).
        latent_dim: int. Size of z.
        architecture: str. ``"conv"`` or ``"dense"``, as the encoder's.
        filters: tuple of int. The encoder's convolution widths (used in reverse).
        hidden_units: tuple of int. The encoder's dense widths.
        decoder_hidden_units: tuple of int or None. Dense widths after z (default:
            ``hidden_units`` reversed; ``()`` goes straight to the first feature map,
            as in the keras.io example).
        outputs_per_channel: int. Values per pixel and channel; above 1 for
            ``PixelContext``, laid out as all channels' first values, then the rest.
        name: str. The model's name.

    Examples:
    >>> decoder = build_decoder((28, 28, 1), latent_dim=32, hidden_units=(512,))
    >>> logits = decoder(z)  # (N, 28, 28, 1)
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
        h = layers.Dense(height * width * channels * outputs_per_channel)(h)
        outputs = layers.Reshape((height, width, channels * outputs_per_channel))(h)
        return keras.Model(latent, outputs, name=name)

    steps = len(filters)
    h0, w0 = _downsampled_size(height, steps), _downsampled_size(width, steps)
    h = layers.Dense(h0 * w0 * filters[-1], activation="relu")(h)
    h = layers.Reshape((h0, w0, filters[-1]))(h)
    for f in reversed(filters):
        h = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu")(h)
    # A stride-1 transposed convolution computes a 3x3 convolution's function, but its
    # backward pass ran about 3x faster on CPU than Conv2D's (benchmarks/train_speed.py).
    h = layers.Conv2DTranspose(channels * outputs_per_channel, 3, padding="same")(h)
    extra_h, extra_w = h0 * 2**steps - height, w0 * 2**steps - width
    if extra_h or extra_w:
        h = layers.Cropping2D(((0, extra_h), (0, extra_w)))(h)
    return keras.Model(latent, h, name=name)


# The fully convolutional networks work at 1/2 and 1/4 of the image resolution, so
# images must be a multiple of this many pixels high and wide (pad, then crop back).
FULLY_CONV_STRIDE = 4


def _two_scale_block(h, filters, blocks, dtype):
    """Convolutions at the current (1/2) scale and at half of it (1/4), joined back.

    Each 3x3 convolution costs the same per image pixel at both scales (filters at
    1/2, 2 x filters at 1/4), and the lower scale widens the receptive field cheaply.
    """
    conv = dict(padding="same", activation="relu", dtype=dtype)
    for _ in range(blocks[0]):
        h = layers.Conv2D(filters, 3, **conv)(h)
    skip = h
    h = layers.Conv2D(2 * filters, 2, strides=2, **conv)(h)
    for _ in range(blocks[1]):
        h = layers.Conv2D(2 * filters, 3, **conv)(h)
    h = layers.Conv2DTranspose(filters, 2, strides=2, dtype=dtype)(h)
    h = layers.ReLU(dtype=dtype)(layers.Add(dtype=dtype)([h, skip]))
    return layers.Conv2D(filters, 3, **conv)(h)


def build_fully_conv_encoder(channels, filters=64, latent_channels=16, blocks=(2, 2),
                             dtype=None, name="encoder", input_channels=None):
    """Return ``image -> (z_mean, z_log_var)``: maps of Gaussians at 1/2 resolution.

    Args:
        channels: int. 1 (grey) or 3 (colour).
        filters: int. Width at 1/2 resolution (twice as many at 1/4).
        latent_channels: int. Latent Gaussians per 2 x 2 block of pixels.
        blocks: (int, int). 3 x 3 convolutions at (1/2, 1/4) resolution.
        dtype: str or None. A Keras dtype policy (``"mixed_bfloat16"`` computes in
            bfloat16); the latent parameters are always float32.
        name: str. The model's name.
        input_channels: int or None. Channels of its input, if more than the image's
            (``channels + 1`` for a model that also takes a noise-level map).

    Works for any height and width that are multiples of ``FULLY_CONV_STRIDE``.

    Examples:
    >>> encoder = build_fully_conv_encoder(channels=3, filters=64)
    >>> z_mean, z_log_var = encoder(photos)  # (N, H/2, W/2, 16) each
    """
    inputs = keras.Input(shape=(None, None, input_channels or channels), name="image")
    # A 2 x 2 stride-2 convolution: space-to-depth and a 1 x 1 convolution in one layer.
    h = layers.Conv2D(filters, 2, strides=2, activation="relu", dtype=dtype)(inputs)
    h = _two_scale_block(h, filters, blocks, dtype)
    z_mean = layers.Conv2D(latent_channels, 3, padding="same", dtype="float32", name="z_mean")(h)
    # The posterior starts narrow (sigma = e^-3): with unit-variance codes at the start,
    # the decoder learnt to ignore z and the KL term collapsed it within 100 steps
    # (denoising RMSE stuck at the input's; measured on the bundled photos).
    z_log_var = layers.Conv2D(latent_channels, 3, padding="same", dtype="float32",
                              bias_initializer=keras.initializers.Constant(-6.0),
                              name="z_log_var")(h)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


def build_fully_conv_decoder(channels, filters=64, latent_channels=16, blocks=(2, 2),
                             conditional=False, dtype=None, name="decoder", input_channels=None,
                             refine_filters=0):
    """Return ``z -> image-sized output`` (or ``[z, image] -> output`` if ``conditional``).

    Args:
        channels: int. 1 (grey) or 3 (colour).
        filters: int. Width at 1/2 resolution (twice as many at 1/4).
        latent_channels: int. Latent Gaussians per 2 x 2 block of pixels.
        blocks: (int, int). 3 x 3 convolutions at (1/2, 1/4) resolution.
        conditional: bool. The decoder also sees the input image (through its own
            2 x 2 stride-2 convolution), not only z.
        dtype: str or None. A Keras dtype policy; the output is always float32.
        name: str. The model's name.
        input_channels: int or None. Channels of the conditioning input, if more than
            the image's (``channels + 1`` with a noise-level map).
        refine_filters: int. If > 0, the decoder ends at full resolution: up to
            ``refine_filters`` features, joined with the input image, then two 3 x 3
            convolutions. Without it each 2 x 2 block of output pixels comes from one
            feature vector through its own weights (depth-to-space), which lays a
            period-2 pattern over photos; the full-resolution convolutions mix the
            four phases and see the pixels themselves.

    Examples:
    >>> decoder = build_fully_conv_decoder(channels=1, conditional=True)
    >>> correction = decoder([z, noisy])  # (N, H, W, 1)
    """
    z = keras.Input(shape=(None, None, latent_channels), name="z")
    h = layers.Conv2D(filters, 3, padding="same", dtype=dtype)(z)
    inputs = [z]
    if conditional:
        image = keras.Input(shape=(None, None, input_channels or channels), name="image")
        inputs.append(image)
        seen = layers.Conv2D(filters, 2, strides=2, dtype=dtype)(image)
        h = layers.Add(dtype=dtype)([h, seen])
    h = layers.ReLU(dtype=dtype)(h)
    h = _two_scale_block(h, filters, blocks, dtype)
    if refine_filters:
        h = layers.Conv2DTranspose(refine_filters, 2, strides=2, activation="relu", dtype=dtype)(h)
        if conditional:
            h = layers.Concatenate(dtype=dtype)([h, image])
        h = layers.Conv2D(refine_filters, 3, padding="same", activation="relu", dtype=dtype)(h)
        out = layers.Conv2D(channels, 3, padding="same", dtype="float32", name="pixels")(h)
    else:
        # Depth-to-space and a 1 x 1 convolution in one layer, back to full resolution.
        out = layers.Conv2DTranspose(channels, 2, strides=2, dtype="float32", name="pixels")(h)
    return keras.Model(inputs if conditional else z, out, name=name)


def build_noise_level_estimator(channels, filters=32, dtype=None, name="noise_level"):
    """Return ``image -> per-pixel noise level map`` (N, H/2, W/2, 1), >= 0, in the
    units of the networks' noise-level channel (``NOISE_MAP_SCALE`` x the level).

    Trained so that its mean over a patch is the patch's noise level; an image's level
    is read as the map's median (``vae_apps.denoising.full_resolution``), the same
    for the whole image whatever the tiling. Three 3 x 3 convolutions at 1/2
    resolution see about 14 x 14 pixels: enough to tell grain from edges locally.

    Args:
        channels: int. 1 (grey) or 3 (colour).
        filters: int. Width.
        dtype: str or None. A Keras dtype policy; the map is float32.
        name: str. The model's name.

    Examples:
    >>> estimator = build_noise_level_estimator(channels=3)
    >>> sigma = estimator(photos).mean(axis=(1, 2, 3))  # one level per photo
    """
    inputs = keras.Input(shape=(None, None, channels), name="image")
    h = layers.Conv2D(filters, 2, strides=2, activation="relu", dtype=dtype)(inputs)
    for _ in range(3):
        h = layers.Conv2D(filters, 3, padding="same", activation="relu", dtype=dtype)(h)
    # Starts at softplus(-2) = 0.13 (in NOISE_MAP_SCALE units, about 6 grey levels): a
    # start of softplus(0), 35 grey levels, drove every unit below zero within a few
    # hundred steps, and the estimator answered 0 for every image.
    out = layers.Conv2D(1, 1, activation="softplus", dtype="float32", name="level",
                        bias_initializer=keras.initializers.Constant(-2.0))(h)
    return keras.Model(inputs, out, name=name)


@keras.saving.register_keras_serializable(package="vae_apps")
class PixelContext(layers.Layer):
    """Pixel parameters that depend on z and on the pixels above and to the left.

    ``call(decoder_output, image)``: the decoder gives, per pixel and channel, a base
    value ``a`` and ``maps`` weights ``b``; a masked ``kernel_size`` convolution of the
    image (mask "A": only pixels earlier in raster order) gives ``maps`` context
    values ``c``. The result is ``a + sum_m b_m * c_m``: a one-layer PixelCNN head
    whose use of the context is steered by z (after PixelVAE, Gulrajani et al. 2017).

    Args:
        channels: int. The image's channels.
        maps: int. Context values per pixel and channel (the ``--pixel-context`` M).
        kernel_size: int. Side of the masked window (odd).

    Examples:
    >>> head = PixelContext(channels=1, maps=4)
    >>> logits = head(decoder(z), x)  # each pixel's logit sees x above and left of it
    """

    def __init__(self, channels, maps, kernel_size=7, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.maps, self.kernel_size = int(channels), int(maps), int(kernel_size)
        half = self.kernel_size // 2
        self.offsets = [(dy, dx) for dy in range(-half, 1) for dx in range(-half, half + 1)
                        if dy < 0 or dx < 0]
        # The masked convolution as shifted copies and one matrix product: several
        # times faster to train on CPU than a Conv2D with 1 input channel and a mask.
        self.context = layers.Dense(self.channels * self.maps, name="context")
        # Its input width is known now, so the layer is complete (and loadable) at once.
        self.context.build((None, len(self.offsets) * self.channels))
        self.built = True

    def call(self, decoder_output, image):
        """``image`` may hold each image once for several codes in ``decoder_output``
        (all codes' first image, then all second ones, ...): its context is computed
        once and repeated, which importance sampling with many codes per image needs."""
        half = self.kernel_size // 2
        height, width = image.shape[1], image.shape[2]
        padded = ops.pad(image, [[0, 0], [half, 0], [half, half], [0, 0]])
        shifted = [padded[:, half + dy:half + dy + height, half + dx:half + dx + width]
                   for dy, dx in self.offsets]
        context = self.context(ops.concatenate(shifted, axis=-1))
        repeats = ops.shape(decoder_output)[0] // ops.shape(context)[0]
        context = ops.tile(context, (repeats, 1, 1, 1))
        mixed = decoder_output[..., self.channels:] * context
        mixed = ops.reshape(mixed, (-1, height, width, self.channels, self.maps))
        return decoder_output[..., :self.channels] + ops.sum(mixed, axis=-1)

    def compute_output_shape(self, decoder_output_shape, image_shape):
        return tuple(image_shape)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "maps": self.maps,
                "kernel_size": self.kernel_size}


class PhaseConv2DTranspose(layers.Layer):
    """A 3x3, stride-2, ``"same"`` ``Conv2DTranspose``, computed as one ``Conv2D``.

    Each output pixel of such a layer sees a 2x2 window of its input, weighted by its
    phase (the parity of its row and column). One convolution to four times the
    channels (one group per phase) and ``depth_to_space`` give the same outputs, and
    the convolution, bias and activation then run fused in oneDNN: on a 2-core CPU in
    bfloat16, 250 codes to 28x28x32 took 3.4 ms instead of 6.9 ms, most of which was
    the unfused bias and ReLU. Inference only: it holds a snapshot of the layer's
    weights, is never trained and never saved (see ``phase_decomposed``).

    Args:
        conv_transpose: keras.layers.Conv2DTranspose. The ``keras.layers.Conv2DTranspose`` to copy (built; see
            ``PhaseConv2DTranspose.applies_to``).

    Examples:
    >>> fast = PhaseConv2DTranspose(decoder.get_layer("conv2d_transpose"))  # doctest: +SKIP
    """

    # (output phase, window row: 0 = input row m - 1, 1 = row m) -> kernel row
    _TAPS = {(0, 1): 0, (0, 0): 2, (1, 1): 1}

    def __init__(self, conv_transpose, **kwargs):
        super().__init__(dtype=conv_transpose.dtype_policy,
                         name=f"{conv_transpose.name}_phases", **kwargs)
        weights = ops.convert_to_numpy(conv_transpose.kernel)  # (3, 3, out, in)
        out_channels, in_channels = weights.shape[2:]
        kernel = np.zeros((2, 2, in_channels, 4, out_channels), weights.dtype)
        for (row_phase, dy), ky in self._TAPS.items():
            for (col_phase, dx), kx in self._TAPS.items():
                kernel[dy, dx, :, 2 * row_phase + col_phase] = weights[ky, kx].T
        self.phase_kernel = kernel.reshape(2, 2, in_channels, 4 * out_channels)
        bias = (ops.convert_to_numpy(conv_transpose.bias) if conv_transpose.use_bias
                else np.zeros(out_channels, weights.dtype))
        self.phase_bias = np.tile(bias, 4)
        self.activation = conv_transpose.activation

    @staticmethod
    def applies_to(layer):
        """Whether ``layer`` is a transposed convolution this class reproduces."""
        return (isinstance(layer, layers.Conv2DTranspose) and tuple(layer.kernel_size) == (3, 3)
                and tuple(layer.strides) == (2, 2) and layer.padding == "same"
                and tuple(layer.dilation_rate) == (1, 1) and layer.output_padding is None
                and layer.data_format == "channels_last")

    def call(self, x):
        import tensorflow as tf

        kernel = tf.constant(self.phase_kernel, self.compute_dtype)
        bias = tf.constant(self.phase_bias, self.compute_dtype)
        # Padding one row and column at the top and left puts input rows m - 1 and m in
        # every 2x2 window; the explicit padding keeps conv + bias + activation fusable.
        h = tf.nn.conv2d(x, kernel, 1, [[0, 0], [1, 0], [1, 0], [0, 0]])
        return tf.nn.depth_to_space(self.activation(tf.nn.bias_add(h, bias)), 2)

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        return (batch, None if height is None else 2 * height,
                None if width is None else 2 * width, len(self.phase_bias) // 4)


def phase_decomposed(network):
    """A copy of ``network`` for inference with every 3x3 stride-2 transposed
    convolution computed as a ``PhaseConv2DTranspose`` (same outputs, measured
    1.75x faster for the MNIST decoder on CPU); other layers are shared, not copied.

    Args:
        network: keras.Model. A functional ``keras.Model`` (an encoder or decoder built here).

    Examples:
    >>> fast_decoder = phase_decomposed(model.decoder)  # doctest: +SKIP
    >>> fast_decoder(z)  # the same as model.decoder(z)  # doctest: +SKIP
    """
    return keras.models.clone_model(
        network, clone_function=lambda layer: (PhaseConv2DTranspose(layer)
                                               if PhaseConv2DTranspose.applies_to(layer)
                                               else layer))


def _check_architecture(architecture):
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
