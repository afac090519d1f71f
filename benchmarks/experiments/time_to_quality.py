"""Time to quality: training wall time until the test negative ELBO first reaches a target.

    python benchmarks/experiments/time_to_quality.py [--data ../shared/data/mnist.npz] [--runs a,b,c]
        [--binarized-runs a,b] [--binarized-epochs 30] [--binarized-budget 420]
        [--test-images 10000] [--try JSON]

Runs, each from a fresh model, seed 0, on the MNIST training split (the vae_apps runs
hold out 10 % for validation, as ``vae-apps train`` does):

(a) ``vae-apps train``'s previous defaults, written out as explicit arguments;
(b) ``vae-apps train``'s defaults now (``vae_apps.training.small_images.SmallImageConfig``);
(c) the keras.io VAE example's network and training (latent 2, batch 128, Adam 1e-3,
    all 60,000 training images, no validation): it plateaus above 100 nats, so its
    best test -ELBO and the time to within 0.5 nats of it are reported.

Every quarter epoch the clock stops, the test -ELBO (one z per image, float32 copy
of the model) is computed on the test images, and the clock restarts: the times are
training only (the runs' own validation passes included). Grey MNIST (Bernoulli
likelihood on grey levels), target 100 nats: (a) and (b) train their full default
epochs, so the table also shows where they end. Dynamically binarised MNIST (test set
binarised once, seed 12345), target 90 nats: ``--epochs 30`` for both, stopped at the
target or at ``--binarized-budget`` seconds. The last
line is ``ratio: X.XX`` = time of (a) / time of (b) on grey MNIST.
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/: common

from common import DEFAULT_MNIST, PREVIOUS_TRAINING, load_mnist, report_table  # noqa: E402

# (a): what `vae-apps train DATA` ran before this benchmark existed, network included.
PREVIOUS_DEFAULTS = dict(**PREVIOUS_TRAINING, latent_dim=32, architecture="conv",
                         filters=(32, 64), hidden_units=(512,), likelihood="bernoulli", beta=1.0,
                         num_samples=1, warmup_epochs=0)
GREY_TARGET, BINARIZED_TARGET = 100.0, 90.0


class Clock:
    """Keras callback: test -ELBO every ``every`` steps, training time only.

    ``evaluate(model) -> nats``; the time it takes is left out of the clock. Stops
    training at ``target`` or after ``budget`` seconds of training.
    """

    def __init__(self, evaluate, every, target, budget, plateau=False, stop_at_target=True):
        import keras

        outer = self
        self.curve, self.reached = [], None

        class _Callback(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                outer.start, outer.excluded, outer.step = time.perf_counter(), 0.0, 0

            def on_train_batch_end(self, batch, logs=None):
                outer.step += 1
                if outer.step % every == 0:
                    outer.check(self.model)

        self.callback = _Callback()
        self.evaluate, self.target, self.budget, self.plateau = evaluate, target, budget, plateau
        self.stop_at_target = stop_at_target

    def check(self, model):
        paused = time.perf_counter()
        seconds = paused - self.start - self.excluded
        nats = self.evaluate(model)
        self.curve.append((seconds, nats))
        print(f"    {seconds:7.1f} s  test -ELBO {nats:7.2f}", flush=True)
        if self.reached is None and nats <= self.target:
            self.reached = seconds
            model.stop_training = self.stop_at_target
        if seconds > self.budget or (self.plateau and self.plateaued()):
            model.stop_training = True
        self.excluded += time.perf_counter() - paused

    def plateaued(self, window=8, gain=0.5):
        # No gain of `gain` nats over the last `window` evaluations (two epochs).
        values = [v for _, v in self.curve]
        return len(values) > window and min(values[:-window]) - min(values[-window:]) < gain

    def summary(self):
        best = min(v for _, v in self.curve)
        near_best = next(t for t, v in self.curve if v <= best + 0.5)
        return {"reached": self.reached, "best": best, "near_best": near_best,
                "seconds": self.curve[-1][0], "final": self.curve[-1][1]}


def vae_negative_elbo(x_test, seed=0):
    from vae_apps.generation.likelihoods import elbo_terms
    from vae_apps.loading import with_precision

    def evaluate(model):
        return elbo_terms(with_precision(model, "float32"), x_test, seed=seed)["negative_elbo"]

    return evaluate


def example_negative_elbo(x_test, seed=0):
    """The keras.io example's test -ELBO: its decoder gives probabilities (sigmoid)."""
    import tensorflow as tf

    def evaluate(model):
        total = 0.0
        for b, start in enumerate(range(0, len(x_test), 500)):
            batch = tf.constant(x_test[start:start + 500])
            z_mean, z_log_var = model.encoder(batch)
            eps = tf.random.stateless_normal(tf.shape(z_mean), [seed, b])
            z = z_mean + tf.exp(0.5 * z_log_var) * eps
            logits = model.decoder(z)  # the example applies the sigmoid inside its loss
            nll = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(batch, logits), (1, 2, 3))
            kl = -0.5 * tf.reduce_sum(1 + z_log_var - z_mean**2 - tf.exp(z_log_var), 1)
            total += float(tf.reduce_sum(nll + kl))
        return total / len(x_test)

    return evaluate


def run_vae_apps(data, x_test, settings, target, budget, binarize, stop_at_target):
    from vae_apps.training.loop import split_validation, train_vae
    from vae_apps.training.small_images import SmallImageConfig

    settings = {**SmallImageConfig().for_images(10**9), **settings}  # a large set: the base recipe
    x_train, x_val = split_validation(data.train.x, 0.1, seed=0)
    steps_per_epoch = math.ceil(len(x_train) / settings["batch_size"])
    clock = Clock(vae_negative_elbo(x_test), max(steps_per_epoch // 4, 1), target, budget,
                  stop_at_target=stop_at_target)
    train_vae(x_train, x_val, binarize=binarize, seed=0, verbose=0, callbacks=[clock.callback],
              **settings)
    return clock


def run_keras_io_example(data, x_test, budget):
    from train_speed import keras_io_example

    from vae_apps.models.networks import build_decoder, build_encoder

    import keras

    keras.utils.set_random_seed(0)
    shapes = dict(image_shape=(28, 28, 1), latent_dim=2, filters=(32, 64), hidden_units=(16,))
    model = keras_io_example(build_encoder(**shapes),
                             build_decoder(**shapes, decoder_hidden_units=()))
    x_train = data.train.x
    clock = Clock(example_negative_elbo(x_test), math.ceil(len(x_train) / 128) // 4, -math.inf,
                  budget, plateau=True)
    model.fit(x_train, epochs=1000, batch_size=128, verbose=0, callbacks=[clock.callback])
    return clock


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DEFAULT_MNIST))
    parser.add_argument("--runs", default="a,b,c", help="grey MNIST runs (a, b, c)")
    parser.add_argument("--binarized-runs", default="a,b", help="binarised MNIST runs (a, b)")
    parser.add_argument("--budget", type=float, default=900,
                        help="most seconds of training per grey run")
    parser.add_argument("--binarized-epochs", type=int, default=30,
                        help="--epochs of the binarised runs (default 30)")
    parser.add_argument("--binarized-budget", type=float, default=420,
                        help="most seconds of training per binarised run")
    parser.add_argument("--test-images", type=int, default=10_000)
    parser.add_argument("--try", dest="trial", type=json.loads, default={}, metavar="JSON",
                        help='settings to change in (b), e.g. \'{"batch_size": 512}\'')
    args = parser.parse_args()

    from vae_apps.io.data import binarize_images
    from vae_apps.hardware import cpu_has_fast_bfloat16

    data = load_mnist(args.data)
    x_test = data.test.x[:args.test_images]
    print(f"MNIST: {len(data.train)} training images, {len(x_test)} test images; "
          f"CPU bfloat16: {'yes' if cpu_has_fast_bfloat16() else 'no'}", flush=True)
    settings = {"a": PREVIOUS_DEFAULTS, "b": args.trial}
    names = {"a": "(a) previous defaults", "b": "(b) defaults now",
             "c": "(c) keras.io example"}
    rows, grey = [], {}
    for key in [r for r in args.runs.split(",") if r]:
        print(f"grey MNIST, {names[key]}:", flush=True)
        # (a) and (b) train their full default epochs: time to target and final quality.
        clock = (run_keras_io_example(data, x_test, args.budget) if key == "c" else
                 run_vae_apps(data, x_test, settings[key], GREY_TARGET, args.budget, False,
                              stop_at_target=False))
        grey[key] = s = clock.summary()
        rows.append(["grey", names[key], _seconds(s["reached"]), f"{s['best']:.2f}",
                     f"{s['final']:.2f}", f"{s['near_best']:.0f}", f"{s['seconds']:.0f}"])
    x_binary = binarize_images(x_test, 12345)
    for key in [r for r in args.binarized_runs.split(",") if r]:
        print(f"binarised MNIST, {names[key]}, --epochs {args.binarized_epochs}:", flush=True)
        clock = run_vae_apps(data, x_binary, {**settings[key], "epochs": args.binarized_epochs},
                             BINARIZED_TARGET, args.binarized_budget, True, stop_at_target=True)
        s = clock.summary()
        rows.append(["binarised", names[key], _seconds(s["reached"]), f"{s['best']:.2f}",
                     f"{s['final']:.2f}", f"{s['near_best']:.0f}", f"{s['seconds']:.0f}"])
    report_table("performance", "time_to_quality", rows,
                 ["MNIST", "run", "s to target", "best test -ELBO", "last test -ELBO",
                  "s to best+0.5", "s trained"])
    if grey.get("a", {}).get("reached") and grey.get("b", {}).get("reached"):
        print(f"ratio: {grey['a']['reached'] / grey['b']['reached']:.2f}")


def _seconds(value):
    return "not reached" if value is None else f"{value:.0f}"


if __name__ == "__main__":
    main()
