"""Training the labellers: the semi-supervised VAE (the default) and the unsupervised
labelling VAE whose codes the latent-space methods label."""

from dataclasses import dataclass, field

import numpy as np

from vae_apps.errors import UserError


@dataclass(frozen=True)
class LabellerConfig:
    """Every default of the semi-supervised labeller (``vae-apps label``, ``vae-apps train
    DATA --labels``).

    Args:
        batch_size: int. Images of the whole set per batch.
        labelled_per_batch: int. Labelled images added to every batch.
        learning_rate: float. Adam's start; it follows a cosine decay to 1 %.
        precision: str. ``"auto"``: bfloat16 where the CPU is fast at it.
        presentations: int. Image presentations a training aims at: 105 epochs on
            digits' 1,797 images, 39 on 4,800 colour photo patches (4 minutes on 2
            cores). (At least 2,700 updates on small sets, by repeating the data, did not
            help: faces, seed 0, 59.7 -> 59.2 %.)
        min_epochs: int. The fewest epochs (large sets).
        max_epochs: int. The most epochs (small sets).
        max_presentations: int. The most presentations on large sets: 14 epochs on
            MNIST's 70,000 (docs/labelling.md, "Epochs").
        prior_pseudo_labels: int. The class prior is the given labels' shares, shrunk
            towards equal shares by this many imagined labels per class (the posterior
            mean under a Dirichlet prior): few labels say little about the shares.
            Digits' 36 stratified labels (3 or 4 per class) -> 0.096 / 0.103; the raw
            shares, 0.083 / 0.111 (+1 smoothing: 0.087 / 0.109), pushed the predictions
            off: seed 0, 93.5 % with equal shares, 91.1 % with +1.
        colour_model: dict. ``SemiSupervisedVAE`` arguments for colour images, taken as
            photos, whose class is in their colours and textures anywhere in the frame,
            not in where things are: the classifier sees each feature's mean and spread
            over the image. Colour photo patches (benchmarks/label.py --photo-patches,
            seed 0, 40 epochs): q(y|x) 83.2 % in 201 s, against 70.2 % in 201 s (20
            epochs) and 75.3 % in 722 s (56 epochs) with the flattened features;
            position-free with the shifted-image consistency term, 30 epochs: 81.1 % in
            271 s (without, 82.0 % in 158 s). Grey images keep the flattened features:
            aligned faces lost 1.9 points position-free (5 seeds, 91.8 against 93.7 %),
            digits 0.5 (2 seeds).
        small_grey_set: int. Grey sets of fewer images get ``small_grey_model``.
        small_grey_model: dict. The shifted-image consistency term (q(y|x) agrees with
            itself on images shifted by up to 10 %; a third classifier pass, a step a
            third longer). With the pseudo-label term on, it still helps on small sets
            and not on large ones: digits (1,797 images, 36 labels, 5 seeds) 96.3 % with
            it, 95.4 % without (every seed lower); faces (200 images, 4 labels, 5 seeds)
            93.7 % with it, 92.2 without; MNIST (70,000 images, 100 labels, label seed 1,
            20 epochs) 2.12 % error with it, 0.95 % without, seeds 0 and 2 without it
            1.08 / 0.98 % (14 epochs) against 1.23 / 1.13 with it (20 epochs). Sizes
            between were not measured.

    Examples:
    >>> LABELLER.epochs_for(1797), LABELLER.epochs_for(20000), LABELLER.epochs_for(70000)
    (105, 20, 14)
    """

    batch_size: int = 100
    labelled_per_batch: int = 32
    learning_rate: float = 1e-3
    precision: str = "auto"
    presentations: int = 190_000
    min_epochs: int = 20
    max_epochs: int = 150
    max_presentations: int = 1_000_000
    prior_pseudo_labels: int = 10
    colour_model: dict = field(default_factory=lambda: dict(pooling="statistics"))
    small_grey_set: int = 10_000
    small_grey_model: dict = field(default_factory=lambda: dict(consistency=10.0))

    def epochs_for(self, n_images):
        """About ``presentations`` image presentations, within ``min_epochs`` to
        ``max_epochs``, and at most ``max_presentations`` (at least one epoch)."""
        n_images = max(int(n_images), 1)
        epochs = int(np.clip(self.presentations // n_images, self.min_epochs, self.max_epochs))
        return max(1, min(epochs, self.max_presentations // n_images))

    def model_defaults(self, x):
        """The ``SemiSupervisedVAE`` arguments images like ``x`` get by default."""
        if x.shape[-1] == 3:
            return dict(self.colour_model)
        return dict(self.small_grey_model) if len(x) < self.small_grey_set else {}


LABELLER = LabellerConfig()


def train_semi_supervised(x, y, *, epochs=None, batch_size=None, labelled_per_batch=None,
                          learning_rate=None, precision=None, seed=0, out=None, overwrite=False,
                          verbose="auto", callbacks=(), config=LABELLER, **model_kwargs):
    """Train a ``SemiSupervisedVAE`` on images ``x`` with integer labels ``y`` (-1: unlabelled).

    Args:
        x: np.ndarray. float32 images (N, H, W, C) in [0, 1], labelled and unlabelled.
        y: np.ndarray. Integer labels (N,), -1 for unlabelled.
        epochs: int or None. Passes over ``x`` (default ``config.epochs_for(len(x))``).
        batch_size: int or None. Images of the whole set per batch.
        labelled_per_batch: int or None. Labelled images added to every batch (see
            ``vae_apps.training.datasets.make_labelled_dataset``).
        learning_rate: float or None. Adam's start; it follows a cosine decay to 1 %.
        precision: str or None. ``"auto"`` (bfloat16 where the CPU is fast at it),
            ``"float32"`` or ``"mixed"``.
        seed: int. Seeds the weights, the batches and the sampling.
        out: str or Path or None. The ``.keras`` file to write.
        overwrite: bool. Replace ``out``.
        verbose: int or str. Keras' progress output.
        callbacks: tuple of keras.callbacks.Callback. More callbacks.
        config: LabellerConfig. The defaults of every argument left as None.
        **model_kwargs: ``SemiSupervisedVAE`` arguments; ``n_classes`` defaults to
            ``max(y) + 1``, ``class_prior`` to the labels' shares shrunk towards equal
            shares (``config.prior_pseudo_labels``), the rest to
            ``config.model_defaults(x)``.

    Returns:
        ``TrainResult``; the model of the epoch with the lowest training loss
        (there is no validation set: the labels are too few to spare; with the
        decaying learning rate, normally the last), computing in float32, also
        written to ``out`` when given.

    Examples:
    >>> y = np.full(len(x), -1); y[rows] = labels
    >>> model = train_semi_supervised(x, y, epochs=30, out="labeller.keras").model
    """
    import keras

    from vae_apps.hardware import dtype_policy
    from vae_apps.io.files import atomic_path, check_new_output
    from vae_apps.models.semi_supervised import SemiSupervisedVAE
    from vae_apps.training.datasets import make_labelled_dataset
    from vae_apps.training.loop import fit_keeping_best, keep_float32
    from vae_apps.training.schedule import learning_rate_schedule

    y = np.asarray(y, int)
    if not (y >= 0).any():
        raise UserError("semi-supervised training needs at least one labelled image")
    epochs = epochs or config.epochs_for(len(x))
    batch_size = batch_size or config.batch_size
    labelled_per_batch = labelled_per_batch or config.labelled_per_batch
    learning_rate = learning_rate or config.learning_rate
    precision = precision or config.precision
    keras.utils.set_random_seed(seed)
    model_kwargs.setdefault("n_classes", int(y.max()) + 1)
    for name, value in config.model_defaults(x).items():
        model_kwargs.setdefault(name, value)
    if "class_prior" not in model_kwargs:
        counts = np.bincount(y[y >= 0], minlength=model_kwargs["n_classes"])
        shrink = config.prior_pseudo_labels
        model_kwargs["class_prior"] = list((counts + shrink) / (counts.sum() + shrink * len(counts)))
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


# Codes for label recovery must keep what tells classes apart. A Gaussian likelihood
# with a small sigma makes reconstruction errors expensive, so the encoder keeps ~45
# nats in 16 dimensions on digits (the Bernoulli default keeps 2-3): 92 % of labels
# recovered from 2 % instead of 72-88 % (benchmarks/label.py --digits).
LABELING_NETWORK = dict(likelihood="gaussian", gaussian_sigma=0.03, latent_dim=16,
                        hidden_units=(128,))


def train_labeling_vae(x, epochs=None, seed=0, verbose=0):
    """Train a VAE on all images ``x`` (no labels needed) for label recovery.

    Args:
        x: np.ndarray. float32 images (N, H, W, C) in [0, 1].
        epochs: int or None. Default about 200,000 image presentations, 10 to 100 epochs;
            small sets use batches of 32 so they still get enough updates.
        seed: int. Seeds the weights, the order and the sampling.
        verbose: int or str. Keras' progress output.

    Examples:
    >>> model = train_labeling_vae(images.x)
    >>> labeler = recover_labels(model.encode(images.x)[0], given)
    """
    import numpy as np

    from vae_apps.training.loop import train_vae

    if epochs is None:
        epochs = int(np.clip(200_000 // max(len(x), 1), 10, 100))
    batch_size = 32 if len(x) < 10_000 else 128
    return train_vae(x, epochs=epochs, batch_size=batch_size, seed=seed, verbose=verbose,
                     **LABELING_NETWORK).model


def train_labeller(x, given, *, epochs=None, seed=0, out=None, overwrite=False, verbose=0,
                   **kwargs):
    """Train a ``SemiSupervisedVAE`` on all images ``x`` and the ``GivenLabels``.

    Args:
        x: np.ndarray. float32 images (N, H, W, C) in [0, 1], labelled and unlabelled.
        given: GivenLabels. Rows of ``x`` and their label strings.
        epochs: int or None. Default ``LABELLER.epochs_for(len(x))``.
        seed: int. Seeds the weights, the batches and the sampling.
        out: str or Path or None. A ``.keras`` path to write the model to.
        overwrite: bool. Replace ``out``.
        verbose: int or str. Keras' progress output.
        **kwargs: more ``train_semi_supervised`` arguments.

    Returns:
        ``TrainResult``; the model keeps the label strings (``class_names``).

    Examples:
    >>> given = read_label_csv("labels.csv", images.names)
    >>> model = train_labeller(images.x, given, out="labeller.keras").model
    """
    import numpy as np

    class_names, encoded = np.unique(given.labels.astype(str), return_inverse=True)
    if len(class_names) < 2:
        raise UserError(f"the labels name only one class ({class_names[0]!r}); give at least two")
    y = np.full(len(x), -1)
    y[given.rows] = encoded
    return train_semi_supervised(x, y, epochs=epochs, seed=seed,
                                 out=out, overwrite=overwrite, verbose=verbose,
                                 n_classes=len(class_names), class_names=list(class_names),
                                 **kwargs)


def train_labeller_from_csv(images, given, out, **kwargs):
    """``vae-apps train DATA --labels CSV``: returns (summary line, ``TrainResult``).

    Args:
        images: ImageSet. All the images, labelled and unlabelled.
        given: GivenLabels. From ``read_label_csv``.
        out: str or Path. The ``.keras`` file to write.
        **kwargs: ``train_labeller`` arguments.

    Examples:
    >>> line, result = train_labeller_from_csv(images, given, "labeller.keras")
    """
    result = train_labeller(images.x, given, out=out, verbose="auto", **kwargs)
    history = result.history
    status = "interrupted; model so far" if result.interrupted else "model"
    text = (f"trained {result.epochs_run} epochs on {len(images)} images and {len(given.rows)} "
            f"labels ({len(result.model.class_names)} classes) in {result.seconds:.0f} s, "
            f"loss {history['loss'][-1]:.2f}; {status} written to {out}")
    return text, result
