"""The shared Variational Autoencoder.

One ``keras.Model`` serves every application: it encodes images to a diagonal
Gaussian q(z|x), samples z = mu + sigma * eps (the reparameterisation trick) and
minimises the negative ELBO, ``reconstruction NLL + beta * KL(q(z|x) || N(0, I))``,
averaged over K Monte Carlo samples of z.
"""

import math

import keras
import numpy as np
from keras import layers, ops
from scipy.special import expit

from vae_apps.hardware import building_in
from vae_apps.networks import PixelContext, build_decoder, build_encoder

LOG_2PI = math.log(2.0 * math.pi)


def reparameterize(z_mean, z_log_var, eps):
    """z = mu + sigma * eps: the one place the reparameterisation is written.

    Args:
        z_mean: tensor. The posterior means.
        z_log_var: tensor. The posterior log-variances (broadcast with ``z_mean``).
        eps: tensor. Standard normal draws of the result's shape.

    Examples:
    >>> z = reparameterize(z_mean, z_log_var, keras.random.normal(ops.shape(z_mean)))
    """
    return z_mean + ops.exp(0.5 * z_log_var) * eps


@keras.saving.register_keras_serializable(package="vae_apps")
class Sampling(layers.Layer):
    """Draw z = mu + exp(log_var / 2) * eps with eps ~ N(0, I).

    Args:
        seed: int or None. Seeds the layer's ``keras.random.SeedGenerator`` (fresh noise every call,
            the same sequence for the same seed).

    Examples:
    >>> z = Sampling(seed=0)(z_mean, z_log_var)
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, z_mean, z_log_var):
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return reparameterize(z_mean, z_log_var, eps)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def kl_divergence(z_mean, z_log_var):
    """Closed-form KL(N(mu, diag(exp(log_var))) || N(0, I)) per sample, in nats, summed
    over every latent element (a vector or a spatial map).

    Args:
        z_mean: tensor. The posterior means, (batch, ...); computed in float32
            whatever their dtype.
        z_log_var: tensor. The posterior log-variances, same shape.

    Examples:
    >>> kl = kl_divergence(*model.encoder(x))  # shape (batch,)
    """
    z_mean, z_log_var = ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32")
    terms = ops.square(z_mean) + ops.exp(z_log_var) - 1.0 - z_log_var
    return 0.5 * ops.sum(ops.reshape(terms, (ops.shape(terms)[0], -1)), axis=-1)


def bernoulli_nll(target, logits, log_sigma=None):
    """-log p(target | logits) summed over pixels; targets may be grey levels in [0, 1].

    Args:
        target: tensor. Images (N, H, W, C) in [0, 1].
        logits: tensor. The decoder's logits, same shape.
        log_sigma: unused (the Gaussian likelihood's parameter; same signature).

    Examples:
    >>> nll = bernoulli_nll(x, model.decoder(z))  # shape (N,)
    """
    return ops.sum(ops.binary_crossentropy(target, logits, from_logits=True), axis=(1, 2, 3))


def gaussian_nll(target, mean, log_sigma):
    """-log N(target; mean, sigma^2) summed over pixels, one shared sigma.

    Args:
        target: tensor. Images (N, H, W, C).
        mean: tensor. The decoder's means, same shape.
        log_sigma: tensor. log sigma, a scalar.

    Examples:
    >>> nll = gaussian_nll(x, model.decoder(z), model.log_sigma)  # shape (N,)
    """
    z = (target - mean) * ops.exp(-log_sigma)
    per_pixel = 0.5 * ops.square(z) + log_sigma + 0.5 * LOG_2PI
    return ops.sum(per_pixel, axis=(1, 2, 3))


LIKELIHOODS = {"bernoulli": bernoulli_nll, "gaussian": gaussian_nll}


class BaseVAE(keras.Model):
    """The ELBO machinery every vae_apps model shares.

    A subclass builds ``self.encoder`` (inputs -> ``(z_mean, z_log_var)``, any
    shape) and implements ``pixel_parameters(z, x_input, x_target, training)``;
    this class samples z by the reparameterisation trick, averages the
    reconstruction NLL over K samples, adds ``beta * KL(q(z|x) || N(0, I))`` summed
    over every latent element, and trains with one ``train_step``.

    Args:
        likelihood: str. ``"bernoulli"`` (binary cross-entropy) or ``"gaussian"``.
        gaussian_sigma: float. The Gaussian likelihood's standard deviation (its start value
            when ``learn_sigma``).
        learn_sigma: bool. Learn the Gaussian likelihood's sigma with the rest.
        beta: float. Weight of the KL term.
        num_samples: int. K, the Monte Carlo samples of z per image in the loss.
        warmup_epochs: int. The KL weight rises linearly from beta / warmup_epochs to beta
            over these first epochs (0: no warm-up).
        seed: int or None. Seed of the sampling noise.

    ``fit`` takes images ``x`` (the target is ``x``) or ``(x_input, x_target)``
    pairs, e.g. noisy inputs and clean targets for denoising.

    Examples:
    >>> class MyVAE(BaseVAE):  # a new family member: networks and pixel_parameters
    ...     def pixel_parameters(self, z, x_input, x_target, training=False):
    ...         return self.decoder(z, training=training)
    """

    def __init__(self, likelihood="bernoulli", gaussian_sigma=0.1, learn_sigma=False, beta=1.0,
                 num_samples=1, warmup_epochs=0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {sorted(LIKELIHOODS)}, got {likelihood!r}")
        if int(num_samples) < 1:
            raise ValueError(f"num_samples must be >= 1, got {num_samples}")
        self.likelihood = likelihood
        self.gaussian_sigma = float(gaussian_sigma)
        self.learn_sigma = bool(learn_sigma)
        self.beta = float(beta)
        self.num_samples = int(num_samples)
        self.warmup_epochs = int(warmup_epochs)
        self.seed = seed
        self.sampling = Sampling(seed=seed, dtype="float32", name="sampling")
        self._nll = LIKELIHOODS[likelihood]
        self.log_sigma = self.add_weight(
            shape=(), name="log_sigma", trainable=self.learn_sigma,
            initializer=keras.initializers.Constant(math.log(self.gaussian_sigma)))
        # Changed by KLWarmup between epochs; a variable so compiled steps see it.
        self.kl_weight = self.add_weight(
            shape=(), name="kl_weight", trainable=False,
            initializer=keras.initializers.Constant(self.beta))
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    def build(self, input_shape=None):
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, inputs, training=False):
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampling(z_mean, z_log_var) if training else z_mean
        return self.pixel_parameters(z, inputs, inputs, training=training)

    # -- loss -------------------------------------------------------------------------

    def compute_losses(self, x_input, x_target, training=False):
        """Return per-image (reconstruction NLL, KL), each of shape (batch,)."""
        x_input, x_target = ops.convert_to_tensor(x_input), ops.convert_to_tensor(x_target)
        z_mean, z_log_var = self.encoder(x_input, training=training)
        k = self.num_samples
        if k > 1:
            # K draws per image, laid out image-major so a reshape regroups them.
            z = self.sampling(ops.repeat(z_mean, k, axis=0), ops.repeat(z_log_var, k, axis=0))
            x_input = ops.repeat(x_input, k, axis=0)
            x_target = ops.repeat(x_target, k, axis=0)
        else:
            z = self.sampling(z_mean, z_log_var)
        nll = self.negative_log_likelihood(
            x_target, self.pixel_parameters(z, x_input, x_target, training))
        if k > 1:
            nll = ops.mean(ops.reshape(nll, (-1, k)), axis=1)
        return nll, kl_divergence(z_mean, z_log_var)

    def pixel_parameters(self, z, x_input, x_target, training=False):
        """The likelihood's per-pixel parameters (logits or means) of ``x_target`` given z
        (and, for conditional models, the input ``x_input``)."""
        raise NotImplementedError

    def negative_log_likelihood(self, x_target, pixel_parameters):
        """-log p(x_target | z) per image, from ``pixel_parameters``."""
        return self._nll(ops.cast(x_target, "float32"), ops.cast(pixel_parameters, "float32"),
                         self.log_sigma)

    @staticmethod
    def _unpack(data):
        # fit(x) passes a tensor, fit(x, y) or a dataset of pairs a tuple.
        if isinstance(data, (tuple, list)):
            x_input = data[0]
            x_target = data[1] if len(data) > 1 and data[1] is not None else x_input
            return x_input, x_target
        return data, data

    def _update_trackers(self, loss, nll, kl):
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(ops.mean(nll))
        self.kl_tracker.update_state(ops.mean(kl))
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        import tensorflow as tf

        x_input, x_target = self._unpack(data)
        with tf.GradientTape() as tape:
            nll, kl = self.compute_losses(x_input, x_target, training=True)
            loss = ops.mean(nll + self.kl_weight * kl)
            # A hand-written mean is per replica: scale so gradients sum correctly.
            scaled = loss / tf.distribute.get_strategy().num_replicas_in_sync
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._update_trackers(loss, nll, kl)

    def test_step(self, data):
        x_input, x_target = self._unpack(data)
        nll, kl = self.compute_losses(x_input, x_target, training=False)
        # The full beta, not the warm-up's weight: validation losses of all epochs compare,
        # so the best-epoch checkpoint cannot prefer a warm-up epoch.
        return self._update_trackers(ops.mean(nll + self.beta * kl), nll, kl)

    def fit(self, *args, callbacks=None, **kwargs):
        callbacks = list(callbacks or [])
        if self.warmup_epochs and not any(isinstance(c, KLWarmup) for c in callbacks):
            callbacks.append(KLWarmup())
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def _mean(self, parameters):
        if self.likelihood == "bernoulli":
            return expit(parameters).astype("float32")
        return np.clip(parameters, 0.0, 1.0)

    def get_config(self):
        return {
            **super().get_config(),
            "likelihood": self.likelihood, "gaussian_sigma": self.gaussian_sigma,
            "learn_sigma": self.learn_sigma, "beta": self.beta, "num_samples": self.num_samples,
            "warmup_epochs": self.warmup_epochs, "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="vae_apps")
class VAE(BaseVAE):
    """The VAE for small fixed-size images: one code vector z per image.

    Args:
        image_shape: (int, int, int). (height, width, channels) of the images, values in [0, 1].
        latent_dim: int. Size of the latent code z.
        architecture: str. ``"conv"`` or ``"dense"`` networks (see ``vae_apps.networks``).
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
        parts = _in_batches(self.encoder, x, batch_size)
        if not parts:
            return (np.zeros((0, self.latent_dim), "float32"),) * 2
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(2))

    def decode(self, z, batch_size=256, seed=0):
        """Return the images p(x|z) expects (its mean), float32 in [0, 1].

        With ``pixel_context`` the pixels are drawn one by one in raster order (seeded;
        a Gaussian pixel takes its mean); each output pixel is the mean of its
        distribution given the drawn pixels above and to its left.
        """
        parts = _in_batches(self.decoder, z, batch_size)
        if self.pixelcnn is not None:
            seeds = np.random.SeedSequence(seed).spawn(len(parts))
            parts = [self._draw_pixels(out, s) for out, s in zip(parts, seeds)]
        out = np.concatenate(parts) if parts else np.zeros((0, *self.image_shape), "float32")
        return self._mean(out)

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
        from vae_apps.samplers import PriorSampler

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


def _in_batches(network, x, batch_size):
    # predict_on_batch reuses one compiled function; predict() would build a new
    # tf.data pipeline per call (~0.1 s), which dominated folder jobs' many calls.
    x = np.asarray(x, "float32")
    return [network.predict_on_batch(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]


class KLWarmup(keras.callbacks.Callback):
    """Raise the KL weight linearly to ``beta`` over the model's ``warmup_epochs``.

    Examples:
    >>> model = VAE((28, 28, 1), warmup_epochs=5)
    >>> model.fit(x, epochs=20, callbacks=[KLWarmup()])  # train_vae adds it
    """

    def on_epoch_begin(self, epoch, logs=None):
        model = self.model
        fraction = min(1.0, (epoch + 1) / max(model.warmup_epochs, 1))
        model.kl_weight.assign(model.beta * fraction)
