"""How good is a VAE: ELBO, importance-weighted log-likelihood, active units, image metrics."""

import math

import numpy as np

from vae_apps.io.data import binarize_images
from vae_apps.models.base import LOG_2PI, kl_divergence, reparameterize


def elbo_terms(model, x, batch_size=500, seed=0):
    """Mean per-image ``negative_elbo``, ``reconstruction`` NLL and ``kl``, in nats.

    One z per image (an unbiased estimate of the expectation); beta and KL warm-up
    do not enter: this is the ELBO itself.

    Args:
        model: BaseVAE. A trained VAE.
        x: float32 images (N, H, W, C) in [0, 1] (binarise them first for a binarised score).
        batch_size: int. Images per call.
        seed: int. Seeds the samples of z: same seed, same figures.

    Examples:
    >>> elbo_terms(model, x_test)["negative_elbo"]  # doctest: +SKIP
    97.3
    """
    import tensorflow as tf

    step = _elbo_step(model)
    totals = np.zeros(2)
    for b, start in enumerate(range(0, len(x), batch_size)):
        batch = tf.constant(np.asarray(x[start:start + batch_size], "float32"))
        nll, kl = step(batch, tf.constant([seed, b], tf.int64))
        totals += [float(tf.reduce_sum(nll)), float(tf.reduce_sum(kl))]
    reconstruction, kl = totals / len(x)
    return {"negative_elbo": reconstruction + kl, "reconstruction": reconstruction, "kl": kl}


def _elbo_step(model):
    import tensorflow as tf

    @tf.function
    def step(batch, seed):
        z_mean, z_log_var = model.encoder(batch, training=False)
        eps = tf.random.stateless_normal(tf.shape(z_mean), seed)
        z = reparameterize(z_mean, z_log_var, eps)
        nll = model.negative_log_likelihood(batch, model.pixel_parameters(z, batch, batch))
        return nll, kl_divergence(z_mean, z_log_var)

    return step


def iwae_nll(model, x, num_samples=1000, batch_size=None, rows_per_call=250, seed=0,
             progress=False, precision="auto"):
    """Importance-weighted estimate of -log p(x), mean per image, in nats (Burda et al.).

    log p(x) >= log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x); the bound
    tightens as K grows and equals the ELBO at K = 1.

    The time goes to the K decoder passes per image. A copy of the model
    (``loading.for_evaluation``) computes them: bfloat16 where the CPU is fast at it,
    and each 3x3 stride-2 transposed convolution as one fused convolution
    (``networks.PhaseConv2DTranspose``). On MNIST, 2 Sapphire Rapids cores, K = 1000:
    9.0 images/s before both, 24.6 after (``benchmarks/iwae_speed.py``).

    Args:
        model: BaseVAE. The model (not changed: a copy computes the estimate).
        x: np.ndarray. float32 test images in [0, 1] (binarise them first for a
            binarised score).
        num_samples: int. K, samples of z per image.
        batch_size: int or None. Images encoded together (default: as many as fit ``rows_per_call``
            with one sample each, at most 100).
        rows_per_call: int. Decoder rows (image, sample pairs) per call (250: fastest of
            125-2000 on a 2-core CPU, with bfloat16 1.5x faster than 2000). Each image is
            encoded once; its K log-weights are computed in chunks of about
            ``rows_per_call // batch_size`` samples and combined in float32 by one
            log-sum-exp, so memory does not grow with K.
        seed: int. The samples are drawn from ``(seed, batch, chunk)``: same seed, same
            estimate.
        progress: bool. Progress with the running mean and a time estimate (a bar on a
            terminal, lines in a log).
        precision: str. The networks' compute precision (``"auto"``: bfloat16 where the CPU
            is fast at it, ``"float32"``, ``"mixed"``); the log-weights and their
            log-sum-exp are float32 in every case. Measured on MNIST, K = 1000, same
            samples: bfloat16 and float32 estimates within 0.001 nats.

    Examples:
    >>> iwae_nll(model, x_test[:100], num_samples=1000)  # doctest: +SKIP
    85.2
    """
    import keras
    import tensorflow as tf

    from vae_apps.loading import for_evaluation

    model = for_evaluation(model, precision)
    x = np.asarray(x, "float32")
    batch_size = batch_size or int(np.clip(rows_per_call // num_samples, 1, 100))
    chunk = max(1, min(num_samples, rows_per_call // batch_size))
    encode, log_weights = _iwae_functions(model)
    report = _progress_reporter(len(x), f"iwae_nll_k{num_samples}") if progress else None
    total = 0.0
    for b, start in enumerate(range(0, len(x), batch_size)):
        batch = tf.constant(x[start:start + batch_size])
        z_mean, z_log_var = encode(batch)
        parts = [log_weights(batch, z_mean, z_log_var, tf.constant(min(chunk, num_samples - first)),
                             tf.constant([seed, b, c], tf.int64))
                 for c, first in enumerate(range(0, num_samples, chunk))]
        log_px = tf.reduce_logsumexp(tf.concat(parts, axis=0), axis=0) - math.log(num_samples)
        total -= float(tf.reduce_sum(log_px))
        if report is not None:
            done = start + len(batch)
            report(done, total / done)
    return total / len(x)


def _progress_reporter(count, name, every=60.0):
    """``report(done, value)``: a Keras bar with a time estimate on a terminal; in a log a
    line at every quarter and at least once a minute."""
    import sys
    import time

    import keras

    if sys.stdout.isatty():
        bar = keras.utils.Progbar(count, unit_name="image")
        return lambda done, value: bar.update(done, [(name, value)], finalize=done == count)
    start, last, quarter = time.perf_counter(), [time.perf_counter()], [0]

    def report(done, value):
        now = time.perf_counter()
        if done * 4 // count > quarter[0] or now - last[0] >= every or done == count:
            quarter[0], last[0] = done * 4 // count, now
            left = (now - start) * (count - done) / done
            print(f"evaluate: {done}/{count} images ({100 * done / count:.0f} %), "
                  f"{now - start:.0f} s elapsed, about {left:.0f} s left; {name} {value:.3f}",
                  flush=True)
    return report


def _iwae_functions(model):
    """(encode, log_weights) as ``tf.function``s: the encoder runs once per image, the
    decoder once per (sample, image) row."""
    import tensorflow as tf

    half_log_2pi = 0.5 * LOG_2PI

    @tf.function
    def encode(batch):
        z_mean, z_log_var = model.encoder(batch, training=False)
        return tf.cast(z_mean, tf.float32), tf.cast(z_log_var, tf.float32)

    @tf.function  # jit_compile=True (XLA) ran 3x slower here
    def log_weights(batch, z_mean, z_log_var, k, seed):
        n, d = tf.shape(z_mean)[0], tf.shape(z_mean)[1]
        eps = tf.random.stateless_normal(
            (k, n, d), tf.random.experimental.stateless_fold_in(seed[:2], seed[2]))
        z = reparameterize(z_mean[None], z_log_var[None], eps)  # (k, n, d), sample-major
        log_q = tf.reduce_sum(-half_log_2pi - 0.5 * z_log_var[None] - 0.5 * tf.square(eps), -1)
        log_prior = tf.reduce_sum(-half_log_2pi - 0.5 * tf.square(z), -1)
        images = tf.reshape(tf.repeat(batch[None], k, axis=0), (-1, *batch.shape[1:]))
        out = model.pixel_parameters(tf.reshape(z, (-1, d)), batch, batch)  # context once per image
        log_px_z = -tf.reshape(model.negative_log_likelihood(images, out), (k, n))
        return log_px_z + log_prior - log_q

    return encode, log_weights


def active_units(model, x, threshold=0.01):
    """Latent dimensions whose posterior mean varies across the data (Burda et al.).

    Args:
        model: BaseVAE. The model.
        x: np.ndarray. float32 images in [0, 1].
        threshold: float. The least variance of a dimension's posterior mean over ``x``.

    Examples:
    >>> active_units(model, x_test)  # doctest: +SKIP
    18
    """
    z_mean, _ = model.encode(x)
    return int((np.var(z_mean, axis=0) > threshold).sum())


def evaluate_model(model, x, iwae_samples=1000, binarize=False, seed=0, progress=False):
    """All the likelihood figures of ``vae-apps evaluate``, nats per image.

    Args:
        model: BaseVAE. The model.
        x: np.ndarray. float32 test images in [0, 1].
        iwae_samples: int. K of the importance-weighted bound.
        binarize: bool. Binarise ``x`` first (seeded by ``seed``), for binarised-MNIST
            figures.
        seed: int. Seeds the binarisation and every sample: same seed, same figures.
        progress: bool. A progress bar over the IWAE pass.

    Returns:
        a dict: images, negative_elbo, reconstruction, kl, ``iwae_nll_k{K}``,
        active_units, latent_dim.

    Examples:
    >>> evaluate_model(model, x_test, iwae_samples=1000, binarize=True)  # doctest: +SKIP
    """
    if binarize:
        x = binarize_images(x, seed)
    if hasattr(model, "log_weights"):  # latents at several scales: its own importance weights
        return multiscale_figures(model, x, iwae_samples, seed=seed, progress=progress)
    terms = elbo_terms(model, x, seed=seed)
    return {"images": int(len(x)), "negative_elbo": terms["negative_elbo"],
            "reconstruction": terms["reconstruction"], "kl": terms["kl"],
            f"iwae_nll_k{iwae_samples}": iwae_nll(model, x, iwae_samples, seed=seed,
                                                  progress=progress),
            "active_units": active_units(model, x), "latent_dim": model.latent_dim}


def multiscale_figures(model, x, num_samples=100, batch_size=16, seed=0, progress=False):
    """``evaluate_model``'s figures for a model with latents at several scales
    (``HierarchicalVAE``): the negative ELBO (one draw per image) and the IWAE bound with
    ``num_samples`` draws, in nats per image and in bits per dimension.

    Args:
        model: HierarchicalVAE. The model.
        x: np.ndarray. float32 images in [0, 1] (multiples of 1/255).
        num_samples: int. K of the importance-weighted bound.
        batch_size: int. Images per call.
        seed: int. Seeds every draw: same seed, same figures.
        progress: bool. Progress lines with a time estimate.

    Examples:
    >>> multiscale_figures(model, faces, num_samples=100)["iwae_bits_per_dim"]  # doctest: +SKIP
    """
    import tensorflow as tf

    step = tf.function(lambda images, s: model.log_weights(images, s))
    x = np.round(np.asarray(x, "float32") * 255.0) / 255.0  # the 256 levels the likelihood counts
    report = _progress_reporter(len(x), f"iwae_nll_k{num_samples}") if progress else None
    elbo_total = iwae_total = 0.0
    for b, start in enumerate(range(0, len(x), batch_size)):
        batch = tf.constant(x[start:start + batch_size])
        draws = tf.stack([step(batch, tf.constant([seed, b * num_samples + k], tf.int64))
                          for k in range(num_samples)])
        elbo_total -= float(tf.reduce_sum(draws[0]))
        log_px = tf.reduce_logsumexp(draws, axis=0) - math.log(num_samples)
        iwae_total -= float(tf.reduce_sum(log_px))
        if report is not None:
            report(start + len(batch), iwae_total / (start + len(batch)))
    dims = float(np.prod(x.shape[1:])) * math.log(2.0)
    elbo, iwae = elbo_total / len(x), iwae_total / len(x)
    return {"images": int(len(x)), "negative_elbo": elbo, f"iwae_nll_k{num_samples}": iwae,
            "elbo_bits_per_dim": elbo / dims, "iwae_bits_per_dim": iwae / dims,
            "latent_dim": model.latent_dim}
