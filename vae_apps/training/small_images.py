"""The small-image recipe (``vae-apps train DATA``): one VAE on images of one size, with or
without added noise, and its defaults in ``SmallImageConfig``.

The generation wing trains its generative VAE through it and the denoising wing its
small-image denoiser; each writes its own summary.
"""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class SmallImageConfig:
    """Every default of ``vae-apps train DATA`` (images of one size, no ``--patch-size``).

    Chosen by ``benchmarks/experiments/time_to_quality.py`` (grey MNIST, seconds of training to a test
    -ELBO of 100 nats, 2-core AMX CPU): bfloat16 where the CPU is fast at it (float32 ->
    112 s from ~180 s), then Adam 3e-3 with a 400-step warm-up and cosine decay over 6
    epochs: 55 s, and 96.7 nats after its 96 s. Lost: batch 256 at 2e-3 or 4e-3 (stuck
    above 100 nats), batch 64 (68 s; the best model, 95.8 nats, but in 147 s), 4 epochs
    (52 s but 98.5 at the end).

    Smaller sets need more passes: 6 epochs of 128 are ~2,500 updates on MNIST's 54,000
    training images but 66 on digits' 1,298 (test -ELBO 27.08 nats, against 24.17 after 50
    epochs of 32: 2,050 updates, 33 s; these defaults, 61 epochs: 24.45) and 216 on 4,500
    MNIST images (180.06 nats, against 103.13 after 63 epochs of 128 and 105.38 after 16
    of 32, ~2,260 updates each). So training makes at least ``min_updates`` updates (at
    most ``max_epochs`` epochs), on batches of ``small_batch_size`` below ``small_data``
    images.

    Args:
        epochs: int. Epochs on large sets (at least; see ``min_updates``).
        batch_size: int. Images per update on sets of ``small_data`` images or more.
        learning_rate: float. Adam's peak rate.
        schedule: str. ``"cosine"`` (warm-up, then decay to 1 %) or ``"constant"``.
        warmup_steps: int. Updates of the warm-up.
        precision: str. ``"auto"``: bfloat16 where the CPU is fast at it.
        early_stopping: int or None. Epochs without a better validation loss before
            stopping (None: train them all).
        validation_split: float. The share of the training images held out.
        min_updates: int. The fewest updates a training makes.
        max_epochs: int. The most epochs ``min_updates`` may ask for.
        small_data: int. Below this many images, batches are ``small_batch_size``.
        small_batch_size: int. The batch of small sets.
        denoiser_beta: float. The KL weight of a small-image denoiser (``--noise``):
            sharper denoising than 1 (docs/denoising.md, "Small images": 18.70 dB at
            sigma 0.5 on MNIST).

    Examples:
    >>> SmallImageConfig().for_images(1298)["epochs"], SmallImageConfig().for_images(54000)["epochs"]
    (61, 6)
    """

    epochs: int = 6
    batch_size: int = 128
    learning_rate: float = 3e-3
    schedule: str = "cosine"
    warmup_steps: int = 400
    precision: str = "auto"
    early_stopping: "int | None" = None
    validation_split: float = 0.1
    min_updates: int = 2500
    max_epochs: int = 100
    small_data: int = 5000
    small_batch_size: int = 32
    denoiser_beta: float = 0.1

    def for_images(self, n_images, batch_size=None):
        """``train_vae`` settings for ``n_images`` training images: the batch (the user's
        ``batch_size``, else by size) and enough epochs for ``min_updates`` updates.

        Args:
            n_images: int. Training images (after the validation split).
            batch_size: int or None. A batch size chosen by the user.
        """
        if batch_size is None:
            batch_size = self.small_batch_size if n_images < self.small_data else self.batch_size
        updates_per_epoch = max(1, -(-n_images // batch_size))
        epochs = min(max(self.epochs, -(-self.min_updates // updates_per_epoch)), self.max_epochs)
        return dict(epochs=epochs, batch_size=batch_size, learning_rate=self.learning_rate,
                    schedule=self.schedule, warmup_steps=self.warmup_steps,
                    precision=self.precision, early_stopping=self.early_stopping)

    def as_dict(self):
        """Every default, by name."""
        return asdict(self)


def train_small_images(data, out, *, config=SmallImageConfig(), validation_split=None,
                       noise=None, seed=0, beta=None, **kwargs):
    """Train a ``VAE`` on a loaded ``Dataset`` of images of one size.

    Validation comes from the train split; the test split, when the source has one, is
    left for the caller's final score.

    Args:
        data: Dataset. From ``vae_apps.io.data.load_data``.
        out: str or Path or None. The ``.keras`` file to write (and, without ``noise``,
            its GMM sampler).
        config: SmallImageConfig. The defaults of whatever ``kwargs`` leaves out.
        validation_split: float or None. The share of the train split held out.
        noise: Noise or None. Train a denoiser against this noise.
        seed: int. Seeds the split, the weights, the batches and the noise.
        beta: float or None. KL weight (default: ``config.denoiser_beta`` with ``noise``,
            else 1).
        **kwargs: ``train_vae`` arguments; ``config.for_images`` where not given.

    Returns:
        ``TrainResult``.

    Examples:
    >>> result = train_small_images(load_data("digits"), "digits.keras", epochs=20)
    """
    from vae_apps.training.loop import split_validation, train_vae

    if validation_split is None:
        validation_split = config.validation_split
    x_train, x_val = split_validation(data.train.x, validation_split, seed)
    if beta is None:
        beta = config.denoiser_beta if noise is not None else 1.0
    kwargs = {**config.for_images(len(x_train), kwargs.get("batch_size")), **kwargs}
    return train_vae(x_train, x_val, out=out, noise=noise, seed=seed, beta=beta, **kwargs)


def summary_start(result):
    """The summary's first parts: epochs, time, the last losses."""
    history = result.history
    parts = [f"trained {result.epochs_run} epochs in {result.seconds:.0f} s",
             f"loss {history['loss'][-1]:.2f}"]
    if "val_loss" in history:
        parts.append(f"val_loss {history['val_loss'][-1]:.2f}")
    return parts


def status_words(result):
    """How the run ended, for a summary line."""
    return "interrupted; best model so far" if result.interrupted else "best model"
