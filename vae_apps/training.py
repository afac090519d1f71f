"""Training the shared VAE: the input pipeline, the callbacks and a safe final save."""

import contextlib
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from vae_apps.io.data import binarize_images, make_dataset
from vae_apps.errors import UserError
from vae_apps.io.files import atomic_path, check_new_output, ensure_folder
from vae_apps.hardware import dtype_policy
from vae_apps.loading import check_image_shape, load_vae
from vae_apps.models.vae import VAE

log = logging.getLogger("vae_apps")


class TrainingDiverged(UserError):
    """The loss became NaN or infinite.

    Args:
        message: str. Where (epoch, step) and what to try.

    Examples:
    >>> train_vae(x, learning_rate=10.0)  # raises TrainingDiverged  # doctest: +SKIP
    """


class StopOnNaN(keras.callbacks.TerminateOnNaN):
    """``TerminateOnNaN(raise_error=True)`` whose error names the epoch and step.

    Raising (rather than stopping gracefully) keeps ``BackupAndRestore``'s backup,
    which a normal end of training deletes.

    Examples:
    >>> model.fit(ds, callbacks=[StopOnNaN()])  # fit_keeping_best adds it
    """

    def __init__(self):
        super().__init__(raise_error=True)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        try:
            super().on_batch_end(batch, logs)
        except RuntimeError:
            raise TrainingDiverged(
                f"training diverged: the loss became NaN or infinite at epoch {self.epoch + 1}, "
                f"step {batch + 1} (try a lower --learning-rate)") from None


QUIET_ENV = "VAE_APPS_QUIET"  # set (``vae-apps --quiet``): no progress output at all


def progress_wanted():
    """False when progress output is switched off (``--quiet``, ``VAE_APPS_QUIET=1``)."""
    return os.environ.get(QUIET_ENV, "") in ("", "0")


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class TrainingProgress(keras.callbacks.Callback):
    """Progress of a whole training run with a time estimate: a bar on a terminal, a
    line per epoch (and at least one a minute) in a log.

    Args:
        desc: str. What is trained (the lines' prefix).
        stream: file or None. Where to write (default: standard error).
        every: float. Seconds between lines within an epoch when not on a terminal.

    Examples:
    >>> model.fit(ds, epochs=20, verbose=0, callbacks=[TrainingProgress("label")])
    """

    def __init__(self, desc="train", stream=None, every=60.0):
        super().__init__()
        self.desc, self.stream, self.every = desc, stream, every

    def on_train_begin(self, logs=None):
        import sys

        self.out = self.stream or sys.stderr
        self.epochs = self.params.get("epochs") or 1
        self.steps = self.params.get("steps") or None
        self.start = self.last = time.perf_counter()
        self.done = 0
        self.epoch = 0
        self.bar = None
        self.total = self.epochs * self.steps if self.steps else self.epochs
        if getattr(self.out, "isatty", lambda: False)():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, desc=self.desc, unit="step" if self.steps else "epoch",
                            file=self.out, dynamic_ncols=True)
        else:
            per = f" of {self.steps} steps" if self.steps else ""
            self._line(f"{self.epochs} epochs{per}")

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if not self.steps:
            return
        self.done = self.epoch * self.steps + batch + 1
        if self.bar is not None:
            self.bar.update(self.done - self.bar.n)
            if logs and "loss" in logs:
                self.bar.set_postfix(loss=f"{float(logs['loss']):.4g}", epoch=self.epoch + 1,
                                     refresh=False)
        elif time.perf_counter() - self.last >= self.every:
            self._status(f"epoch {self.epoch + 1}/{self.epochs}, step {batch + 1}/{self.steps}",
                         logs)

    def on_epoch_end(self, epoch, logs=None):
        self.done = (epoch + 1) * self.steps if self.steps else epoch + 1
        if self.bar is not None:
            self.bar.update(self.done - self.bar.n)
        else:
            self._status(f"epoch {epoch + 1}/{self.epochs} done", logs)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
        else:
            self._line(f"finished in {_duration(time.perf_counter() - self.start)}")

    def _status(self, where, logs):
        elapsed = time.perf_counter() - self.start
        fraction = self.done / self.total
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else float("nan")
        loss = f"; loss {float(logs['loss']):.4g}" if logs and "loss" in logs else ""
        self._line(f"{where} ({100 * fraction:.0f} %), {_duration(elapsed)} elapsed, about "
                   f"{_duration(left)} left{loss}")

    def _line(self, text):
        self.last = time.perf_counter()
        print(f"{self.desc}: {text}", file=self.out, flush=True)


class StopOnInterrupt(keras.callbacks.Callback):
    """Ctrl-C ends training after the current step, cleanly; a second Ctrl-C interrupts at once.

    Raising KeyboardInterrupt in the middle of a TensorFlow step can leave the input
    pipeline's threads hanging, so the first SIGINT only asks the fit loop to stop.

    Examples:
    >>> stop = StopOnInterrupt()
    >>> model.fit(ds, epochs=50, callbacks=[stop])
    >>> stop.interrupted  # True after a Ctrl-C  # doctest: +SKIP
    """

    def __init__(self):
        super().__init__()
        self.interrupted = False
        self._previous = None

    def _handle(self, signum, frame):
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        self.model.stop_training = True
        log.warning("interrupted: stopping after this step (Ctrl-C again to stop at once)")

    def on_train_begin(self, logs=None):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def on_train_batch_end(self, batch, logs=None):
        if self.interrupted:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


class BestCheckpoint(keras.callbacks.Callback):
    """Keep the model of the epoch where ``monitor`` was best.

    With a ``path``, save it there whenever ``monitor`` improves, atomically: a write
    that fails (a full disk) leaves the previous best file intact, warns, and training
    goes on. Without one, keep its weights in memory; ``restore()`` puts them back.

    Args:
        path: str or Path or None. The ``.keras`` file to keep the best model in.
        monitor: str. The logged value to minimise (``"val_loss"``, ``"loss"``).

    Examples:
    >>> best = BestCheckpoint()
    >>> model.fit(ds, validation_data=val, epochs=10, callbacks=[best])
    >>> best.restore()  # the best epoch's weights
    """

    def __init__(self, path=None, monitor="val_loss"):
        super().__init__()
        self.path = None if path is None else Path(path)
        self.monitor, self.best, self.best_weights = monitor, float("inf"), None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not value < self.best:
            return
        if self.path is None:
            self.best_weights = self.model.get_weights()
        else:
            try:
                with atomic_path(self.path) as tmp:
                    self.model.save(tmp)
            except UserError as exc:
                log.warning("epoch %d: could not write the checkpoint (%s); the previous best "
                            "model is kept", epoch + 1, exc)
                return
        self.best = value

    def restore(self):
        """Put the best epoch's weights back (kept in memory only without a ``path``)."""
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


@dataclass
class TrainResult:
    """What a training run gives back.

    Args:
        model: BaseVAE. The best epoch's model (float32).
        history: dict. Keras' ``History.history``: a list of values per logged name.
        epochs_run: int. Epochs finished.
        seconds: float. Wall time of ``fit``.
        interrupted: bool. Ctrl-C ended it early (the model is the best so far).

    Examples:
    >>> result = train_vae(x_train, x_val, epochs=5)
    >>> result.model.save("vae.keras"); result.history["val_loss"][-1]  # doctest: +SKIP
    """

    model: VAE
    history: dict
    epochs_run: int
    seconds: float
    interrupted: bool = False


def train_vae(x_train, x_val=None, *, model=None, epochs=10, batch_size=128,
              learning_rate=1e-3, schedule="constant", warmup_steps=0, precision="float32",
              early_stopping=None, noise=None, binarize=False, seed=0, out=None,
              overwrite=False, logdir=None, resume_dir=None, steps_per_execution=1,
              strategy=None, verbose="auto", callbacks=(), **model_kwargs):
    """Train a VAE on images ``x_train`` (float32 N x H x W x C in [0, 1]).

    Args:
        x_train: np.ndarray. float32 images (N, H, W, C) in [0, 1].
        x_val: np.ndarray or None. Validation images; the kept model is the best on
            them (else on the training loss).
        model: VAE or None. A model to continue training; default: a new
            ``VAE(**model_kwargs)``.
        epochs: int. Passes over ``x_train``.
        batch_size: int. Images per update (global, over all replicas).
        learning_rate: float. Adam's learning rate (the peak of a ``"cosine"`` schedule).
        schedule: str. ``"constant"`` or ``"cosine"`` (linear warm-up over
            ``warmup_steps`` updates, at most a sixth of all, then cosine decay to 1 % at
            the last epoch).
        warmup_steps: int. Updates of the cosine schedule's warm-up.
        precision: str. ``"float32"``, ``"mixed"`` (bfloat16 compute) or ``"auto"``
            (mixed where the CPU is fast at it). The returned and saved model is float32.
        early_stopping: int or None. Stop after this many epochs without a better
            validation loss (``None``: train all ``epochs``); the best epoch's weights
            are kept.
        noise: Noise or None. A ``vae_apps.denoising.noise.Noise``: train on (noisy, clean) pairs.
        binarize: bool. Dynamic binarisation, drawn afresh every epoch.
        seed: int. Seeds the weights, the shuffling, the noise and the sampling.
        out: str or Path or None. ``.keras`` path; the best epoch's model is moved
            there atomically, also when training is interrupted (Ctrl-C) or diverges. A
            model trained without ``noise`` also gets its GMM sampler beside it
            (``vae-apps generate --sampler gmm``): ``out`` with ``.gmm.npz`` for ``.keras``.
        overwrite: bool. Replace an existing ``out`` (default: refuse, as the CLI does).
        logdir: str or Path or None. TensorBoard logs.
        resume_dir: str or Path or None. ``BackupAndRestore`` folder: a killed run
            started again with the same folder continues from its last finished epoch.
        steps_per_execution: int. Updates per compiled call (Keras').
        strategy: tf.distribute.Strategy or None. See ``vae_apps.scale.distribute``; the
            model is created and compiled in its scope, ``batch_size`` is global.
        verbose: int or str. Keras' progress output.
        callbacks: tuple of keras.callbacks.Callback. More callbacks.
        **model_kwargs: ``VAE`` arguments for a new model (``latent_dim``,
            ``filters``, ``beta`` ...).

    Returns:
        ``TrainResult``; ``model`` is the best epoch's model (float32).

    Examples:
    >>> x_train, x_val = split_validation(load_data("digits").train.x, 0.1)
    >>> result = train_vae(x_train, x_val, epochs=20, latent_dim=8, out="digits.keras")
    """
    keras.utils.set_random_seed(seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        if model is None:
            model = VAE(image_shape=x_train.shape[1:], seed=seed, dtype=dtype_policy(precision),
                        **model_kwargs)
        check_image_shape(model.image_shape, x_train.shape[1:], "training data")
        if not model.compiled:
            steps = epochs * -(-len(x_train) // batch_size)
            model.compile(optimizer=keras.optimizers.Adam(
                              learning_rate_schedule(learning_rate, schedule, steps, warmup_steps)),
                          steps_per_execution=steps_per_execution)

    train_ds = make_dataset(x_train, batch_size, shuffle=True, seed=seed, noise=noise,
                            binarize=binarize, repeat=True)
    val_ds = None
    if x_val is not None and len(x_val):
        val_ds = fixed_validation_set(x_val, batch_size, seed, noise, binarize)
    if early_stopping is not None:  # the best epoch is kept by fit_keeping_best
        callbacks = [*callbacks, keras.callbacks.EarlyStopping(
            "val_loss" if val_ds is not None else "loss", patience=int(early_stopping))]
    result = fit_keeping_best(model, train_ds, val_ds, epochs=epochs, out=out, overwrite=overwrite,
                              logdir=logdir, resume_dir=resume_dir, verbose=verbose,
                              callbacks=callbacks,
                              steps_per_epoch=-(-len(x_train) // batch_size))
    keep_float32(result, out)
    if out is not None and noise is None:
        from vae_apps.models.samplers import GMMSampler, sampler_path

        codes, _ = result.model.encode(x_train)
        GMMSampler.fit(codes, seed=seed).save(sampler_path(out))
    return result


def fit_keeping_best(model, train_ds, val_ds=None, *, epochs, out=None, overwrite=False,
                     logdir=None, resume_dir=None, verbose="auto", callbacks=(),
                     steps_per_epoch=None, progress_desc="train"):
    """``model.fit`` with the safety every training run gets.

    The model returned is the best epoch's (on ``val_ds``, else on the training loss);
    with ``out`` it is moved there atomically, also when training is interrupted
    (Ctrl-C) or diverges; NaN stops training with a clear error.

    Args:
        model: BaseVAE. A compiled model.
        train_ds: tf.data.Dataset. Training batches (endless with ``steps_per_epoch``).
        val_ds: tf.data.Dataset or None. Validation batches.
        epochs: int. Epochs to train.
        out: str or Path or None. The ``.keras`` file for the best model.
        overwrite: bool. Replace ``out``.
        logdir: str or Path or None. TensorBoard logs.
        resume_dir: str or Path or None. ``BackupAndRestore`` backs up every epoch here.
        verbose: int or str. ``"auto"``: ``TrainingProgress`` (unless ``--quiet``); 0:
            nothing; 1 or 2: Keras' own output.
        callbacks: tuple of keras.callbacks.Callback. More callbacks.
        steps_per_epoch: int or None. Updates per epoch, for an endless ``train_ds``.
        progress_desc: str. The progress lines' prefix.

    Returns:
        ``TrainResult``.

    Examples:
    >>> result = fit_keeping_best(model, train_ds, val_ds, epochs=10, out="m.keras")
    """
    monitor = "val_loss" if val_ds is not None else "loss"
    stop_on_interrupt = StopOnInterrupt()
    all_callbacks = [StopOnNaN(), stop_on_interrupt, *callbacks]
    best_path = None
    if out is not None:
        out = Path(out)
        if out.suffix != ".keras":
            raise UserError(f"{out}: the model file name must end in .keras")
        check_new_output(out, overwrite)
        ensure_folder(out.parent)
        best_path = out.with_name(f".{out.stem}.best.keras")
    keep_best = BestCheckpoint(best_path, monitor)
    all_callbacks.append(keep_best)
    if resume_dir is not None:
        all_callbacks.append(keras.callbacks.BackupAndRestore(str(resume_dir)))
    if logdir is not None:
        all_callbacks.append(keras.callbacks.TensorBoard(str(logdir)))

    start = time.perf_counter()
    interrupted = False
    history = keras.callbacks.History()
    if verbose == "auto":  # one bar for the whole run, with a time estimate
        verbose = 0
        if progress_wanted():
            all_callbacks.append(TrainingProgress(progress_desc))
    try:
        model.fit(train_ds, validation_data=val_ds, epochs=epochs, shuffle=False,
                  steps_per_epoch=steps_per_epoch,
                  callbacks=[*all_callbacks, history], verbose=verbose)
    except KeyboardInterrupt:
        interrupted = True
    except TrainingDiverged:
        if best_path is not None and best_path.exists():
            os.replace(best_path, out)
            log.warning("the last good model was kept at %s", out)
        raise
    finally:
        stop_on_interrupt.on_train_end()  # restore the SIGINT handler whatever happened
    interrupted = interrupted or stop_on_interrupt.interrupted
    if interrupted:
        log.warning("interrupted: keeping the best model of the finished epochs")
    seconds = time.perf_counter() - start
    if best_path is not None:
        if not best_path.exists():
            raise UserError("no epoch finished, so no model was written")
        os.replace(best_path, out)
        model = load_vae(out)
    else:
        keep_best.restore()
    epochs_run = len(history.history.get("loss", []))
    return TrainResult(model, history.history, epochs_run, seconds, interrupted)


# Colour images are taken as photos, whose class is in their colours and textures anywhere
# in the frame, not in where things are: the classifier sees each feature's mean and spread
# over the image. Colour photo patches
# (benchmarks/label.py --photo-patches, seed 0, 40 epochs): q(y|x) 83.2 % in 201 s, against
# 70.2 % in 201 s (20 epochs) and 75.3 % in 722 s (56 epochs) with the flattened features;
# position-free with the shifted-image consistency term, 30 epochs: 81.1 % in 271 s (without,
# 82.0 % in 158 s).
# Grey images keep the flattened features: aligned faces lost 1.9 points position-free
# (5 seeds, 91.8 against 93.7 %), digits 0.5 (2 seeds).
COLOUR_LABELLER = dict(pooling="statistics")
# Grey sets of fewer than SMALL_GREY_SET images also get the shifted-image consistency term
# (q(y|x) agrees with itself on images shifted by up to 10 %; a third classifier pass, a step a
# third longer). With the pseudo-label term on, it still helps on small sets and not on large
# ones: digits (1,797 images, 36 labels, 5 seeds) 96.3 % with it, 95.4 % without (every seed
# lower); faces (200 images, 4 labels, 5 seeds) 93.7 % with it, 92.2 without; MNIST (70,000
# images, 100 labels, label seed 1, 20 epochs) 2.12 % error with it, 0.95 % without, seeds 0 and
# 2 without it 1.08 / 0.98 % (14 epochs) against 1.23 / 1.13 with it (20 epochs). Sizes between
# were not measured.
SMALL_GREY_SET = 10_000
SMALL_GREY_SET_LABELLER = dict(consistency=10.0)


def train_semi_supervised(x, y, *, epochs=30, batch_size=100, labelled_per_batch=32,
                          learning_rate=1e-3, precision="auto", seed=0, out=None, overwrite=False,
                          verbose="auto", callbacks=(), **model_kwargs):
    """Train a ``SemiSupervisedVAE`` on images ``x`` with integer labels ``y`` (-1: unlabelled).

    Args:
        x: np.ndarray. float32 images (N, H, W, C) in [0, 1], labelled and unlabelled.
        y: np.ndarray. Integer labels (N,), -1 for unlabelled.
        epochs: int. Passes over ``x``.
        batch_size: int. Images of the whole set per batch.
        labelled_per_batch: int. Labelled images added to every batch (see
            ``vae_apps.io.data.make_labelled_dataset``).
        learning_rate: float. Adam's start; it follows a cosine decay to 1 % over training.
        precision: str. ``"auto"`` (bfloat16 where the CPU is fast at it), ``"float32"``
            or ``"mixed"``.
        seed: int. Seeds the weights, the batches and the sampling.
        out: str or Path or None. The ``.keras`` file to write.
        overwrite: bool. Replace ``out``.
        verbose: int or str. Keras' progress output.
        callbacks: tuple of keras.callbacks.Callback. More callbacks.
        **model_kwargs: ``SemiSupervisedVAE`` arguments; ``n_classes`` defaults to
            ``max(y) + 1``, ``class_prior`` to the labels' shares, shrunk towards equal
            shares: (count + 10) / (labels + 10 * classes); for colour images, those of
            ``COLOUR_LABELLER`` to its values, for grey sets of fewer than
            ``SMALL_GREY_SET`` images, those of ``SMALL_GREY_SET_LABELLER``.

    Returns:
        ``TrainResult``; the model of the epoch with the lowest training loss
        (there is no validation set: the labels are too few to spare; with the
        decaying learning rate, normally the last), computing in float32, also
        written to ``out`` when given.

    Examples:
    >>> y = np.full(len(x), -1); y[rows] = labels
    >>> model = train_semi_supervised(x, y, epochs=30, out="labeller.keras").model
    """
    from vae_apps.io.data import make_labelled_dataset
    from vae_apps.models.semi_supervised import SemiSupervisedVAE

    y = np.asarray(y, int)
    if not (y >= 0).any():
        raise UserError("semi-supervised training needs at least one labelled image")
    keras.utils.set_random_seed(seed)
    model_kwargs.setdefault("n_classes", int(y.max()) + 1)
    defaults = (COLOUR_LABELLER if x.shape[-1] == 3
                else SMALL_GREY_SET_LABELLER if len(x) < SMALL_GREY_SET else {})
    for name, value in defaults.items():
        model_kwargs.setdefault(name, value)
    if "class_prior" not in model_kwargs:
        # The share of each class among the given labels, shrunk towards equal shares by
        # 10 imagined labels per class (the posterior mean under a Dirichlet(10) prior):
        # few labels say little about the shares. Digits' 36 stratified labels (3 or 4 per
        # class) -> 0.096 / 0.103; the raw shares, 0.083 / 0.111 (+1 smoothing: 0.087 /
        # 0.109), pushed the predictions off: seed 0, 93.5 % with equal shares, 91.1 % with +1.
        counts = np.bincount(y[y >= 0], minlength=model_kwargs["n_classes"])
        model_kwargs["class_prior"] = list((counts + 10) / (counts.sum() + 10 * len(counts)))
    model = SemiSupervisedVAE(image_shape=x.shape[1:], seed=seed, dtype=dtype_policy(precision),
                              **model_kwargs)
    steps = epochs * -(-len(x) // batch_size)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate_schedule(learning_rate, "cosine", steps)))
    dataset = make_labelled_dataset(x, y, batch_size, labelled_per_batch, seed)
    if out is not None:
        check_new_output(out, overwrite)
    result = fit_keeping_best(model, dataset, epochs=epochs, verbose=verbose, callbacks=callbacks)
    keep_float32(result)
    if out is not None:
        with atomic_path(out, overwrite) as tmp:
            result.model.save(tmp)
    return result


# The photo denoiser's recipe (vae-apps train --patch-size): measured on the bundled
# photos, see docs/denoising.md.
# New patch denoisers take a noise level (an FFDNet-style strength control, with
# an estimator for blind use) and end at full resolution (no period-2 pattern).
PATCH_MODEL_DEFAULTS = dict(noise_level_input=True, refine_filters=32)
# Without clean images there is no true noise level to train a level input with. A
# quarter of the photo model's width, four times its updates (NOISY_ONLY_STEPS_PER_EPOCH),
# in about its time: on cell with Poisson 30 (benchmarks/noisy_only_schemes.py, one run
# each) width 16 with 7,680 updates reached 38.70 dB in 15.4 minutes, width 32 with 5,760
# 38.21 in 16.4, with 3,840 38.43 (in denoise_noisy_only.py 38.05), width 16 with 3,840
# 38.21 in 7.7; width 64 with 1,920 (the default before those) 37.68.
NOISY_ONLY_MODEL_DEFAULTS = dict(noise_level_input=False, refine_filters=32, filters=16)
PATCH_DEFAULTS = dict(patch_size=64, patches_per_image=256, batch_size=32, epochs=30,
                      learning_rate=1e-3, validation_patches=512)
# The fewest updates an epoch has by default: a folder of one to three images gets more
# crops per image. A noisy-only model of one microscopy image (Poisson-Gaussian) reached
# 28.7 dB after 12 epochs of 4 updates and 37.9 dB after 12 epochs of 32 (NL-means: 39.6).
MIN_STEPS_PER_EPOCH = 32
# The updates an epoch of noisy-only training has by default, whatever the folder's size:
# its models learn from the noisy images' own pixel pairs, not from a clean set to be
# learnt whole, so a folder of one image needs as many as one of twenty. With the
# network of width 64, 256 crops of each of 20 photos made 160 updates an epoch, about 40
# minutes on 2 cores (0.5 s an update), and 64 made 1,920 in all: 16.0 minutes, 0.46 dB
# above NL-means (benchmarks/denoise_noisy_only.py --sets folder20, Poisson-Gaussian).
# Width 16 (NOISY_ONLY_MODEL_DEFAULTS) takes about a quarter of the time an update: 256
# an epoch, 7,680 in all: 13.7 minutes on folder20, 0.88 dB above NL-means (width 32 with
# 3,840: 11.7 minutes, +0.58).
NOISY_ONLY_STEPS_PER_EPOCH = 256


def default_patches_per_image(image_count, batch_size, noisy_only=False):
    """256 crops per image, or enough that an epoch has ``MIN_STEPS_PER_EPOCH`` updates;
    for noisy-only training enough for ``NOISY_ONLY_STEPS_PER_EPOCH`` updates.

    Examples:
    >>> default_patches_per_image(20, 32), default_patches_per_image(1, 32)
    (256, 1024)
    >>> default_patches_per_image(20, 32, noisy_only=True), default_patches_per_image(1, 32, noisy_only=True)
    (409, 8192)
    """
    if noisy_only:
        # At least one crop of every image an epoch, even beyond 8,192 images.
        return max(1, NOISY_ONLY_STEPS_PER_EPOCH * batch_size // image_count)
    return max(PATCH_DEFAULTS["patches_per_image"], -(-MIN_STEPS_PER_EPOCH * batch_size // image_count))


def train_patch_denoiser(images, noise, *, channels=None,
                         patch_size=PATCH_DEFAULTS["patch_size"],
                         patches_per_image=None, epochs=PATCH_DEFAULTS["epochs"], batch_size=PATCH_DEFAULTS["batch_size"],
                         learning_rate=PATCH_DEFAULTS["learning_rate"],
                         validation_patches=PATCH_DEFAULTS["validation_patches"], precision="auto", seed=0, out=None, overwrite=False, logdir=None,
                         resume_dir=None, verbose="auto", callbacks=(), model=None,
                         colour_augmentation=True, noisy_only=False, **model_kwargs):
    """Train a ``FullyConvVAE`` denoiser on random patches of images of any sizes.

    Args:
        images: list. Image files (streamed: read one at a time) or H x W x C arrays.
        noise: Noise or None. A ``vae_apps.denoising.noise.Noise`` (ranges such as
            ``gaussian:0.02-0.2`` make a blind denoiser); drawn afresh for every patch and
            epoch. None with ``noisy_only``.
        channels: int or None. 1 or 3 (default: 3 if any array is colour; files: 3).
        patch_size: int. Square patch side, a multiple of 4.
        patches_per_image: int or None. Random crops (turned and mirrored) per image per
            epoch; None: 256, or more where that makes fewer than ``MIN_STEPS_PER_EPOCH``
            updates an epoch (folders of one to three images).
        epochs: int. Epochs of ``patches_per_image`` crops of every image.
        batch_size: int. Patches per update.
        learning_rate: float. Adam's start; it follows a cosine decay to 1 % over training.
        validation_patches: int. Fixed noisy/clean crops of the training images (a fixed
            seed), scored after every epoch; the best epoch is kept.
        precision: str. ``"auto"`` (bfloat16 where the CPU is fast at it), ``"float32"``
            or ``"mixed"``. The saved model is float32 either way.
        seed: int. Seeds the weights, the crops, the noise and the sampling.
        out: str or Path or None. The ``.keras`` file to write.
        overwrite: bool. Replace ``out``.
        logdir: str or Path or None. TensorBoard logs.
        resume_dir: str or Path or None. ``BackupAndRestore`` folder (``--resume``).
        verbose: int or str. Keras' progress output.
        callbacks: tuple of keras.callbacks.Callback. More callbacks.
        model: FullyConvVAE or None. A model to continue training.
        colour_augmentation: bool. Vary the colours of colour patches
            (``vae_apps.io.data.augment_colours``).
        noisy_only: bool. ``images`` are the noisy images themselves, with no clean
            versions: train on pairs of neighbouring-pixel half images of 2 x ``patch_size``
            crops (``vae_apps.denoising.noisy_only``); the model is blind (no noise-level
            input) and colours are not augmented (that would change the noise).
        **model_kwargs: ``FullyConvVAE`` arguments (filters, latent_channels, beta ...);
            a new model takes a noise level and ends at full resolution
            (``PATCH_MODEL_DEFAULTS``) unless told otherwise.

    Returns:
        ``TrainResult``; the model written to ``out`` computes in float32.

    Examples:
    >>> result = train_patch_denoiser(["a.jpg", "b.png"], parse_noise("gaussian:0.02-0.2"),
    ...                               channels=1, epochs=5, out="photo.keras")
    """
    import tensorflow as tf

    from vae_apps.io.data import draw_patches, make_patch_dataset
    from vae_apps.models.fully_conv import FullyConvVAE
    from vae_apps.io.images import read_image, to_shape

    if patch_size % FullyConvVAE.stride:
        raise UserError(f"--patch-size must be a multiple of {FullyConvVAE.stride}, got {patch_size}")
    if not len(images):
        raise UserError("no images to train on")
    if channels is None:
        channels = max(getattr(i, "shape", (3,))[-1] for i in images)
    if noisy_only and noise is not None:
        raise UserError("noisy-only training adds no noise: its images are the noisy ones")
    if not noisy_only and noise is None:
        raise UserError("a denoiser trained on clean images needs a noise to add (--noise)")
    keras.utils.set_random_seed(seed)
    if model is None:
        defaults = NOISY_ONLY_MODEL_DEFAULTS if noisy_only else PATCH_MODEL_DEFAULTS
        model = FullyConvVAE(channels=channels, seed=seed, dtype=dtype_policy(precision),
                             **{**defaults, **model_kwargs})
    if model.noise_level_input and noisy_only:
        raise UserError("a noisy-only model is blind: it cannot take a noise level")
    if patches_per_image is None:
        patches_per_image = default_patches_per_image(len(images), batch_size, noisy_only)
    steps_per_epoch = len(images) * patches_per_image // batch_size
    if steps_per_epoch < 1:
        raise UserError(f"{len(images)} images x {patches_per_image} patches per image make less "
                        f"than one batch of {batch_size}: lower --batch-size or raise "
                        "--patches-per-image")
    steps = epochs * steps_per_epoch
    if not model.compiled:
        model.compile(optimizer=keras.optimizers.Adam(
            learning_rate_schedule(learning_rate, "cosine", steps)))
    crop = 2 * patch_size if noisy_only else patch_size  # noisy-only: two halves per crop
    train_ds = make_patch_dataset(images, crop, channels, patches_per_image, batch_size,
                                  noise, seed, colour_augmentation=colour_augmentation
                                  and not noisy_only)
    # Validation: fixed crops spread over the images, fixed noise.
    rng = np.random.default_rng([seed, 10**6])
    per_image = -(-validation_patches // len(images))
    clean = []
    for image in images:
        try:
            pixels = image if isinstance(image, np.ndarray) else read_image(image)[0]
        except Exception:  # skipped with a warning when the patches are drawn
            continue
        clean += list(draw_patches(to_shape(pixels, *pixels.shape[:2], channels), crop,
                                   per_image, rng))
    if not clean:
        raise UserError("none of the training images could be read")
    clean = np.stack(clean[:validation_patches])
    if noisy_only:
        from vae_apps.denoising.noisy_only import neighbour_pairs, neighbour_training_batch

        val_ds = tf.data.Dataset.from_tensor_slices(neighbour_pairs(clean, tf.constant([seed, 1])))
        seeds = tf.data.Dataset.random(seed=seed + 3, rerandomize_each_iteration=True).batch(2)
        train_ds = tf.data.Dataset.zip(train_ds, seeds).map(neighbour_training_batch)
    else:
        val_ds = tf.data.Dataset.from_tensor_slices((noise.apply(clean, seed=seed + 1), clean))
    if model.noise_level_input:
        train_ds, val_ds = (ds.map(with_true_noise_level) for ds in (train_ds, val_ds))
    # Endless, with the epoch's length given: the patch generator's length is unknown to
    # Keras, which otherwise ends the first epoch with "Your input ran out of data;
    # interrupting training". Each repetition is one epoch's patches, as before.
    result = fit_keeping_best(model, train_ds.repeat(), val_ds.batch(batch_size), epochs=epochs,
                              out=out, overwrite=overwrite, logdir=logdir, resume_dir=resume_dir,
                              verbose=verbose, callbacks=callbacks, steps_per_epoch=steps_per_epoch)
    # Batches of 64 whatever the training's: per call overhead made this 7 s of a 1-epoch
    # README training at --batch-size 8.
    choose_decode_draws(result.model, val_ds.batch(64))
    if result.model.noise_level_input:
        calibrate_noise_level(result.model, images, noise, seed=seed)
    if noisy_only:  # before the uncertainty: its calibration sees the unclipped output
        fit_clipped_noise(result.model, images, seed=seed)
    try:
        calibrate_uncertainty(result.model, images, noise, seed=seed)  # noise None: noisy-only
    except UserError as exc:  # e.g. a folder too dark to read its noise from: the model stays
        log.warning("the uncertainty maps keep the posterior draws' spread: %s", exc)
    if out is not None and result.model.dtype_policy.name == "float32":
        with atomic_path(out, overwrite=True) as tmp:  # the calibrations are in the config
            result.model.save(tmp)
    keep_float32(result, out)  # saves the (calibrated) model in float32 otherwise
    return result


def choose_decode_draws(model, pairs):
    """Set ``model.decode_draws`` to what denoises the validation ``pairs`` better: 0
    (the decoder at the posterior mean code) or 1 (one seeded posterior draw).

    A decoder trained on posterior draws can come to depend on their noise, which the
    mean code lacks: a grey model trained from scratch on 12 photos scored 23.5 dB at
    sigma 25 from the mean code and 28.5 dB from one draw, an impulse-noise model 24.3
    and 26.6 dB; the shipped presets the same within 0.06 dB either way. The mean of 16
    draws added at most 0.1 dB more for 16 times the decoding.

    Args:
        model: FullyConvVAE. The trained model.
        pairs: tf.data.Dataset. Batches of (input, target): clean targets, or for a
            noisy-only model the other half of each pair (its noise independent of the
            input's, so the order of the two squared errors is that against clean).

    Returns:
        The number of draws chosen, also set on the model.

    Examples:
    >>> choose_decode_draws(model, val_ds.batch(32))
    0
    """
    errors = {}
    for draws in (0, 1):
        model.decode_draws = draws
        total = count = 0
        for inputs, targets in pairs:
            out = model.denoise_padded(np.asarray(inputs))
            total += float(np.sum(np.square(out - np.asarray(targets))))
            count += out.size
        errors[draws] = total / max(count, 1)
    model.decode_draws = min(errors, key=errors.get)
    log.info("denoising from %s (validation mean squared error %.3g, other %.3g)",
             "one posterior draw" if model.decode_draws else "the posterior mean code",
             errors[model.decode_draws], errors[1 - model.decode_draws])
    return model.decode_draws


def with_true_noise_level(noisy, clean):
    """(noisy + its noise-level channel, clean): the level is each patch's true noise
    standard deviation, that of noisy - clean (0 for a clean patch), what
    ``FullyConvVAE(noise_level_input=True)`` is trained with.

    Examples:
    >>> pairs = pairs.map(with_true_noise_level)
    """
    import tensorflow as tf

    from vae_apps.models.fully_conv import NOISE_MAP_SCALE

    level = tf.math.reduce_std(noisy - clean, axis=(-3, -2, -1), keepdims=True)
    channel = tf.broadcast_to(level * NOISE_MAP_SCALE, tf.shape(noisy[..., :1]))
    return tf.concat([noisy, channel], axis=-1), clean


def calibrate_noise_level(model, images, noise, *, crop=256, crops_per_image=4, seed=0):
    """Fit the noise-level estimator's calibration on whole-image crops of the training
    images and set it on ``model`` (``noise_level_scale``, ``noise_level_offset``).

    The estimator is trained on 64 x 64 patches, its level is read as the median of its
    map over a whole image: the calibration maps that median to the true noise level
    (the standard deviation of noisy - clean) by least squares over ``crops_per_image``
    crops of every image, each with a draw of ``noise``. A clean photo's median of 1-2
    grey levels then reads as about 0, and the levels of noisy photos lose the median's
    bias (measured mid-training: 27 grey levels read where the truth was 24).

    Args:
        model: FullyConvVAE. A model with ``noise_level_input``.
        images: list. Image files or H x W x C arrays (the training images).
        noise: Noise. The training noise (``vae_apps.denoising.noise``).
        crop: int. Crop side (a multiple of 4); smaller images are used whole.
        crops_per_image: int. Crops per image.
        seed: int. Seeds the crops and the noise.

    Returns:
        (scale, offset), also set on ``model``.

    Examples:
    >>> scale, offset = calibrate_noise_level(model, photos, parse_noise("photo"))
    """
    medians, truths = [], []
    for index, k, clean in _calibration_crops(images, model.channels, crop, crops_per_image,
                                              np.random.default_rng([seed, 77]), model.stride):
        noisy = noise.apply(clean[None], seed=seed * 100_000 + index * 100 + k)
        medians.append(float(np.median(model.noise_level_map(noisy))))
        truths.append(float((noisy - clean[None]).std()))
    if len(medians) < 2:
        raise UserError("too few readable images to calibrate the noise level on")
    scale, offset = np.polyfit(np.array(medians), np.array(truths), 1)
    if not scale > 0:  # a degenerate fit: keep the estimator as trained
        scale, offset = 1.0, 0.0
    model.noise_level_scale, model.noise_level_offset = float(scale), float(offset)
    return model.noise_level_scale, model.noise_level_offset


# fit_clipped_noise reads the noise off crops of at most this many of the images (a
# seeded choice), of at most CLIPPED_NOISE_CROP pixels a side (half images of 512).
CLIPPED_NOISE_IMAGES = 16
CLIPPED_NOISE_CROP = 1024


def fit_clipped_noise(model, images, seed=0):
    """Read the law of the noise of a noisy-only model's training images off the images
    and the model's output on them (``fit_clipped_poisson_gaussian``) and set it on the
    model (``clipped_noise``): denoising then undoes the mean shift of the noise clipped
    at black and white. A folder too small or too uniform to read it from leaves the model
    as it is, with a warning.

    Args:
        model: FullyConvVAE. A model trained on the noisy ``images`` alone.
        images: list. Image files or H x W x C arrays (the noisy training images).
        seed: int. Seeds the choice of images and crops.

    Returns:
        ``ClippedPoissonGaussian`` or None.

    Examples:
    >>> law = fit_clipped_noise(model, noisy_files)
    >>> law.describe()  # doctest: +SKIP
    'Poisson-Gaussian noise, 33 photons at white, Gaussian part 5.3 grey levels'
    """
    from vae_apps.denoising.clipped_noise import fit_clipped_poisson_gaussian
    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.denoising.noisy_only import neighbour_triples

    rng = np.random.default_rng([seed, 79])
    chosen = sorted(rng.permutation(len(images))[:CLIPPED_NOISE_IMAGES])
    model.clipped_noise = None  # the model's own output: what the noisy values average
    denoised, seconds, thirds = [], [], []
    for index, _, pixels in _calibration_crops([images[i] for i in chosen], model.channels,
                                               CLIPPED_NOISE_CROP, 1, rng):
        first, second, third = neighbour_triples(pixels, seed=[seed, 79, index])
        if min(first.shape[:2]) >= 2:
            denoised.append(denoise_full_resolution(model, first))
            seconds.append(second)
            thirds.append(third)
    law = fit_clipped_poisson_gaussian(denoised, seconds, thirds)
    if law is None:
        # e.g. a telescope image, flat only in its dark sky: one brightness cannot tell the
        # Poisson part from the Gaussian one
        log.warning("too few flat areas at different brightness levels to read the noise's "
                    "law off the images: clipping at black and white is not undone")
        return None
    model.clipped_noise = (law.gain, law.variance)
    log.info("read off the noisy images: %s", law.describe())
    return law


# Crops the uncertainty weights are fitted on, at least (a folder of one image: 16 crops of
# it, not 2): on the one-image microscopy folder (noisy-only, Poisson 30 / Poisson-Gaussian)
# 2 crops covered 91.4 / 97.7 % of the errors, 16 crops 95.3 / 97.2 %
# (benchmarks/noisy_only_uncertainty.py).
MIN_CALIBRATION_CROPS = 16


def calibrate_uncertainty(denoiser, images, noise, *, model=None, crop=160, crops_per_image=None,
                          samples=8, seed=0, coverage=0.95):
    """Fit the weights of the predicted error variance (``predictive_std``) on crops of
    the training images and set them on the model (``uncertainty_weights``).

    The posterior draws' spread alone is far narrower than the error of the shipped
    presets (2 spreads covered 10-21 % of the errors on noisy held-out photos) and
    follows it weakly (correlation 0.1-0.3); with the local gradient and residual
    terms added, fitted here, 2 predicted standard deviations covered 90-97 % of the
    held-out errors (benchmarks/denoise_uncertainty.py, docs/denoising.md).
    The terms' weights come from non-negative least squares on the squared errors,
    then one factor scales them so that a share ``coverage`` of the training pixels'
    errors lies within 2 predicted standard deviations.

    Without clean images (``noise`` None: ``images`` are the noisy ones), each crop is
    split into three half images from different pixels of every 2 x 2 cell
    (``noisy_only.neighbour_triples``); the first is denoised, and the squared error of
    each of its pixels is estimated from the other two (``squared_error_estimate``): no
    noise model needed, and unbiased where the noise is independent from pixel to
    pixel, so the least squares fit holds; single errors are unknown: no coverage
    factor. On the noisy-only models of benchmarks/denoise_noisy_only.py, 2 predicted
    standard deviations then covered 95.3 / 97.2 % of the errors on ``cell`` (Poisson 30
    / Poisson-Gaussian) and 87.4 / 92.3 % on the colour photos, where Stein's unbiased
    risk estimate with a variance function read off the images gave 99.9 / 99.6 and
    57.0 / 50.6 % (``benchmarks/noisy_only_uncertainty.py``).

    Args:
        denoiser: FullyConvVAE or PhotoDenoiser. What ``denoise_with_samples`` runs.
        images: list. Image files or H x W x C arrays (the training images).
        noise: Noise or None. The training noise; None: the images are noisy already.
        model: FullyConvVAE or None. The model that gets the weights (default:
            ``denoiser`` itself; give it when ``denoiser`` is a ``PhotoDenoiser``).
        crop: int. Crop side; smaller images are used whole.
        crops_per_image: int or None. Crops per image; None: 2, more for folders of
            fewer than 8 images (``MIN_CALIBRATION_CROPS`` in all).
        samples: int. Posterior draws per crop.
        seed: int. Seeds the crops, the noise and the draws.
        coverage: float. The share of errors within 2 predicted standard deviations.

    Returns:
        The weights (three floats), also set on ``model``.

    Examples:
    >>> weights = calibrate_uncertainty(model, photos, parse_noise("photo"))
    >>> weights = calibrate_uncertainty(model, noisy_files, None)   # noisy-only
    """
    target = denoiser if model is None else model
    terms, errors = uncertainty_fit_data(denoiser, images, noise, target.channels, crop=crop,
                                         crops_per_image=crops_per_image, samples=samples,
                                         seed=seed)
    weights = fit_uncertainty_weights(terms, errors)
    if noise is not None:
        predicted = np.sqrt(terms @ weights) + 1e-12
        scale = np.quantile(np.sqrt(errors) / predicted, coverage) / 2.0
        weights = weights * scale ** 2
    target.uncertainty_weights = tuple(float(w) for w in weights)
    return target.uncertainty_weights


def fit_uncertainty_weights(terms, errors):
    """The non-negative least-squares weights of the three ``uncertainty_terms`` on the
    squared ``errors`` (``uncertainty_fit_data``), on at most ~200,000 of the pixels;
    no coverage factor.

    Examples:
    >>> weights = fit_uncertainty_weights(*uncertainty_fit_data(photo, files, noise, 3))
    """
    from scipy.optimize import nnls

    every = max(1, len(errors) // 200_000)
    return nnls(terms[::every], errors[::every])[0]


def uncertainty_fit_data(denoiser, images, noise, channels, *, crop=160, crops_per_image=None,
                         samples=8, seed=0):
    """What ``calibrate_uncertainty`` fits: per pixel of crops of ``images``, the three
    ``uncertainty_terms`` and the squared error of the denoised mean (against the clean
    crop; without clean images, ``noise`` None, ``squared_error_estimate`` of it on
    the first of three half images of crops twice as large).

    Args:
        denoiser: FullyConvVAE or PhotoDenoiser. What ``denoise_with_samples`` runs.
        images: list. Image files or H x W x C arrays.
        noise: Noise or None. Added to the crops; None: the images are noisy already.
        channels: int. The channels the crops are read with.
        crop, crops_per_image, samples, seed: as ``calibrate_uncertainty``.

    Returns:
        (terms, float64 (pixels, 3); squared errors (pixels,)).

    Examples:
    >>> terms, errors = uncertainty_fit_data(photo, files, parse_noise("photo"), 3)
    """
    from vae_apps.denoising.full_resolution import (clipped_law, denoise_with_samples,
                                                    uncertainty_terms)
    from vae_apps.loading import with_precision

    if crops_per_image is None:
        crops_per_image = max(2, -(-MIN_CALIBRATION_CROPS // max(1, len(images))))
    crops = [pixels for _, _, pixels in _calibration_crops(
        images, channels, crop if noise is not None else 2 * crop, crops_per_image,
        np.random.default_rng([seed, 78]))]
    if not crops:
        raise UserError("too few readable images to calibrate the uncertainty on")
    if noise is None:
        from vae_apps.denoising.noisy_only import neighbour_triples, squared_error_estimate

        # float32, the precision the neighbour estimate's coverage was measured in
        denoiser = with_precision(denoiser, "float32")
        law = clipped_law(denoiser)
    terms, errors = [], []
    for index, pixels in enumerate(crops):
        if noise is None:
            noisy, second, third = neighbour_triples(pixels, seed=[seed, index])
            if min(noisy.shape[:2]) < 2:
                continue
        else:
            noisy = noise.apply(pixels[None], seed=seed * 100_000 + index)[0]
            noisy = np.round(np.clip(noisy, 0, 1) * 255) / np.float32(255)  # as an 8-bit file
        result = denoise_with_samples(denoiser, noisy, samples=samples, seed=seed)
        terms.append(np.stack([t.ravel() for t in uncertainty_terms(
            noisy, result.output, result.posterior_std)], axis=1))
        if noise is None:
            # The other half images average the clipped mean; moved by the model's clipping
            # shift at its own output they average the clean value the output estimates.
            if law is not None:
                shift = result.mean - law.clipped_mean(result.mean)
                second, third = second + shift, third + shift
            errors.append(squared_error_estimate(result.mean, second, third).ravel())
        else:
            errors.append(np.square(result.mean - pixels).ravel())
    if not terms:
        raise UserError("the images are too small to calibrate the uncertainty on")
    return np.concatenate(terms).astype("float64"), np.concatenate(errors)


def _calibration_crops(images, channels, crop, crops_per_image, rng, multiple=1):
    """(image index, crop number, crop) for ``crops_per_image`` random crops of every
    readable image: side ``crop`` at most, else the image's side cut to a ``multiple``."""
    from vae_apps.io.images import read_image, to_shape

    for index, image in enumerate(images):
        try:
            pixels = image if isinstance(image, np.ndarray) else read_image(image)[0]
        except Exception:  # reported when the patches were drawn
            continue
        pixels = to_shape(pixels, *pixels.shape[:2], channels)
        height, width = pixels.shape[:2]
        side_h, side_w = min(crop, height - height % multiple), min(crop, width - width % multiple)
        for k in range(crops_per_image):
            top, left = rng.integers(0, height - side_h + 1), rng.integers(0, width - side_w + 1)
            yield index, k, pixels[top:top + side_h, left:left + side_w]


def keep_float32(result, out=None):
    """Make ``result.model`` (and the file ``out``) compute in float32: a portable model,
    whatever precision it was trained in; the user's machine chooses at load time.

    Args:
        result: TrainResult. Its ``model`` is replaced by a float32 copy (optimizer
            state kept, so training can go on).
        out: str or Path or None. The model's file, rewritten in float32.

    Examples:
    >>> keep_float32(result, "vae.keras")
    """
    from vae_apps.loading import with_precision

    if result.model.dtype_policy.name == "float32":
        return
    result.model = with_precision(result.model, "float32", keep_optimizer=True)
    if out is not None:
        with atomic_path(out, overwrite=True) as tmp:
            result.model.save(tmp)


def learning_rate_schedule(learning_rate, schedule, steps, warmup_steps=0):
    """Adam's learning rate: a float (``"constant"``) or a ``CosineDecay`` to 1 % over
    ``steps`` updates after a linear warm-up over ``warmup_steps`` (``"cosine"``).

    Args:
        learning_rate: float. The constant rate, or the cosine schedule's peak.
        schedule: str. One of ``SCHEDULES``.
        steps: int. All updates of the training.
        warmup_steps: int. Warm-up updates (at most ``steps // 6`` are used).

    Examples:
    >>> lr = learning_rate_schedule(3e-3, "cosine", steps=2532, warmup_steps=400)
    >>> keras.optimizers.Adam(lr)  # doctest: +SKIP
    """
    if schedule not in SCHEDULES:
        raise UserError(f"--schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    if schedule == "constant":
        return learning_rate
    # A warm-up longer than a sixth of training would leave too few updates at the peak
    # (small sets: 8x8 digits' 6 epochs at batch 128 are 84 updates).
    warmup_steps = min(int(warmup_steps), steps // 6)
    if not warmup_steps:
        return keras.optimizers.schedules.CosineDecay(learning_rate, max(steps, 1), alpha=0.01)
    return keras.optimizers.schedules.CosineDecay(
        learning_rate / 100, max(steps - warmup_steps, 1), alpha=0.01,
        warmup_target=learning_rate, warmup_steps=warmup_steps)


SCHEDULES = ("constant", "cosine")


def fixed_validation_set(x_val, batch_size, seed, noise=None, binarize=False):
    """Validation data corrupted once with a fixed seed, so epochs compare fairly.

    Args:
        x_val: np.ndarray. float32 images in [0, 1].
        batch_size: int. Images per batch.
        seed: int. The corruption's seed (``seed + 1``).
        noise: Noise or None. Yield (noisy, clean) pairs.
        binarize: bool. Binarise the images once.

    Examples:
    >>> val_ds = fixed_validation_set(x_val, 128, seed=0, noise=parse_noise("mask:0.3"))
    """
    x_val = np.asarray(x_val, "float32")
    if binarize:
        x_val = binarize_images(x_val, seed + 1)
    if noise is None:
        return make_dataset(x_val, batch_size, shuffle=False)
    import tensorflow as tf

    noisy = noise.apply(x_val, seed=seed + 1)
    return tf.data.Dataset.from_tensor_slices((noisy, x_val)).batch(batch_size).prefetch(2)


def split_validation(x, fraction, seed=0):
    """Split images into (train, validation) by a seeded permutation.

    Args:
        x: np.ndarray. Images.
        fraction: float. The validation share, in [0, 1) (0: no validation set).
        seed: int. Same seed, same split.

    Examples:
    >>> x_train, x_val = split_validation(x, 0.1, seed=0)
    """
    if not 0 <= fraction < 1:
        raise UserError(f"--validation-split must be in [0, 1), got {fraction}")
    n_val = int(round(len(x) * fraction))
    if n_val == 0:
        return x, None
    order = np.random.default_rng(seed).permutation(len(x))
    return x[order[n_val:]], x[order[:n_val]]
