"""``vae-apps train DATA``: the generative VAEs. Small images of one size (the shared
small-image recipe, with its GMM sampler), and colour images of any size cut to a working
size (``HierarchicalVAE``, streamed from their files)."""

from dataclasses import dataclass, field

import numpy as np


def train_from_dataset(data, out, *, seed=0, binarize=False, **kwargs):
    """Train a generative VAE on a loaded ``Dataset`` (what ``vae-apps train DATA`` runs).

    Validation comes from the train split; the test split, when the source has one, is
    only used for the final test-set negative ELBO.

    Args:
        data: Dataset. From ``vae_apps.io.data.load_data``.
        out: str or Path or None. The ``.keras`` file to write, and its GMM sampler
            beside it.
        seed: int. Seeds the split, the weights, the batches and the sampling.
        binarize: bool. Dynamic binarisation (Bernoulli pixels drawn every epoch).
        **kwargs: ``vae_apps.training.small_images.train_small_images`` arguments
            (``config``, ``validation_split``, ``epochs`` ...).

    Returns:
        ``(summary line, TrainResult)``.

    Examples:
    >>> line, result = train_from_dataset(load_data("digits"), "digits.keras", epochs=20)
    >>> print(line)  # doctest: +SKIP
    trained 20 epochs in 31 s, loss 27.01, val_loss 27.90, test -ELBO 27.64 nats; ...
    """
    from vae_apps.generation.likelihoods import elbo_terms
    from vae_apps.io.data import binarize_images
    from vae_apps.models.samplers import sampler_path
    from vae_apps.training.small_images import status_words, summary_start, train_small_images

    result = train_small_images(data, out, seed=seed, binarize=binarize, **kwargs)
    parts = summary_start(result)
    if data.test is not None and len(data.test):
        x_test = data.test.x
        if binarize:
            x_test = binarize_images(x_test, seed + 2)
        parts.append(f"test -ELBO {elbo_terms(result.model, x_test)['negative_elbo']:.2f} nats")
    text = ", ".join(parts) + f"; {status_words(result)} written to {out}"
    return text + f" (GMM sampler: {sampler_path(out)})", result


@dataclass(frozen=True)
class ColourImageConfig:
    """Every default of ``vae-apps train FOLDER --image-size N`` on colour images: a
    ``HierarchicalVAE`` with latents at three scales.

    Args:
        image_size: int. The side the images are cut and resized to (a multiple of 16).
        batch_size: int. Images per update.
        learning_rate: float. Adam's peak; a linear warm-up, then cosine decay to 1 %. 2e-3
            diverged (2,000 faces: the NLL rose from 73,000 to 282,000 nats in the second
            epoch, then the model stalled at 8.4 bits/dim); 5e-4 fell steadily (6.37 after 10
            epochs).
        warmup_steps: int. Updates of the learning rate's warm-up.
        presentations: int. Image presentations a training aims at 64 px: under 30 minutes
            on 2 cores with bfloat16 (1.5 minutes an epoch of 9,500 faces, 148 updates). At
            another side they are scaled by 64 / side, which keeps about the same time: in
            a training, which decodes and resizes the files as it goes, an update of 64
            images took 0.29 s at 32 px (CIFAR-10) against 0.61 s at 64 px (faces).
        min_epochs: int. The fewest epochs (large folders).
        max_epochs: int. The most epochs (small folders).
        validation_share: float. Images held out to keep the best epoch and report
            bits/dim, at most ``max_validation`` of them.
        max_validation: int. See ``validation_share``.
        kl_warmup_epochs: int. The KL weight rises to 1 over these first epochs.
        gradient_clipnorm: float. Adam's updates come from gradients of at most this global
            norm (VDVAE's remedy for the rare huge gradient of a deep hierarchy).
        sampler_images: int. Training images whose codes the GMM sampler is fitted to.
        sampler_dims: int. Principal components of the codes (every scale) it lives in.
            On 64 px faces (10 components, 9,500 faces; 200 samples) the sharpness ratio
            was 0.17 with 256, 0.23 with 512, 0.28 with 768 and 0.31 with 1,024, where the
            decoder's own reconstructions of held-out faces reach 0.39. With 1,024, the codes of
            5,000 faces did as well as those of 9,500 (0.31 both) in 15 s of fitting, not 24.
        model: dict. ``HierarchicalVAE`` arguments.

    Examples:
    >>> ColourImageConfig().epochs_for(10_000)
    18
    >>> ColourImageConfig().epochs_for(49_500, image_size=32)
    7
    """

    image_size: int = 64
    batch_size: int = 64
    learning_rate: float = 5e-4
    warmup_steps: int = 300
    presentations: int = 180_000
    min_epochs: int = 2
    max_epochs: int = 200
    validation_share: float = 0.05
    max_validation: int = 500
    kl_warmup_epochs: int = 2
    gradient_clipnorm: float = 200.0
    sampler_images: int = 5000
    sampler_dims: int = 1024
    model: dict = field(default_factory=lambda: dict(widths=(64, 96, 128, 128),
                                                     latent_channels=(16, 16, 8),
                                                     free_bits=0.05))

    def epochs_for(self, n_images, image_size=None):
        """About ``presentations`` presentations (scaled to ``image_size``, default
        ``self.image_size``), within ``min_epochs`` and ``max_epochs``."""
        side = image_size or self.image_size
        presentations = self.presentations * 64 / side
        return int(np.clip(presentations // max(int(n_images), 1), self.min_epochs,
                           self.max_epochs))


COLOUR_IMAGES = ColourImageConfig()


def train_colour_vae(folder, out, *, image_size=None, epochs=None, batch_size=None,
                     learning_rate=None, precision="auto", seed=0, overwrite=False,
                     resume_dir=None, logdir=None, verbose="auto", config=None,
                     **model_kwargs):
    """Train a ``HierarchicalVAE`` on a folder of colour images of any sizes (streamed).

    Args:
        folder: str or Path. Image files, searched recursively.
        out: str or Path. The ``.keras`` file to write (and its GMM sampler of top codes).
        image_size: int or None. The working side (default ``config.image_size``).
        epochs: int or None. Default ``config.epochs_for`` the training images.
        batch_size: int or None. Default ``config.batch_size``.
        learning_rate: float or None. Default ``config.learning_rate``.
        precision: str. ``"auto"``: bfloat16 where the CPU is fast at it.
        seed: int. Seeds the split, the weights, the order and the sampling.
        overwrite: bool. Replace ``out``.
        resume_dir: str or Path or None. ``--resume``: back up every epoch there.
        logdir: str or Path or None. TensorBoard logs.
        verbose: int or str. Progress output.
        config: ColourImageConfig or None. The defaults of every argument left as None
            (None: ``COLOUR_IMAGES``).
        **model_kwargs: ``HierarchicalVAE`` arguments over ``config.model``.

    Returns:
        ``(summary line, TrainResult)``.

    Examples:
    >>> line, result = train_colour_vae("faces/", "faces.keras", image_size=64)
    """
    import keras
    import tensorflow as tf

    from vae_apps.errors import UserError
    from vae_apps.hardware import dtype_policy
    from vae_apps.io.images import list_images
    from vae_apps.models.hierarchical import HierarchicalVAE
    from vae_apps.models.samplers import sampler_path
    from vae_apps.training.datasets import make_image_file_dataset, read_image_files
    from vae_apps.training.loop import fit_keeping_best, keep_float32
    from vae_apps.training.schedule import learning_rate_schedule

    config = config or COLOUR_IMAGES
    files, _ = list_images(folder)
    if len(files) < 2:
        raise UserError(f"{folder}: {len(files)} image files; a generative model needs many")
    size = int(image_size or config.image_size)
    factor = 2 ** len(model_kwargs.get("widths", config.model["widths"]))
    if size % factor or not 16 <= size <= 256:
        raise UserError(f"--image-size must be a multiple of {factor} from 32 to 256, got {size}")
    val_files, train_files = split_files(files, config, seed)
    batch_size = batch_size or config.batch_size
    epochs = epochs or config.epochs_for(len(train_files), size)
    steps_per_epoch = max(1, len(train_files) // batch_size)
    keras.utils.set_random_seed(seed)
    model = HierarchicalVAE((size, size, 3), seed=seed, dtype=dtype_policy(precision),
                            warmup_epochs=config.kl_warmup_epochs,
                            **{**config.model, **model_kwargs})
    model.compile(optimizer=keras.optimizers.Adam(learning_rate_schedule(
        learning_rate or config.learning_rate, "cosine", epochs * steps_per_epoch,
        config.warmup_steps), global_clipnorm=config.gradient_clipnorm))
    train_ds = make_image_file_dataset(train_files, size, batch_size, seed, repeat=True)
    # The held-out images in memory (at most max_validation): a dataset of known length.
    x_val = read_image_files(val_files, size)
    val_ds = tf.data.Dataset.from_tensor_slices(x_val).batch(batch_size)
    result = fit_keeping_best(model, train_ds, val_ds, epochs=epochs, out=out,
                              overwrite=overwrite, logdir=logdir, resume_dir=resume_dir,
                              verbose=verbose, steps_per_epoch=steps_per_epoch)
    keep_float32(result, out)
    # A mixture fitted to the codes of every scale of the training images, on their first
    # sampler_dims principal components (vae-apps generate --sampler gmm). On 64 px faces
    # drawing the finer scales from their priors left blotchy noise on every face, and the
    # top scale alone with the finer ones at their prior means blurred them; this keeps eyes,
    # hair strands and fringes (docs/measurements/generation.md).
    fit_colour_sampler(result.model, train_files, config, seed).save(sampler_path(out))
    # The negative ELBO itself (KL weight 1), whatever beta training weighted the KL by.
    history = result.history
    val_nats = (history["val_reconstruction_loss"][-1] + history["val_kl_loss"][-1]
                if "val_kl_loss" in history else float("nan"))
    status = "interrupted; best model so far" if result.interrupted else "best model"
    text = (f"trained {result.epochs_run} epochs on {len(train_files)} images ({size} x {size}) in "
            f"{result.seconds / 60:.1f} min; validation -ELBO {val_nats:.1f} nats, "
            f"{result.model.bits_per_dim(val_nats):.3f} bits/dim (last epoch); {status} written "
            f"to {out} (GMM sampler of the codes: {sampler_path(out)})")
    return text, result


def split_files(files, config=None, seed=0):
    """(validation files, training files) of ``train_colour_vae``: a seeded split."""
    config = config or COLOUR_IMAGES
    order = np.random.default_rng(seed).permutation(len(files))
    n_val = min(config.max_validation, max(1, int(len(files) * config.validation_share)))
    return [files[i] for i in order[:n_val]], [files[i] for i in order[n_val:]]


def fit_colour_sampler(model, train_files, config=None, seed=0):
    """The ``GMMSampler`` ``train_colour_vae`` writes beside a ``HierarchicalVAE``: a
    mixture over the codes of every scale of ``config.sampler_images`` training images, on
    their first ``config.sampler_dims`` principal components.

    Examples:
    >>> fit_colour_sampler(model, split_files(files)[1]).save(sampler_path("faces.keras"))
    """
    from vae_apps.models.samplers import GMMSampler
    from vae_apps.training.datasets import make_image_file_dataset

    config = config or COLOUR_IMAGES
    size = model.image_shape[0]
    codes = np.concatenate([model.encode(batch.numpy())[0] for batch in make_image_file_dataset(
        train_files[:config.sampler_images], size, 256, seed, shuffle=False)])  # images a batch at a time
    return GMMSampler.fit(codes, seed=seed, dims=config.sampler_dims)
