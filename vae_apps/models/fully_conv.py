"""The fully convolutional VAE: image-to-image work (denoising) at any resolution.

The latent is a map of diagonal Gaussians, ``latent_channels`` per 2 x 2 block of
pixels; the decoder turns a code map into a correction that is added to the input
(``residual``), so the likelihood's mean is ``noisy + decoded correction``.

With ``noise_level_input`` the model also takes a noise level, as FFDNet (Zhang et
al. 2018) does: the networks see it as an extra constant input channel, trained with
each patch's true noise level (the standard deviation of noisy - clean), so a
larger level asks for more smoothing. A small estimator network, trained beside
them on the same patches (as CBDNet's, Guo et al. 2019), supplies the level when the
user gives none (the median of its map over the image); ``strength`` scales it. Being
convolutional throughout, one model trained on small patches runs on photos of any
size (height and width padded to a multiple of ``FULLY_CONV_STRIDE``, then cropped).
"""

from dataclasses import dataclass

import keras
import numpy as np

from vae_apps.models.base import BaseVAE, in_batches
from vae_apps.models.networks import (FULLY_CONV_STRIDE, build_fully_conv_decoder,
                                     build_fully_conv_encoder, build_noise_level_estimator)

# The noise level enters the networks as level x NOISE_MAP_SCALE, so that the levels
# of photos (0-0.2 on the 0-1 scale) span about the range of the pixels.
NOISE_MAP_SCALE = 5.0
# Pixels per latent cell along each side (the encoder's one stride-2 step to its code map).
LATENT_STRIDE = 2
# The seed of the posterior draws a model with ``decode_draws`` denoises from.
DECODE_SEED = (0, 0)


def position_keyed_normal(seed, origin, shape):
    """Standard normal noise for a window of a latent map, each value a function of the
    seed pair and of its cell's place in the whole image only: the window starting at
    latent cell ``origin`` (row, column; may be negative in a mirrored margin) draws
    exactly the values the whole image draws there, so tiled and untiled posterior
    draws agree. A 32-bit integer hash of (seed, row, column, channel), two 24-bit
    uniforms, Box-Muller (10 ms for a 296 x 296 x 16 window on 2 cores).

    Args:
        seed: (int, int). The same pair, the same noise.
        origin: (int, int). The window's first latent cell in the whole image.
        shape: (int, int, int). The window's (rows, columns, channels).

    Returns:
        A float32 tensor of ``shape``.

    Examples:
    >>> whole = position_keyed_normal((0, 1), (0, 0), (10, 10, 4))
    >>> part = position_keyed_normal((0, 1), (3, 2), (5, 5, 4))   # == whole[3:8, 2:7]
    """
    import tensorflow as tf

    def mix(x):  # a 32-bit integer hash (lowbias32)
        x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16)) * tf.constant(0x7FEB352D, tf.uint32)
        x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 15)) * tf.constant(0x846CA68B, tf.uint32)
        return tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))

    def as_uint32(values):
        return tf.bitcast(tf.cast(values, tf.int32), tf.uint32)

    seed, origin, shape = (tf.convert_to_tensor(v, tf.int32) for v in (seed, origin, shape))
    key = mix(as_uint32(seed[0]) ^ mix(as_uint32(seed[1])))
    rows = mix(key ^ mix(as_uint32(tf.range(shape[0]) + origin[0])))[:, None, None]
    cells = mix(rows ^ mix(as_uint32(tf.range(shape[1]) + origin[1]))[None, :, None])
    first = mix(cells ^ as_uint32(tf.range(shape[2]))[None, None, :])
    second = mix(first ^ tf.constant(0x9E3779B9, tf.uint32))
    u1 = (tf.cast(tf.bitwise.right_shift(first, 8), tf.float32) + 0.5) / 2.0 ** 24
    u2 = tf.cast(tf.bitwise.right_shift(second, 8), tf.float32) / 2.0 ** 24
    return tf.sqrt(-2.0 * tf.math.log(u1)) * tf.cos(2.0 * np.pi * u2)


@dataclass
class FittedCalibration:
    """What training fits on a ``FullyConvVAE`` after its weights, from its training images
    (``vae_apps.denoising.calibration``); saved in the model's config under these names.

    Args:
        noise_level_scale: float. An image's noise level is ``max(0, scale x median of the
            estimator's map + offset)`` (``calibrate_noise_level``).
        noise_level_offset: float. See ``noise_level_scale`` (0-1 scale).
        decode_draws: int. 0: denoise from the posterior mean code; k >= 1: the mean of k
            seeded posterior draws (``choose_decode_draws``).
        uncertainty_weights: (float, float, float) or None. Weights of the posterior
            variance, the local squared gradient and the local squared residual in the
            predicted error variance (``calibrate_uncertainty``); None: the draws' spread.
        clipped_noise: (float, float) or None. Gain and Gaussian variance of the noise a
            noisy-only model was trained on (``fit_clipped_noise``); None: nothing to undo.

    Examples:
    >>> model.fitted.decode_draws, model.fitted.uncertainty_weights  # doctest: +SKIP
    (0, (1.02, 0.0041, 0.044))
    """

    noise_level_scale: float = 1.0
    noise_level_offset: float = 0.0
    decode_draws: int = 0
    uncertainty_weights: tuple = None
    clipped_noise: tuple = None

    def __post_init__(self):
        self.noise_level_scale = float(self.noise_level_scale)
        self.noise_level_offset = float(self.noise_level_offset)
        self.decode_draws = int(self.decode_draws)
        if self.uncertainty_weights is not None:
            self.uncertainty_weights = tuple(float(w) for w in self.uncertainty_weights)
        if self.clipped_noise is not None:
            self.clipped_noise = tuple(float(v) for v in self.clipped_noise)

    def as_config(self):
        """The fitted values as the model's config keeps them (JSON: lists, not tuples)."""
        return {"noise_level_scale": self.noise_level_scale,
                "noise_level_offset": self.noise_level_offset,
                "decode_draws": self.decode_draws,
                "uncertainty_weights": (None if self.uncertainty_weights is None
                                        else list(self.uncertainty_weights)),
                "clipped_noise": None if self.clipped_noise is None else list(self.clipped_noise)}


@keras.saving.register_keras_serializable(package="vae_apps")
class FullyConvVAE(BaseVAE):
    """A VAE whose encoder and decoder are convolutional throughout.

    Args:
        channels: int. 1 (grey) or 3 (colour).
        filters: int. Network width at 1/2 resolution (twice as many at 1/4).
        latent_channels: int. Latent Gaussians per 2 x 2 block of pixels.
        blocks: (int, int). 3 x 3 convolutions at (1/2, 1/4) resolution in the encoder
            and in the decoder.
        residual: bool. The mean is ``input + decoded correction`` (else the decoded image).
        conditional: bool. The decoder also sees the input image, not only z. Measured on
            the bundled photos (120 steps, sigma = 0.1): conditional, RMSE 0.095 -> 0.047
            with ~35,000 nats of KL per 64 x 64 patch (z is used); without, the KL
            collapsed and the output stayed the input (RMSE 0.095).
        likelihood: str. ``"gaussian"`` (photos) or ``"bernoulli"``.
        gaussian_sigma: float. The likelihood's fixed standard deviation (0.01: 2.5 grey
            levels of 255).
        learn_sigma: bool. Learn sigma with the rest.
        noise_level_input: bool. The networks also take a noise level (an extra input
            channel: ``with_noise_level``), and a noise-level estimator is trained beside them.
        refine_filters: int. End the decoder with full-resolution convolutions of this
            width (0: depth-to-space alone, which leaves a period-2 pattern).
        noise_level_scale: float. An image's noise level is ``max(0, scale x median of
            the estimator's map + offset)``: the calibration ``calibrate_noise_level``
            fits on whole training images after training. This and the next four are
            fitted state, kept in ``model.fitted`` (``FittedCalibration``).
        noise_level_offset: float. See ``noise_level_scale`` (0-1 scale).
        decode_draws: int. What ``denoise_padded`` returns: 0, the decoder's output for
            the posterior mean code; k >= 1, the mean of the outputs of k posterior draws
            (the seeded ``DECODE_SEED`` draws of ``sample_padded``). A decoder trained on
            draws may depend on their noise: a grey model trained from scratch scored
            23.5 dB at sigma 25 from the mean code and 28.5 dB from one draw (28.6 from
            16); the shipped presets score the same either way (29.75 / 29.72 dB grey).
            Training keeps the better on its validation patches (``choose_decode_draws``).
        uncertainty_weights: (float, float, float) or None. The weights of the posterior
            variance, the local squared gradient and the local squared residual in the
            predicted error variance (``vae_apps.denoising.full_resolution.predictive_std``),
            fitted by ``calibrate_uncertainty`` after training; None: the posterior
            draws' spread stands for the uncertainty.
        clipped_noise: (float, float) or None. The gain and Gaussian variance of the
            noise a noisy-only model was trained on, read off its noisy images after
            training (``vae_apps.denoising.clipped_noise``): the model returns what noisy
            values average, which clipping at black and white shifts, and denoising maps
            it back to the clean value. None: nothing to undo (models trained on clean
            images learn the clean value itself).
        neighbour_regularization: float. gamma of Neighbor2Neighbor's regulariser (Huang
            et al. 2021) when training on noisy images alone (batches of
            ``vae_apps.denoising.noisy_only.neighbour_training_batch``): the loss
            ||f(first) - second||^2 + gamma ||f(first) - second - (f(crop) at first's
            pixels - f(crop) at second's)||^2, f(crop) the model's own output on the whole
            crop, held fixed. It teaches the model what it does on whole images (it trains
            on half images) and takes out the pixel between the two halves. 0: off (the
            default): on a microscopy image (Poisson 30) 960 updates with gamma = 2 took
            as long as 1,920 without it and scored 0.29 dB less
            (benchmarks/experiments/noisy_only_schemes.py).
        **kwargs: the likelihood, beta, K samples, KL warm-up and seed of
            ``BaseVAE``; ``dtype="mixed_bfloat16"`` computes in bfloat16 (several
            times faster where the CPU has AMX or AVX-512 BF16).

    Examples:
    >>> vae = FullyConvVAE(channels=1)
    >>> vae.compile(keras.optimizers.Adam(1e-3))
    >>> vae.fit(noisy_patches, clean_patches, epochs=5)   # N x 64 x 64 x 1
    >>> clean = vae.reconstruct(noisy_photo[None])       # any H x W
    """

    stride = FULLY_CONV_STRIDE
    latent_stride = LATENT_STRIDE

    def __init__(self, channels=1, filters=64, latent_channels=16, blocks=(2, 2), residual=True,
                 conditional=True, likelihood="gaussian", gaussian_sigma=0.01, learn_sigma=False,
                 noise_level_input=False, refine_filters=0, noise_level_scale=1.0,
                 noise_level_offset=0.0, decode_draws=0, uncertainty_weights=None,
                 clipped_noise=None, neighbour_regularization=0.0, **kwargs):
        super().__init__(likelihood=likelihood, gaussian_sigma=gaussian_sigma,
                         learn_sigma=learn_sigma, **kwargs)
        self.channels = int(channels)
        self.filters = int(filters)
        self.latent_channels = int(latent_channels)
        self.blocks = tuple(int(b) for b in blocks)
        self.residual = bool(residual)
        self.conditional = bool(conditional)
        self.noise_level_input = bool(noise_level_input)
        self.refine_filters = int(refine_filters)
        # Keras tracks a model's attributes; the fitted values are plain numbers, set by
        # vae_apps.denoising.calibration after training and saved in the config.
        self.fitted = FittedCalibration(noise_level_scale, noise_level_offset, decode_draws,
                                        uncertainty_weights, clipped_noise)
        self.neighbour_regularization = float(neighbour_regularization)
        if self.neighbour_regularization and self.likelihood != "gaussian":
            raise ValueError("neighbour_regularization needs the gaussian likelihood")
        self.input_channels = self.channels + self.noise_level_input
        networks = dict(channels=self.channels, filters=self.filters,
                        latent_channels=self.latent_channels, blocks=self.blocks,
                        dtype=self.dtype_policy, input_channels=self.input_channels)
        self.encoder = build_fully_conv_encoder(**networks)
        self.decoder = build_fully_conv_decoder(**networks, conditional=self.conditional,
                                                refine_filters=self.refine_filters)
        self.noise_estimator = (build_noise_level_estimator(self.channels, dtype=self.dtype_policy)
                                if self.noise_level_input else None)
        self._inference = None
        self._estimate = None
        self._sample = None
        if self.noise_level_input:
            self.noise_tracker = keras.metrics.Mean(name="noise_level_error")
        self.build((None, None, None, self.input_channels))

    @property
    def image_shape(self):
        """(None, None, channels): any height and width."""
        return (None, None, self.channels)

    @property
    def metrics(self):
        extra = [self.noise_tracker] if self.noise_level_input else []
        return super().metrics + extra

    def pixel_parameters(self, z, x_input, x_target, training=False):
        out = self.decoder([z, x_input] if self.conditional else z, training=training)
        if not self.residual:
            return out
        return keras.ops.cast(x_input[..., :self.channels], "float32") + out

    def loss_terms(self, data, training=False):
        """The base class's terms; a noisy-only training batch (a dict of
        ``neighbour_training_batch``) learns from ``noisy_only_pair``, its likelihood
        weighed by 1 + gamma when Neighbor2Neighbor's regulariser is on (see there)."""
        if not (training and isinstance(data, dict)):
            return super().loss_terms(data, training)
        x_input, x_target = self.noisy_only_pair(data)
        nll, kl = self.compute_losses(x_input, x_target, training)
        if self.neighbour_regularization:
            nll = (1.0 + self.neighbour_regularization) * nll
        auxiliary = self.auxiliary_loss(x_input, x_target, training)
        return nll, kl, {} if auxiliary is None else {"auxiliary": (1.0, keras.ops.mean(auxiliary))}

    def noisy_only_pair(self, data):
        """(input, target) of a noisy-only training batch: its first half image, and its
        second, moved by Neighbor2Neighbor's regulariser when it is on. With a Gaussian
        likelihood of fixed sigma, ||f - s||^2 + gamma ||f - s - d||^2 is
        (1 + gamma) ||f - (s + gamma / (1 + gamma) d)||^2 plus a constant, where d is the
        whole crop denoised at the first half's pixels less at the second's."""
        first, second = data["first"], data["second"]
        gamma = self.neighbour_regularization
        if not gamma:
            return first, second
        import tensorflow as tf

        ops = keras.ops
        whole = ops.stop_gradient(ops.cast(self(data["crops"], training=False), "float32"))
        whole = ops.reshape(whole, (ops.shape(whole)[0], -1, self.channels))

        def at(places):
            flat = ops.reshape(places, (ops.shape(places)[0], -1))
            return ops.reshape(tf.gather(whole, flat, batch_dims=1), ops.shape(second))

        shift = at(data["first_at"]) - at(data["second_at"])
        return first, ops.cast(second, "float32") + gamma / (1.0 + gamma) * shift

    def auxiliary_loss(self, x_input, x_target, training=False):
        """The noise-level estimator's squared error, in grey levels of 255 (its
        weights are its own: this term trains only the estimator)."""
        if not self.noise_level_input:
            return None
        ops = keras.ops
        images = x_input[..., :self.channels]
        estimate = ops.mean(self.noise_estimator(images, training=training), axis=(1, 2, 3))
        true = ops.mean(ops.cast(x_input[..., self.channels], "float32"), axis=(1, 2))
        error = 255.0 / NOISE_MAP_SCALE * (estimate - true)
        self.noise_tracker.update_state(ops.sqrt(ops.mean(ops.square(error))))
        return ops.square(error)

    def with_noise_level(self, x, noise_level):
        """``x`` (N, H, W, C) with the constant noise-level channel the networks take.

        Args:
            x: array. Images in [0, 1].
            noise_level: float or array. Per image (N,) or one for all, on the 0-1 scale;
                or a map per pixel (N, H, W): a level that varies over the image.
        """
        x = np.asarray(x, "float32")
        level = np.asarray(noise_level, "float32")
        if level.ndim == 3:  # a map
            channel = np.broadcast_to(level[..., None] * NOISE_MAP_SCALE, x.shape[:3] + (1,))
        else:
            level = np.broadcast_to(level.reshape(-1), (len(x),))
            channel = np.broadcast_to(level[:, None, None, None] * NOISE_MAP_SCALE, x.shape[:3] + (1,))
        return np.concatenate([x, channel.astype("float32")], axis=-1)

    def noise_level_map(self, x):
        """The estimator's map (N, H/2, W/2) for images whose sides are multiples of
        ``stride``, on the 0-1 scale; its median is the image's estimated noise level."""
        if self._estimate is None:
            import tensorflow as tf

            self._estimate = tf.function(
                lambda batch: self.noise_estimator(batch, training=False), reduce_retracing=True,
                input_signature=[tf.TensorSpec((None, None, None, self.channels), tf.float32)])
        return self._estimate(np.asarray(x, "float32")).numpy()[..., 0] / NOISE_MAP_SCALE

    def estimate_noise_level(self, x):
        """One estimated noise level per image (N,), on the 0-1 scale.

        Examples:
        >>> model.estimate_noise_level(noisy_photos)  # doctest: +SKIP
        array([0.098, 0.101], dtype=float32)
        """
        # The median of the map: noise is everywhere, texture is not (see
        # vae_apps.denoising.full_resolution.estimate_noise_level).
        return self.calibrated(np.median(self.noise_level_map(self._padded(x)), axis=(1, 2)))

    def calibrated(self, median):
        """The noise level for a median of the estimator's map (``noise_level_scale``)."""
        return np.maximum(0.0, self.fitted.noise_level_scale * np.asarray(median, "float32")
                          + self.fitted.noise_level_offset)

    def _padded(self, x):
        x = np.asarray(x, "float32")
        height, width = x.shape[1:3]
        return np.pad(x, ((0, 0), (0, -height % self.stride), (0, -width % self.stride), (0, 0)),
                      mode="symmetric")

    def reconstruct(self, x, batch_size=16, noise_level=None, strength=1.0):
        """Denoise same-size images ``x`` (N x H x W x C, any H and W) from the posterior
        mean: mirrored to a multiple of ``stride`` at the bottom and right, cropped
        back, in [0, 1]. For large photos use ``vae_apps.denoising.full_resolution``, which tiles.

        Args:
            x: array. The images.
            batch_size: int. Images per forward pass.
            noise_level: float, array or None. For a ``noise_level_input`` model: the
                level per image (0-1 scale); estimated from each image if None.
            strength: float. Multiplies the noise level (> 1 smooths more).
        """
        x = np.asarray(x, "float32")
        height, width = x.shape[1:3]
        x = self._padded(x)
        if self.noise_level_input:
            if noise_level is None:
                noise_level = in_batches(self.estimate_noise_level, x, batch_size)
            levels = np.broadcast_to(np.asarray(noise_level, "float32").reshape(-1), (len(x),))
            x = self.with_noise_level(x, levels * float(strength))
        return self._mean(in_batches(self.denoise_padded, x, batch_size)[:, :height, :width])

    def denoise_padded(self, x, origin=(0, 0)):
        """The denoised output (float32 NumPy, not clipped) for a batch whose height and
        width are multiples of ``stride``: from the posterior mean code, or the mean of
        ``decode_draws`` posterior draws; with ``noise_level_input`` ``x`` carries the
        noise-level channel (``with_noise_level``).

        Args:
            x: array. The batch (N, H, W, input channels).
            origin: (int, int). The batch's first latent cell in the whole image (a
                tile's place), so that a tile's draws are the whole image's there.
        """
        if self.fitted.decode_draws:
            return np.mean([self.sample_padded(x, (DECODE_SEED[0], DECODE_SEED[1] + k), origin)
                            for k in range(self.fitted.decode_draws)], axis=0)
        if self._inference is None:
            import tensorflow as tf

            # One traced function for every image size (predict_on_batch retraces per size).
            self._inference = tf.function(
                lambda batch: self(batch, training=False), reduce_retracing=True,
                input_signature=[tf.TensorSpec((None, None, None, self.input_channels),
                                               tf.float32)])
        return self._inference(np.asarray(x, "float32")).numpy()

    def sample_padded(self, x, seed, origin=(0, 0)):
        """One posterior sample of the output for a batch whose height and width are
        multiples of ``stride``: z drawn from q(z | x), then decoded (float32 NumPy, not
        clipped). ``seed`` is a pair of ints: the same seed, the same draw; the draw's
        noise depends on each latent cell's place (``position_keyed_normal``), ``origin``
        being the batch's first cell in the whole image, so tiles draw as the whole does.

        Examples:
        >>> draws = [model.sample_padded(batch, (0, k)) for k in range(16)]  # doctest: +SKIP
        """
        if self._sample is None:
            import tensorflow as tf

            from vae_apps.models.base import reparameterize

            def sample(batch, pair, first_cell):
                z_mean, z_log_var = self.encoder(batch, training=False)
                eps = position_keyed_normal(pair, first_cell, tf.shape(z_mean)[1:])
                z = reparameterize(z_mean, z_log_var, tf.cast(eps, z_mean.dtype)[None])
                return keras.ops.cast(self.pixel_parameters(z, batch, batch), "float32")

            self._sample = tf.function(sample, reduce_retracing=True, input_signature=[
                tf.TensorSpec((None, None, None, self.input_channels), tf.float32),
                tf.TensorSpec((2,), tf.int32), tf.TensorSpec((2,), tf.int32)])
        return self._sample(np.asarray(x, "float32"), np.asarray(seed, "int32"),
                            np.asarray(origin, "int32")).numpy()

    def get_config(self):
        fitted = self.fitted.as_config()
        # The keys in the order files have always had them.
        kept_last = {k: fitted.pop(k) for k in ("uncertainty_weights", "clipped_noise")}
        return {**super().get_config(), "channels": self.channels, "filters": self.filters,
                "latent_channels": self.latent_channels, "blocks": self.blocks,
                "residual": self.residual, "conditional": self.conditional,
                "noise_level_input": self.noise_level_input,
                "refine_filters": self.refine_filters,
                **fitted, "neighbour_regularization": self.neighbour_regularization,
                **kept_last}
