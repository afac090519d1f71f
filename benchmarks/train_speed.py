"""Training throughput: vae_apps against the keras.io VAE example, same process.

    python benchmarks/train_speed.py [--data ../shared/data/mnist.npz] [--runs 3]

1. The keras.io example's exact network (Conv2D 32/64 stride 2, Dense 16, latent 2,
   mirrored decoder, batch 128, Adam, K = 1): vae_apps (``train_vae``, its shipped
   defaults) against a faithful re-implementation of the example's ``train_step``.
2. vae_apps' default network, trained both ways.
3. Time to quality: wall time until the validation negative ELBO first drops below
   110 nats, vae_apps' default network, both ways.

Runs alternate (A, B, A, B, ...) after one warm-up run each; each run is one epoch
over the same ``--images`` training images. Medians are printed with the ratio
vae_apps / reference; the last line is the ratio at the identical network. With the
keras.io network a third system runs in the rotation: the bare forward, backward and
Adam step in a ``tf.function`` on one constant batch, the most any training loop on
the same TensorFlow kernels could reach. The tables go to benchmarks/results/performance.json
(``train_speed``, ``train_speed_quality``) and the ceiling sentence to its texts.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_MNIST, load_mnist, table, write_results  # noqa: E402


def keras_io_example(encoder, decoder):
    """The keras.io VAE example (examples/generative/vae.py), written out again.

    ``encoder`` returns (z_mean, z_log_var); the example's Sampling layer and
    ``train_step`` are copied faithfully. ``test_step`` is added (the same loss) so
    the time-to-quality run can read a validation loss.
    """
    import keras
    import tensorflow as tf
    from keras import layers, ops

    class Sampling(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            epsilon = keras.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
            return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    class ExampleVAE(keras.Model):
        def __init__(self, encoder, decoder, **kwargs):
            super().__init__(**kwargs)
            self.encoder = encoder
            self.decoder = decoder
            self.sampling = Sampling()
            self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
            self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
            self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

        @property
        def metrics(self):
            return [self.total_loss_tracker, self.reconstruction_loss_tracker,
                    self.kl_loss_tracker]

        def example_losses(self, data):
            z_mean, z_log_var = self.encoder(data)
            z = self.sampling([z_mean, z_log_var])
            reconstruction = ops.sigmoid(self.decoder(z))  # vae_apps' decoders give logits
            reconstruction_loss = ops.mean(ops.sum(
                keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2)))
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            return reconstruction_loss + kl_loss, reconstruction_loss, kl_loss

        def _report(self, total, reconstruction, kl):
            self.total_loss_tracker.update_state(total)
            self.reconstruction_loss_tracker.update_state(reconstruction)
            self.kl_loss_tracker.update_state(kl)
            return {"loss": self.total_loss_tracker.result(),
                    "reconstruction_loss": self.reconstruction_loss_tracker.result(),
                    "kl_loss": self.kl_loss_tracker.result()}

        def train_step(self, data):
            with tf.GradientTape() as tape:
                total_loss, reconstruction_loss, kl_loss = self.example_losses(data)
            grads = tape.gradient(total_loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            return self._report(total_loss, reconstruction_loss, kl_loss)

        def test_step(self, data):
            return self._report(*self.example_losses(data))

    model = ExampleVAE(encoder, decoder)
    model.compile(optimizer=keras.optimizers.Adam())
    return model


def build_pair(network, seed=0):
    """(vae_apps VAE, keras.io-example model) with identical encoder/decoder layers."""
    import keras

    from vae_apps.models.vae import VAE
    from vae_apps.models.networks import build_decoder, build_encoder

    keras.utils.set_random_seed(seed)
    ours = VAE((28, 28, 1), seed=seed, **network)
    shapes = dict(image_shape=(28, 28, 1), **network)
    decoder_units = shapes.pop("decoder_hidden_units", None)
    reference = keras_io_example(build_encoder(**shapes),
                                 build_decoder(**shapes, decoder_hidden_units=decoder_units))
    return ours, reference


def bare_loop(reference, x, batch_size=128):
    """The reference's loss, gradients and an Adam step in one ``tf.function``, on one
    constant batch: no input pipeline, no Keras loop, no metrics. Nothing built on
    these layers' TensorFlow kernels trains faster: a ceiling for the ratio."""
    import keras
    import tensorflow as tf

    batch, weights = tf.constant(x[:batch_size]), reference.trainable_weights
    optimizer = keras.optimizers.Adam()

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = reference.example_losses(batch)[0]
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))

    def run():
        for _ in range(len(x) // batch_size):
            step()

    return run


def throughput_runs(x, ours, reference, runs, ceiling=False):
    """Alternate one-epoch runs; return ({name: [images/s, ...]})."""
    from vae_apps.training.loop import train_vae

    steps = {
        "vae_apps": lambda: train_vae(x, model=ours, epochs=1, verbose=0),
        "reference": lambda: reference.fit(x, epochs=1, batch_size=128, verbose=0),
    }
    if ceiling:
        steps["bare loop"] = bare_loop(reference, x)
    for run in steps.values():  # warm-up: tracing and the first dataset build
        run()
    speeds = {name: [] for name in steps}
    for _ in range(runs):
        for name, run in steps.items():
            start = time.perf_counter()
            run()
            images = len(x) if name != "bare loop" else len(x) // 128 * 128
            speeds[name].append(images / (time.perf_counter() - start))
    return speeds


class FirstBelow:
    """Keras callback: wall time at the end of the first epoch with val_loss < target."""

    def __init__(self, target):
        import keras

        outer = self

        class _Callback(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                outer.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                outer.curve.append(round(logs["val_loss"], 2))
                if outer.seconds is None and logs["val_loss"] < target:
                    outer.seconds = time.perf_counter() - outer.start
                    outer.epochs = epoch + 1
                    self.model.stop_training = True

        self.callback = _Callback()
        self.start = self.seconds = self.epochs = None
        self.curve = []


def time_to_quality(x_train, x_val, network, target, max_epochs):
    from vae_apps.training.loop import train_vae

    ours, reference = build_pair(network)
    results = {}
    watch = FirstBelow(target)
    train_vae(x_train, x_val, model=ours, epochs=max_epochs, verbose=0,
              callbacks=[watch.callback])
    results["vae_apps"] = watch
    watch = FirstBelow(target)
    reference.fit(x_train, validation_data=(x_val,), epochs=max_epochs, batch_size=128,
                  verbose=0, callbacks=[watch.callback])
    results["reference"] = watch
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_MNIST))
    parser.add_argument("--runs", type=int, default=3, help="timed runs per system (>= 3)")
    parser.add_argument("--images", type=int, default=19200, help="images per timed run")
    parser.add_argument("--target", type=float, default=110.0, help="validation -ELBO (nats)")
    parser.add_argument("--max-epochs", type=int, default=5)
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args(argv)

    import numpy as np
    import tensorflow as tf

    from vae_apps.models.vae import VAE
    from vae_apps.training.loop import split_validation

    print(f"TensorFlow {tf.__version__}, {len(tf.config.list_logical_devices('CPU'))} CPU "
          f"device(s), GPUs: {len(tf.config.list_physical_devices('GPU'))}")
    data = load_mnist(args.data)
    x = np.ascontiguousarray(data.train.x[: args.images])
    default = VAE((28, 28, 1))
    networks = {
        "keras.io example": dict(latent_dim=2, filters=(32, 64), hidden_units=(16,),
                                 decoder_hidden_units=()),
        "vae_apps default": dict(latent_dim=default.latent_dim, filters=default.filters,
                                 hidden_units=default.hidden_units),
    }
    rows, ratios = [], {}
    for label, network in networks.items():
        ours, reference = build_pair(network)
        speeds = throughput_runs(x, ours, reference, args.runs, ceiling=label == "keras.io example")
        a, b = statistics.median(speeds["vae_apps"]), statistics.median(speeds["reference"])
        ratios[label] = a / b
        if "bare loop" in speeds:
            # Step times here switch between two levels (~1.4x apart) from run to run; the
            # best runs compare the systems at the fast level.
            best = {name: max(v) for name, v in speeds.items()}
            c = statistics.median(speeds["bare loop"])
            ceiling = (f"{label}, bare tf.function loop on one constant batch: {c:.0f} img/s "
                       f"({' '.join(f'{v:.0f}' for v in speeds['bare loop'])}), "
                       f"{c / b:.2f}x the reference's median; best runs: vae_apps "
                       f"{best['vae_apps']:.0f}, reference {best['reference']:.0f}, bare loop "
                       f"{best['bare loop']:.0f} img/s: ceiling for any trainer on these kernels "
                       f"{best['bare loop'] / best['reference']:.2f}x, vae_apps "
                       f"{best['vae_apps'] / best['reference']:.2f}x")
        runs = lambda name: " ".join(f"{s:.0f}" for s in speeds[name])
        rows.append([label, f"{a:.0f} ({runs('vae_apps')})", f"{b:.0f} ({runs('reference')})",
                     f"{a / b:.2f}"])
        print(f"{label}: vae_apps {a:.0f} img/s, reference {b:.0f} img/s", flush=True)
    header = ["network", "vae_apps img/s (runs)", "keras.io example img/s (runs)", "ratio"]
    print(table(rows, header))
    print(ceiling)
    write_results("performance", tables={"train_speed": (header, rows)},
                  texts={"train_speed_ceiling": ceiling + "."})

    if not args.skip_quality:
        x_train, x_val = split_validation(data.train.x, 0.1, seed=0)
        results = time_to_quality(x_train, x_val, networks["vae_apps default"], args.target,
                                  args.max_epochs)
        rows = []
        for name, watch in results.items():
            when = (f"{watch.seconds:.0f} s ({watch.epochs} epochs)" if watch.seconds
                    else f"not within {args.max_epochs} epochs")
            rows.append([name, when, " ".join(map(str, watch.curve))])
        print(f"\ntime to validation -ELBO < {args.target:g} nats, vae_apps default network, "
              f"{len(x_train)} training images:")
        header = ["system", f"wall time to validation −ELBO < {args.target:g} nats",
                  "validation −ELBO per epoch"]
        print(table(rows, header))
        write_results("performance", tables={"train_speed_quality": (header, rows)})
    print(f"ratio: {ratios['keras.io example']:.2f}")


if __name__ == "__main__":
    main()
