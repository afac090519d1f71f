"""IWAE evaluation speed: ``vae_apps.generation.likelihoods.iwae_nll`` against its previous version.

    python benchmarks/iwae_speed.py [--model mnist.keras] [--images 10000] [--samples 1000]

Both estimate -log p(x) of the same model on the same binarised MNIST test images
(binarised once, seed 12345) with K samples per image, in this process, taking turns
on blocks of ``--block`` images; each prints images/s and its estimate. Without
``--model`` a default VAE is trained for 3 epochs on binarised MNIST first (not timed). The last line is
``ratio: X.XX`` (new images/s / previous images/s).
"""

import argparse
import functools
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_MNIST, load_mnist, report_table, write_results  # noqa: E402


def previous_iwae_nll(model, x, num_samples=1000, batch_size=10, chunk=100, seed=0):
    """``iwae_nll`` as it was before this benchmark (git 782cad3), kept to compare:
    10 images per call, the encoder run again for every chunk of 100 samples."""
    import tensorflow as tf

    from vae_apps.models.base import LOG_2PI, reparameterize

    half_log_2pi = 0.5 * LOG_2PI

    @tf.function
    def log_weights(batch, k, seed):
        z_mean, z_log_var = model.encoder(batch, training=False)
        n, d = tf.shape(z_mean)[0], tf.shape(z_mean)[1]
        eps = tf.random.stateless_normal((k, n, d), seed)
        z = reparameterize(z_mean[None], z_log_var[None], eps)
        log_q = tf.reduce_sum(-half_log_2pi - 0.5 * z_log_var[None] - 0.5 * tf.square(eps), -1)
        log_prior = tf.reduce_sum(-half_log_2pi - 0.5 * tf.square(z), -1)
        images = tf.reshape(tf.repeat(batch[None], k, axis=0), (-1, *batch.shape[1:]))
        out = model.pixel_parameters(tf.reshape(z, (-1, d)), batch, batch)
        log_px_z = -tf.reshape(model.negative_log_likelihood(images, out), (k, n))
        return log_px_z + log_prior - log_q

    total = 0.0
    for b, start in enumerate(range(0, len(x), batch_size)):
        batch = tf.constant(np.asarray(x[start:start + batch_size], "float32"))
        parts = []
        for c, first in enumerate(range(0, num_samples, chunk)):
            k = min(chunk, num_samples - first)
            parts.append(log_weights(batch, tf.constant(k),
                                     tf.constant([seed, b * 100003 + c], tf.int64)))
        lw = tf.concat(parts, axis=0)
        log_px = tf.reduce_logsumexp(lw, axis=0) - math.log(num_samples)
        total -= float(tf.reduce_sum(log_px))
    return total / len(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DEFAULT_MNIST))
    parser.add_argument("--model", help="a .keras VAE for 28x28x1 images (default: train one)")
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--block", type=int, default=500,
                        help="images per turn: the estimators take turns on blocks")
    parser.add_argument("--float32", action="store_true",
                        help="also time iwae_nll(precision='float32') (no bfloat16)")
    args = parser.parse_args()

    from vae_apps.io.data import binarize_images
    from vae_apps.generation.likelihoods import iwae_nll
    from vae_apps.loading import load_vae
    from vae_apps.training.loop import split_validation, train_vae

    data = load_mnist(args.data)
    x_test = binarize_images(data.test.x[:args.images], 12345)
    if args.model:
        model = load_vae(args.model, compile=False)
    else:
        x_train, x_val = split_validation(data.train.x, 0.1)
        model = train_vae(x_train, x_val, epochs=3, binarize=True, precision="auto",
                          verbose=0).model
    runs = {"previous": previous_iwae_nll, "now": iwae_nll}
    if args.float32:
        runs["now, float32"] = functools.partial(iwae_nll, precision="float32")
    for estimate in runs.values():
        estimate(model, x_test[:2], num_samples=args.samples)  # tracing, not timed
    # The runs alternate over blocks of images (order flipped every block), so a change
    # of the machine's speed during the run weighs on every estimator alike.
    seconds, nll_sums = dict.fromkeys(runs, 0.0), dict.fromkeys(runs, 0.0)
    blocks = range(0, len(x_test), args.block)
    for b, start in enumerate(blocks):
        block = x_test[start:start + args.block]
        for name in (list(runs) if b % 2 == 0 else list(reversed(runs))):
            begin = time.perf_counter()
            nll_sums[name] += runs[name](model, block, num_samples=args.samples,
                                         seed=b) * len(block)
            seconds[name] += time.perf_counter() - begin
        print(f"{start + len(block)}/{len(x_test)} images: " + ", ".join(
            f"{name} {(start + len(block)) / seconds[name]:.1f} img/s" for name in runs),
            flush=True)
    rows, speeds = [], {}
    for name in runs:
        speeds[name] = len(x_test) / seconds[name]
        rows.append([name, f"{nll_sums[name] / len(x_test):.3f}", f"{seconds[name]:.0f}",
                     f"{speeds[name]:.1f}"])
    report_table("generation", "iwae_speed", rows,
                 ["iwae_nll", f"NLL K={args.samples} (nats)", "seconds", "images/s"])
    ratio = f"ratio: {speeds['now'] / speeds['previous']:.2f}"
    print(ratio)
    write_results("generation", texts={"iwae_speed_ratio": f"{len(x_test):,} test images, "
                                       f"K = {args.samples}; shipped / straightforward images/s, "
                                       f"{ratio}"})


if __name__ == "__main__":
    main()
