"""Training the full-resolution denoisers: patches of photos of any sizes, from clean
images with added noise or from the noisy images alone."""

import logging
from dataclasses import field, dataclass
from pathlib import Path

import numpy as np

from vae_apps.errors import UserError

log = logging.getLogger("vae_apps")


@dataclass(frozen=True)
class PatchDenoiserConfig:
    """Every default of ``vae-apps train --patch-size``: a full-resolution denoiser trained
    on random crops of photos (measured on the bundled photos, docs/denoising.md).

    Args:
        patch_size: int. Square crop side, a multiple of 4.
        patches_per_image: int. Crops per image per epoch (more where that makes fewer than
            ``min_steps_per_epoch`` updates).
        batch_size: int. Crops per update.
        epochs: int. Epochs of training.
        learning_rate: float. Adam's start; it follows a cosine decay to 1 %.
        validation_patches: int. Fixed crops scored after every epoch; the best epoch is kept.
        noise: str. What a denoiser trained on clean images learns to remove unless told
            (blind Gaussian).
        min_steps_per_epoch: int. The fewest updates an epoch has: a folder of one to three
            images gets more crops per image. A noisy-only model of one microscopy image
            (Poisson-Gaussian) reached 28.7 dB after 12 epochs of 4 updates and 37.9 dB
            after 12 epochs of 32 (NL-means: 39.6).
        noisy_only_steps_per_epoch: int. The updates an epoch of noisy-only training has,
            whatever the folder's size: its models learn from the noisy images' own pixel
            pairs, not from a clean set to be learnt whole, so a folder of one image needs
            as many as one of twenty. With the network of width 64, 256 crops of each of 20
            photos made 160 updates an epoch, about 40 minutes on 2 cores (0.5 s an update),
            and 64 made 1,920 in all: 16.0 minutes, 0.46 dB above NL-means
            (benchmarks/denoise_noisy_only.py --sets folder20, Poisson-Gaussian). Width 16
            takes about a quarter of the time an update: 256 an epoch, 7,680 in all: 13.7
            minutes on folder20, 0.88 dB above NL-means (width 32 with 3,840: 11.7 minutes,
            +0.58).
        model: dict. ``FullyConvVAE`` arguments of a new model trained on clean images: it
            takes a noise level (an FFDNet-style strength control, with an estimator for
            blind use) and ends at full resolution (no period-2 pattern).
        noisy_only_model: dict. Those of a noisy-only model. Without clean images there is
            no true noise level to train a level input with. A quarter of the photo model's
            width, four times its updates, in about its time: on cell with Poisson 30
            (benchmarks/experiments/noisy_only_schemes.py, one run each) width 16 with 7,680
            updates reached 38.70 dB in 15.4 minutes, width 32 with 5,760 38.21 in 16.4,
            with 3,840 38.43 (in denoise_noisy_only.py 38.05), width 16 with 3,840 38.21 in
            7.7; width 64 with 1,920 (the default before those) 37.68.

    Examples:
    >>> PATCH_DENOISER.patches_for(20, 32), PATCH_DENOISER.patches_for(1, 32)
    (256, 1024)
    >>> PATCH_DENOISER.patches_for(20, 32, noisy_only=True), PATCH_DENOISER.patches_for(1, 32, noisy_only=True)
    (409, 8192)
    """

    patch_size: int = 64
    patches_per_image: int = 256
    batch_size: int = 32
    epochs: int = 30
    learning_rate: float = 1e-3
    validation_patches: int = 512
    noise: str = "gaussian:0-0.2"
    min_steps_per_epoch: int = 32
    noisy_only_steps_per_epoch: int = 256
    model: dict = field(default_factory=lambda: dict(noise_level_input=True, refine_filters=32))
    noisy_only_model: dict = field(default_factory=lambda: dict(
        noise_level_input=False, refine_filters=32, filters=16))

    def patches_for(self, image_count, batch_size, noisy_only=False):
        """Crops per image per epoch: ``patches_per_image``, or enough that an epoch has
        ``min_steps_per_epoch`` updates; for noisy-only training enough for
        ``noisy_only_steps_per_epoch`` updates."""
        if noisy_only:
            # At least one crop of every image an epoch, even beyond 8,192 images.
            return max(1, self.noisy_only_steps_per_epoch * batch_size // image_count)
        return max(self.patches_per_image, -(-self.min_steps_per_epoch * batch_size // image_count))


PATCH_DENOISER = PatchDenoiserConfig()


def train_patch_denoiser(images, noise, *, channels=None, patch_size=None, patches_per_image=None,
                         epochs=None, batch_size=None, learning_rate=None, validation_patches=None,
                         precision="auto", seed=0, out=None, overwrite=False, logdir=None,
                         resume_dir=None, verbose="auto", callbacks=(), model=None,
                         colour_augmentation=True, noisy_only=False, config=PATCH_DENOISER,
                         **model_kwargs):
    """Train a ``FullyConvVAE`` denoiser on random patches of images of any sizes.

    Args:
        images: list. Image files (streamed: read one at a time) or H x W x C arrays.
        noise: Noise or None. A ``vae_apps.denoising.noise.Noise`` (ranges such as
            ``gaussian:0.02-0.2`` make a blind denoiser); drawn afresh for every patch and
            epoch. None with ``noisy_only``.
        channels: int or None. 1 or 3 (default: 3 if any array is colour; files: 3).
        patch_size: int or None. Square patch side, a multiple of 4.
        patches_per_image: int or None. Random crops (turned and mirrored) per image per
            epoch; None: ``config.patches_for`` (256, or more where that makes fewer than
            ``min_steps_per_epoch`` updates an epoch: folders of one to three images).
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
            (``vae_apps.training.datasets.augment_colours``).
        noisy_only: bool. ``images`` are the noisy images themselves, with no clean
            versions: train on pairs of neighbouring-pixel half images of 2 x ``patch_size``
            crops (``vae_apps.denoising.noisy_only``); the model is blind (no noise-level
            input) and colours are not augmented (that would change the noise).
        **model_kwargs: ``FullyConvVAE`` arguments (filters, latent_channels, beta ...);
            a new model takes ``config.model`` (``config.noisy_only_model``) where not
            given.
        config: PatchDenoiserConfig. The defaults of every argument left as None.

    Returns:
        ``TrainResult``; the model written to ``out`` computes in float32.

    Examples:
    >>> result = train_patch_denoiser(["a.jpg", "b.png"], parse_noise("gaussian:0.02-0.2"),
    ...                               channels=1, epochs=5, out="photo.keras")
    """
    import keras
    import tensorflow as tf

    from vae_apps.denoising.calibration import (calibrate_noise_level, calibrate_uncertainty,
                                                choose_decode_draws, fit_clipped_noise)
    from vae_apps.hardware import dtype_policy
    from vae_apps.io.files import atomic_path
    from vae_apps.io.images import read_image, to_shape
    from vae_apps.models.fully_conv import FullyConvVAE
    from vae_apps.training.datasets import draw_patches, make_patch_dataset
    from vae_apps.training.loop import fit_keeping_best, keep_float32
    from vae_apps.training.schedule import learning_rate_schedule

    patch_size = patch_size or config.patch_size
    epochs = epochs or config.epochs
    batch_size = batch_size or config.batch_size
    learning_rate = learning_rate or config.learning_rate
    validation_patches = validation_patches or config.validation_patches
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
        defaults = config.noisy_only_model if noisy_only else config.model
        model = FullyConvVAE(channels=channels, seed=seed, dtype=dtype_policy(precision),
                             **{**defaults, **model_kwargs})
    if model.noise_level_input and noisy_only:
        raise UserError("a noisy-only model is blind: it cannot take a noise level")
    if patches_per_image is None:
        patches_per_image = config.patches_for(len(images), batch_size, noisy_only)
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


def patch_training_images(spec, channels=None):
    """Images to draw training patches from: a folder's files (streamed, any sizes),
    the bundled photos (``bundled-photos``), or the images of any other data spec;
    several joined by ``+`` (``bundled-photos+photos/train``) are used together.

    Args:
        spec: str. An image folder, ``bundled-photos`` or any ``load_data`` spec.
        channels: int or None. 1 or 3 for a data spec (folders keep their files).

    Examples:
    >>> images = patch_training_images("my_photos/")  # file paths, read while training
    """
    from vae_apps.io.photos import BUNDLED_PHOTOS_SPEC, training_photos

    if "+" in str(spec) and not Path(spec).exists():  # several sources, in order
        return [image for part in str(spec).split("+")
                for image in patch_training_images(part, channels)]
    if spec == BUNDLED_PHOTOS_SPEC:
        return training_photos()
    if Path(spec).is_dir():
        from vae_apps.io.images import list_images

        files, _ = list_images(spec)
        if not files:
            raise UserError(f"{spec}: no image files found (formats: png, jpg, bmp, gif, webp, tiff)")
        return files
    from vae_apps.io.data import load_data

    data = load_data(spec, channels=channels)
    return list(data.train.x)


def folder_channels(files, sample=50):
    """1 if every one of the first ``sample`` files is grey (read from headers only), else 3.

    Args:
        files: list of Path. Image files.
        sample: int. How many of them to look at.

    Examples:
    >>> folder_channels(list_images("scans/")[0])
    1
    """
    from PIL import Image

    from vae_apps.io.images import GREY_MODES

    for path in files[:sample]:
        try:
            with Image.open(path) as img:
                if img.mode not in GREY_MODES:
                    return 3
        except Exception:  # unreadable files are reported when training reads them
            continue
    return 1


def starting_model(init, channels, precision="auto"):
    """The fully convolutional model ``vae-apps train --init`` trains further: a
    ``.keras`` file or a preset's name (``photo-rgb``), checked against ``channels``.

    Examples:
    >>> model = starting_model("photo-rgb", 3)
    """
    from vae_apps.denoising.presets import PRESETS, preset_path
    from vae_apps.loading import load_vae
    from vae_apps.models.fully_conv import FullyConvVAE

    path = preset_path(init) if init in PRESETS else init
    model = load_vae(path, compile=False, precision=precision)
    if not isinstance(model, FullyConvVAE):
        raise UserError(f"--init {init}: holds a {type(model).__name__}; --patch-size trains "
                        "a fully convolutional denoiser (a preset or a file vae-apps train "
                        "--patch-size wrote)")
    if channels is not None and channels != model.channels:
        raise UserError(f"--init {init}: a {model.channels}-channel model, but the training "
                        f"asks for {channels} channels")
    return model


def train_photo_denoiser(spec, out, *, noise=None, channels=None, noisy_only=False, init=None,
                         **kwargs):
    """Train a full-resolution (fully convolutional) denoiser on patches of ``spec``.

    Args:
        spec: str. An image folder (streamed), ``bundled-photos``, or any data spec.
        out: str or Path. The ``.keras`` file to write.
        noise: str or None. The noise spec trained against (default: blind Gaussian,
            sigma 0-0.2, ``PatchDenoiserConfig.noise``).
        channels: int or None. 1 or 3 (default: from the data).
        noisy_only: bool. ``spec``'s images are noisy, with no clean versions: learn from
            them alone (no ``noise`` is added).
        init: str or Path or None. A fully convolutional ``.keras`` model (or a preset's
            name) to start from: its architecture and weights, trained further.
        **kwargs: ``train_patch_denoiser`` arguments.

    Returns:
        (summary line, ``TrainResult``).

    Examples:
    >>> text, result = train_photo_denoiser("MY_CLEAN_PHOTOS/", "mine.keras",
    ...                                     noise="salt_pepper:0.05-0.3", epochs=30)
    """
    from vae_apps.denoising.noise import parse_noise

    if noisy_only and noise is not None:
        raise UserError("--noisy-only adds no noise to the images: leave out --noise")
    images = patch_training_images(spec, channels)
    if channels is None and not all(hasattr(i, "shape") for i in images):
        channels = folder_channels(images)
    noise = None if noisy_only else parse_noise(noise or PATCH_DENOISER.noise)
    if init is not None:
        kwargs["model"] = starting_model(init, channels, kwargs.get("precision", "auto"))
        channels = kwargs["model"].channels
    result = train_patch_denoiser(images, noise, channels=channels, out=out,
                                  noisy_only=noisy_only, **kwargs)
    history = result.history
    text = (f"trained {result.epochs_run} epochs on patches of {len(images)} images in "
            f"{result.seconds:.0f} s, loss {history['loss'][-1]:.1f}")
    if "val_loss" in history:
        text += f", val_loss {min(history['val_loss']):.1f} (best)"
    status = "interrupted; best model so far" if result.interrupted else "best model"
    text += f"; {status} written to {out}"
    from vae_apps.denoising.full_resolution import clipped_law

    law = clipped_law(result.model)
    if law is not None:
        text += (f"\nread off the noisy images: {law.describe()} "
                 "(denoising undoes its clipping at black and white)")
    return text, result


def train_small_denoiser(data, out, noise, *, seed=0, **kwargs):
    """Train a small-image denoiser (``vae-apps train DATA --noise SPEC``): the shared
    small-image VAE on (noisy, clean) pairs, its KL weight ``denoiser_beta``.

    Args:
        data: Dataset. From ``vae_apps.io.data.load_data``: images of one size.
        out: str or Path or None. The ``.keras`` file to write.
        noise: str or Noise. The noise it learns to remove (``gaussian:0.3``).
        seed: int. Seeds the split, the weights, the batches and the noise.
        **kwargs: ``vae_apps.training.small_images.train_small_images`` arguments.

    Returns:
        ``(summary line, TrainResult)``; the line ends with the test split's PSNR when
        the source has one.

    Examples:
    >>> line, result = train_small_denoiser(load_data("mnist"), "small.keras", "gaussian:0.3")
    """
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.denoising.quality import image_quality
    from vae_apps.training.small_images import status_words, summary_start, train_small_images

    noise = parse_noise(noise) if isinstance(noise, str) else noise
    result = train_small_images(data, out, noise=noise, seed=seed, **kwargs)
    parts = summary_start(result)
    if data.test is not None and len(data.test):
        x_test = data.test.x
        noisy = noise.apply(x_test, seed=seed + 2)
        quality = image_quality(x_test, result.model.reconstruct(noisy))
        parts.append(f"test PSNR {quality['psnr']:.2f} dB")
    return ", ".join(parts) + f"; {status_words(result)} written to {out}", result
