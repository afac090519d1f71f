"""The fit every model goes through (``fit_keeping_best``), its schedule and validation
set, and ``train_vae``: a VAE fitted to an array of images."""

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from vae_apps.errors import UserError
from vae_apps.hardware import dtype_policy
from vae_apps.io.data import binarize_images
from vae_apps.io.files import atomic_path, check_new_output, ensure_folder
from vae_apps.loading import check_image_shape, load_vae
from vae_apps.models.vae import VAE
from vae_apps.training.callbacks import (BestCheckpoint, StopOnInterrupt, StopOnNaN,
                                         TrainingDiverged, TrainingProgress, progress_wanted)
from vae_apps.training.datasets import make_dataset
from vae_apps.training.schedule import learning_rate_schedule

log = logging.getLogger("vae_apps")


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
