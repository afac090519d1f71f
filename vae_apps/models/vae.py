"""The small-image VAE: dense or convolutional networks at one fixed image size (MNIST-like data)."""

import keras
import numpy as np

from vae_apps.hardware import building_in
from vae_apps.models.base import BaseVAE, in_batches
from vae_apps.models.networks import PixelContext, build_decoder, build_encoder


@keras.saving.register_keras_serializable(package="vae_apps")
class VAE(BaseVAE):
    """The VAE for small fixed-size images: one code vector z per image.

    Args:
        image_shape: (int, int, int). (height, width, channels) of the images, values in [0, 1].
        latent_dim: int. Size of the latent code z.
        architecture: str. ``"conv"`` or ``"dense"`` networks (see ``vae_apps.models.networks``).
        filters: tuple of int. Convolution widths, one stride-2 layer each.
        hidden_units: tuple of int. Dense layer widths between the features and the code.
        decoder_hidden_units: tuple of int or None. Dense widths from the code back to the features
            (default ``None``: ``hidden_units`` reversed).
        pixel_context: int. 0 (default): pixels are independent given z. M > 0: each
            pixel also depends on the pixels above and to its left, through M masked
            convolutions mixed by weights computed from z (``PixelContext``): better
            likelihoods, but decoding draws the pixels one by one.
        **kwargs: the likelihood, beta, K samples, KL warm-up and seed of
            ``BaseVAE``.

    Examples:
    >>> vae = VAE(image_shape=(8, 8, 1), latent_dim=16)
    >>> vae.compile(keras.optimizers.Adam(1e-3))
    >>> vae.fit(x, epochs=5, batch_size=32)          # or vae.fit(noisy_x, clean_x)
    >>> z_mean, z_log_var = vae.encode(x)
    """

    def __init__(self, image_shape, latent_dim=32, architecture="conv", filters=(32, 64),
                 hidden_units=(512,), decoder_hidden_units=None, pixel_context=0, **kwargs):
        super().__init__(**kwargs)
        if int(pixel_context) < 0:
            raise ValueError(f"pixel_context must be >= 0, got {pixel_context}")
        self.image_shape = tuple(int(s) for s in image_shape)
        self.latent_dim = int(latent_dim)
        self.architecture = architecture
        self.filters = tuple(int(f) for f in filters)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.decoder_hidden_units = (None if decoder_hidden_units is None
                                     else tuple(int(u) for u in decoder_hidden_units))
        self.pixel_context = int(pixel_context)

        networks = dict(image_shape=self.image_shape, latent_dim=self.latent_dim,
                        architecture=architecture, filters=self.filters,
                        hidden_units=self.hidden_units)
        # The networks compute in the model's dtype policy (dtype="mixed_bfloat16"); the
        # losses are float32 (BaseVAE casts).
        with building_in(self.dtype_policy):
            self.encoder = build_encoder(**networks)
            self.decoder = build_decoder(**networks, decoder_hidden_units=self.decoder_hidden_units,
                                         outputs_per_channel=1 + self.pixel_context)
            self.pixelcnn = (PixelContext(self.image_shape[-1], self.pixel_context,
                                          name="pixel_context") if self.pixel_context else None)
        # The sub-networks are built already; marking the model built lets saving
        # keep the optimizer state.
        self.build((None, *self.image_shape))

    def pixel_parameters(self, z, x_input, x_target, training=False):
        """The likelihood's per-pixel parameters (logits or means) for ``x_target`` given z.

        Without ``pixel_context`` they depend on z only and ``x_target`` is not used.
        ``x_target`` may hold each image once for k codes per image laid out
        sample-major (see ``PixelContext``).
        """
        out = self.decoder(z, training=training)
        if self.pixelcnn is not None:
            out = self.pixelcnn(out, x_target)
        return out

    # -- inference on NumPy arrays ---------------------------------------------------

    def encode(self, x, batch_size=256):
        """Return ``(z_mean, z_log_var)`` as NumPy arrays of shape (n, latent_dim)."""
        return in_batches(self.encoder.predict_on_batch, np.asarray(x, "float32"), batch_size,
                          empty=(np.zeros((0, self.latent_dim), "float32"),) * 2)

    def decode(self, z, batch_size=256, seed=0):
        """Return the images p(x|z) expects (its mean), float32 in [0, 1].

        With ``pixel_context`` the pixels are drawn one by one in raster order (seeded;
        a Gaussian pixel takes its mean); each output pixel is the mean of its
        distribution given the drawn pixels above and to its left.
        """
        z = np.asarray(z, "float32")
        empty = np.zeros((0, *self.image_shape), "float32")
        if self.pixelcnn is None:
            return self._mean(in_batches(self.decoder.predict_on_batch, z, batch_size, empty))
        seeds = iter(np.random.SeedSequence(seed).spawn(-(-len(z) // batch_size)))
        return self._mean(in_batches(
            lambda part: self._draw_pixels(self.decoder.predict_on_batch(part), next(seeds)),
            z, batch_size, empty))

    def _draw_pixels(self, decoder_output, seed):
        # Pixel (i, j) depends only on earlier pixels, so after visiting every position
        # in raster order the head's output is the parameters of the whole drawn image.
        import tensorflow as tf

        step = tf.function(self.pixelcnn)
        rng = np.random.default_rng(seed)
        drawn = np.zeros((len(decoder_output), *self.image_shape), "float32")
        height, width, _ = self.image_shape
        for i in range(height):
            for j in range(width):
                params = self._mean(step(decoder_output, drawn)[:, i, j].numpy())
                if self.likelihood == "bernoulli":
                    params = (rng.random(params.shape) < params).astype("float32")
                drawn[:, i, j] = params
        return step(decoder_output, drawn).numpy()

    def reconstruct(self, x, batch_size=256):
        """Decode the posterior mean of each image: a deterministic reconstruction."""
        return self.decode(self.encode(x, batch_size)[0], batch_size)

    def sample(self, n, seed=None, temperature=1.0):
        """Decode ``n`` codes drawn from the prior N(0, temperature^2 I)."""
        from vae_apps.models.samplers import PriorSampler

        return self.decode(PriorSampler(self.latent_dim).sample(n, seed, temperature), seed=seed)

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape, "latent_dim": self.latent_dim,
            "architecture": self.architecture, "filters": self.filters,
            "hidden_units": self.hidden_units,
            "decoder_hidden_units": self.decoder_hidden_units,
            "pixel_context": self.pixel_context,
        }

