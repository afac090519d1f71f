"""``vae-apps train DATA``: the generative VAE of small images of one size (samples,
likelihoods), trained by the shared small-image recipe, with its GMM sampler."""


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
