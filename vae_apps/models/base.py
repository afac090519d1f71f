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


def in_batches(function, inputs, batch_size, empty=None):
    """``function`` applied to ``inputs`` batch by batch, the results joined: the one
    batched-predict loop of the model family.

    ``function`` is a network's ``predict_on_batch`` or any function of one batch:
    ``predict_on_batch`` reuses one compiled function, where ``predict()`` would build a
    new ``tf.data`` pipeline per call (~0.1 s), which dominated folder jobs' many calls.

    Args:
        function: callable. One batch (or one batch of each input) -> an array, or a
            tuple or list of arrays.
        inputs: np.ndarray or tuple of np.ndarray. Cut alike along their first axis.
        batch_size: int. Rows per call.
        empty: np.ndarray, tuple or None. The result for no rows.

    Examples:
    >>> z_mean, z_log_var = in_batches(vae.encoder.predict_on_batch, x, 256)
    """
    several = isinstance(inputs, tuple)
    inputs = inputs if several else (inputs,)
    parts = [function(*(part[i:i + batch_size] for part in inputs))
             for i in range(0, len(inputs[0]), batch_size)]
    if not parts:
        return empty
    if isinstance(parts[0], (tuple, list)):
        return tuple(np.concatenate([np.asarray(p[k]) for p in parts])
                     for k in range(len(parts[0])))
    return np.concatenate([np.asarray(p) for p in parts])


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

    # The likelihoods a member's decoder can parameterise, by name.
    likelihoods = LIKELIHOODS

    def __init__(self, likelihood="bernoulli", gaussian_sigma=0.1, learn_sigma=False, beta=1.0,
                 num_samples=1, warmup_epochs=0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if likelihood not in self.likelihoods:
            raise ValueError(f"likelihood must be one of {sorted(self.likelihoods)}, "
                             f"got {likelihood!r}")
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
        self._nll = self.likelihoods[likelihood]
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

    def auxiliary_loss(self, x_input, x_target, training=False):
        """A per-image loss of parts outside the ELBO (None: there are none), added to
        the training loss; ``FullyConvVAE``'s noise-level estimator uses it."""
        return None

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

    # Whether the terms outside the ELBO count in the reported ``loss`` (the metric the
    # best epoch is kept by) or only in the gradient.
    extra_terms_in_reported_loss = True

    def loss_terms(self, data, training=False):
        """The batch's loss in its terms: per-image reconstruction NLL and KL (the ELBO's),
        and ``{name: (weight, value)}`` of scalar terms outside the ELBO that training adds
        (a tracker named ``NAME_loss`` in ``metrics`` reports the value). A family member
        with another objective overrides this, never ``train_step``.

        Args:
            data: a batch as the dataset gives it: images that are their own target, or
                (input, target) pairs.
            training: bool. A training step (posterior draws, dropout ...).
        """
        x_input, x_target = self._unpack(data)
        nll, kl = self.compute_losses(x_input, x_target, training)
        auxiliary = self.auxiliary_loss(x_input, x_target, training)
        return nll, kl, {} if auxiliary is None else {"auxiliary": (1.0, ops.mean(auxiliary))}

    def train_step(self, data):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            nll, kl, extra = self.loss_terms(data, training=True)
            elbo = ops.mean(nll + self.kl_weight * kl)  # the negative ELBO, KL weighted by beta
            loss = elbo
            for weight, value in extra.values():
                loss = loss + weight * value
            # A hand-written mean is per replica: scale so gradients sum correctly.
            scaled = loss / tf.distribute.get_strategy().num_replicas_in_sync
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._update_trackers(loss if self.extra_terms_in_reported_loss else elbo,
                                     nll, kl, extra)

    def test_step(self, data):
        nll, kl, extra = self.loss_terms(data, training=False)
        # The full beta, not the warm-up's weight: validation losses of all epochs compare,
        # so the best-epoch checkpoint cannot prefer a warm-up epoch.
        loss = ops.mean(nll + self.beta * kl)
        if self.extra_terms_in_reported_loss:
            for weight, value in extra.values():
                loss = loss + weight * value
        return self._update_trackers(loss, nll, kl, extra)

    def _update_trackers(self, loss, nll, kl, extra=None):
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(ops.mean(nll))
        self.kl_tracker.update_state(ops.mean(kl))
        trackers = {m.name: m for m in self.metrics}
        for name, (_, value) in (extra or {}).items():
            if f"{name}_loss" in trackers:
                trackers[f"{name}_loss"].update_state(value)
        return {m.name: m.result() for m in self.metrics}

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
