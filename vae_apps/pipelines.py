"""Recipes: small callables that turn a data spec and a few choices into a trained model.

The CLI parses its arguments and calls these; the defaults live here.
"""

from dataclasses import dataclass
from pathlib import Path

from vae_apps.errors import UserError


# The small-image denoiser's KL weight: sharper denoising than beta = 1 (docs/denoising.md,
# "Small images": 18.70 dB at sigma 0.5 on MNIST).
DENOISER_BETA = 0.1


# `vae-apps train`'s defaults for small images, chosen by benchmarks/time_to_quality.py
# (grey MNIST, seconds of training to a test -ELBO of 100 nats, 2-core AMX CPU): bfloat16
# where the CPU is fast at it (float32 -> 112 s from ~180 s), then Adam 3e-3 with a
# 400-step warm-up and cosine decay over 6 epochs: 55 s, and 96.7 nats after its 96 s.
# Lost: batch 256 at 2e-3 or 4e-3 (stuck above 100 nats), batch 64 (68 s; the best model,
# 95.8 nats, but in 147 s), 4 epochs (52 s but 98.5 at the end).
TRAINING_DEFAULTS = dict(epochs=6, batch_size=128, learning_rate=3e-3, schedule="cosine",
                         warmup_steps=400, precision="auto", early_stopping=None)

# Smaller sets need more passes: 6 epochs of 128 are ~2,500 updates on MNIST's 54,000
# training images but 66 on digits' 1,298 (test -ELBO 27.08 nats, against 24.17 after 50
# epochs of 32: 2,050 updates, 33 s; these defaults, 61 epochs: 24.45) and 216 on 4,500
# MNIST images (180.06 nats, against 103.13 after 63 epochs of 128 and 105.38 after 16 of
# 32, ~2,260 updates each). So training makes at least MIN_UPDATES updates (at most
# MAX_EPOCHS epochs), on batches of 32 below SMALL_DATA images.
MIN_UPDATES = 2500
MAX_EPOCHS = 100
SMALL_DATA = 5000


def training_defaults(n_images, batch_size=None):
    """``TRAINING_DEFAULTS`` for ``n_images`` training images: batches of 32 below
    ``SMALL_DATA`` images, and enough epochs for ``MIN_UPDATES`` updates.

    Args:
        n_images: int. Training images (after the validation split).
        batch_size: int or None. A batch size chosen by the user.

    Examples:
    >>> training_defaults(1298)["epochs"], training_defaults(54000)["epochs"]
    (61, 6)
    """
    if batch_size is None:
        batch_size = 32 if n_images < SMALL_DATA else TRAINING_DEFAULTS["batch_size"]
    updates_per_epoch = max(1, -(-n_images // batch_size))
    epochs = min(max(TRAINING_DEFAULTS["epochs"], -(-MIN_UPDATES // updates_per_epoch)), MAX_EPOCHS)
    return {**TRAINING_DEFAULTS, "batch_size": batch_size, "epochs": epochs}


def train_from_dataset(data, out, *, validation_split=0.1, noise=None, seed=0, beta=None,
                       **kwargs):
    """Train on a loaded ``Dataset`` (what ``vae-apps train`` runs).

    Validation comes from the train split; the test split, when the source has
    one, is only used for the final test-set negative ELBO (or PSNR for denoisers).

    Args:
        data: Dataset. From ``vae_apps.io.data.load_data``.
        out: str or Path or None. The ``.keras`` file to write (and its GMM sampler).
        validation_split: float. The share of the train split held out.
        noise: str or Noise or None. Train a denoiser against this noise.
        seed: int. Seeds the split, the weights, the batches and the noise.
        beta: float or None. KL weight (default: ``DENOISER_BETA`` with ``noise``, else 1).
        **kwargs: ``train_vae`` arguments; ``training_defaults`` where not given.

    Returns:
        ``(summary line, TrainResult)``.

    Examples:
    >>> line, result = train_from_dataset(load_data("digits"), "digits.keras", epochs=20)
    >>> print(line)  # doctest: +SKIP
    trained 20 epochs in 31 s, loss 27.01, val_loss 27.90, test -ELBO 27.64 nats; ...
    """
    from vae_apps.io.data import binarize_images
    from vae_apps.denoising.quality import image_quality
    from vae_apps.generation.likelihoods import elbo_terms
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.training import split_validation, train_vae

    noise = parse_noise(noise) if isinstance(noise, str) else noise
    x_train, x_val = split_validation(data.train.x, validation_split, seed)
    if beta is None:
        beta = DENOISER_BETA if noise is not None else 1.0
    kwargs = {**training_defaults(len(x_train), kwargs.get("batch_size")), **kwargs}
    result = train_vae(x_train, x_val, out=out, noise=noise, seed=seed, beta=beta, **kwargs)
    history = result.history
    parts = [f"trained {result.epochs_run} epochs in {result.seconds:.0f} s",
             f"loss {history['loss'][-1]:.2f}"]
    if "val_loss" in history:
        parts.append(f"val_loss {history['val_loss'][-1]:.2f}")
    if data.test is not None and len(data.test):
        x_test = data.test.x
        if noise is not None:
            noisy = noise.apply(x_test, seed=seed + 2)
            quality = image_quality(x_test, result.model.reconstruct(noisy))
            parts.append(f"test PSNR {quality['psnr']:.2f} dB")
        else:
            if kwargs.get("binarize"):
                x_test = binarize_images(x_test, seed + 2)
            parts.append(f"test -ELBO {elbo_terms(result.model, x_test)['negative_elbo']:.2f} nats")
    status = "interrupted; best model so far" if result.interrupted else "best model"
    text = ", ".join(parts) + f"; {status} written to {out}"
    if noise is None:
        from vae_apps.models.samplers import sampler_path

        text += f" (GMM sampler: {sampler_path(out)})"
    return text, result


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

    from vae_apps.training import train_vae

    if epochs is None:
        epochs = int(np.clip(200_000 // max(len(x), 1), 10, 100))
    batch_size = 32 if len(x) < 10_000 else 128
    return train_vae(x, epochs=epochs, batch_size=batch_size, seed=seed, verbose=verbose,
                     **LABELING_NETWORK).model


# Label recovery's default: the semi-supervised VAE (vae_apps.models.semi_supervised), its q(y|x)
# smoothed over the images' neighbours where it is unsure (below). Digits, 36 labels, 5
# seeds: 95.1 % against 92.2 % for PCA + spreading and 91.8 % for spreading on VAE codes;
# 200 faces, 4 labels: 92.1 % against 85.3 % for centroids on VAE codes and 79.2 % for pixel
# 1-NN; MNIST test error, 100 labels (3 seeds): 2.71 % against 8.89 % for spreading on VAE
# codes; 600 / 1000 / 3000 labels (3 seeds): 1.69 / 1.60 / 1.12 % against 4.14 / 3.84 / 3.17 %.
# docs/labelling.md, benchmarks/label.py.
SEMI_SUPERVISED = "semi-supervised"

# The semi-supervised path's labels: where q(y|x) is unsure (its top probability below
# TRUSTED_CONFIDENCE), q(y|x) spread over a 10-nearest-neighbour graph of the images (their
# first 50 principal components), the neighbours weighing 0.9, decides; elsewhere q(y|x)'s
# own label stays. A classifier trained on few labels makes isolated mistakes among images
# that look alike, but where it is confident it is right 97-99 % of the time, more often
# than the pixel graph (PCA + spreading alone: 4.67 % MNIST error at 600 labels). Error %
# on the saved q(y|x) of 14 trained models, q alone / smoothed everywhere / smoothed below
# 0.9 only: MNIST 100 labels (3 seeds) 3.47 / 3.06 / 2.69; MNIST 600 (seed 0) 1.61 / 2.33
# / 1.54 (smoothing everywhere hurt); digits 36 labels (5 seeds) 6.44 / 4.49 / 4.88; faces
# 4 labels (5 seeds) 10.61 / 9.18 / 7.86. Threshold 0.95: 2.68 / 1.60 / 4.71 / 7.86; 0.8:
# 2.88 / 1.46 / 5.14 / 7.55; weight 0.99 below 0.9: 2.56 / 1.56 / 5.30 / 7.55; weight 0.7
# everywhere: 2.91 / 1.68 / 5.03 / 9.18. The graph on the model's latent codes: MNIST 100
# 7.05 (seed 0), digits 23.7. benchmarks/label.py prints the default and q(y|x) alone.
NEIGHBOUR_SMOOTHING = 0.9
TRUSTED_CONFIDENCE = 0.9
GRAPH_COMPONENTS = 50
LABEL_METHODS = (SEMI_SUPERVISED, "spread", "knn", "centroids", "gmm")  # the latter: labeling.METHODS


def labeller_epochs(n_images):
    """About 190,000 image presentations: 105 epochs on digits' 1,797 images, 39 on 4,800
    colour photo patches (4 minutes on 2 cores), 150 (the most) on smaller sets; at least
    20 epochs, and at most 1,000,000 presentations on large sets: 14 epochs on MNIST's
    70,000 (docs/labelling.md, "Epochs"). (At least 2,700 updates
    on small sets, by repeating the data, did not help: faces, seed 0, 59.7 -> 59.2 %.)

    Args:
        n_images: int. Images trained on (labelled and unlabelled).

    Examples:
    >>> labeller_epochs(1797), labeller_epochs(20000), labeller_epochs(70000)
    (105, 20, 14)
    """
    import numpy as np

    n_images = max(int(n_images), 1)
    epochs = int(np.clip(190_000 // n_images, 20, 150))
    return max(1, min(epochs, 1_000_000 // n_images))


def train_labeller(x, given, *, epochs=None, seed=0, out=None, overwrite=False, verbose=0,
                   **kwargs):
    """Train a ``SemiSupervisedVAE`` on all images ``x`` and the ``GivenLabels``.

    Args:
        x: np.ndarray. float32 images (N, H, W, C) in [0, 1], labelled and unlabelled.
        given: GivenLabels. Rows of ``x`` and their label strings.
        epochs: int or None. Default ``labeller_epochs(len(x))``.
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

    from vae_apps.training import train_semi_supervised

    class_names, encoded = np.unique(given.labels.astype(str), return_inverse=True)
    if len(class_names) < 2:
        raise UserError(f"the labels name only one class ({class_names[0]!r}); give at least two")
    y = np.full(len(x), -1)
    y[given.rows] = encoded
    return train_semi_supervised(x, y, epochs=epochs or labeller_epochs(len(x)), seed=seed,
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


@dataclass
class RecoveredLabels:
    """A label for every image (the given ones kept) and what it was based on.

    Args:
        labels: np.ndarray. A label string per image.
        confidence: np.ndarray. The probability of each label; 1 for given ones.
        proba: np.ndarray. (n_images, n_classes), columns in ``class_names`` order.
        class_names: np.ndarray. The label strings of ``proba``'s columns.
        features: np.ndarray. What images are compared by (``--suggest``): latent
            codes or log q(y|x).
        method: str. The method that labelled them.

    Examples:
    >>> result = recover_dataset_labels(images.x, given)
    >>> result.labels[:3], result.confidence[:3]  # doctest: +SKIP
    """

    labels: object
    confidence: object
    proba: object
    class_names: object
    features: object
    method: str


def neighbour_features(x, seed=0, model=None):
    """What images are compared by when they vote on each other's label: their first
    ``GRAPH_COMPONENTS`` principal components (all pixels when there are fewer), or, for
    a semi-supervised ``model`` whose classifier is position-free, what its last layer
    sees: two crops of one photo share no pixels. Colour photo patches, seed 0: q(y|x)
    alone 83.2 %, smoothed over the classifier's features 83.8, over the pixels' 80.7.

    Args:
        x: np.ndarray. Images (N, H, W, C).
        seed: int. Seeds the randomized PCA.
        model: SemiSupervisedVAE or None. The model whose q(y|x) is smoothed.

    Examples:
    >>> neighbour_features(images.x).shape
    (1797, 50)
    """
    import numpy as np
    from sklearn.decomposition import PCA

    if getattr(model, "position_free", False):
        return model.classifier_features(x)
    pixels = np.asarray(x, "float32").reshape(len(x), -1)
    n = min(GRAPH_COMPONENTS, len(pixels) - 1)
    if pixels.shape[1] <= n or n < 1:
        return pixels
    return PCA(n, svd_solver="randomized", random_state=seed).fit_transform(pixels)


def recover_dataset_labels(x, given, *, model=None, method=None, codes=None, epochs=None, seed=0,
                           n_neighbors=10, smoothing=NEIGHBOUR_SMOOTHING,
                           trusted=TRUSTED_CONFIDENCE, progress=None):
    """Label every image of ``x`` from the ``GivenLabels``: what ``vae-apps label`` runs.

    Args:
        x: np.ndarray. float32 images (N, H, W, C) in [0, 1].
        given: GivenLabels. The labelled rows and their strings.
        model: BaseVAE or None. A trained model, or ``None`` to train one on ``x`` (a
            semi-supervised VAE for ``method="semi-supervised"``, the labelling VAE
            otherwise).
        method: str or None. ``"semi-supervised"`` (the model's classifier q(y|x)) or
            a latent-space method of ``vae_apps.labelling.recovery.METHODS`` applied to the
            model's codes. Default: semi-supervised, or ``"spread"`` for a model
            trained without labels.
        codes: np.ndarray or None. The latent codes of ``x`` when computed elsewhere
            (the Ray engine).
        epochs: int or None. Training epochs when a model is trained.
        seed: int. Seeds the training and the estimator.
        n_neighbors: int. Neighbours of the latent-space methods and of the smoothing.
        smoothing: float. Semi-supervised: the neighbours' weight when q(y|x) is spread
            over the images' neighbour graph (``labeling.smooth_over_neighbours``); 0
            keeps q(y|x)'s own choice. The confidence is q(label | x) either way; for a
            position-free (colour) classifier, its geometric mean with the neighbours'
            vote for the label.
        trusted: float. Semi-supervised: images whose top q(y|x) is at least this keep
            q(y|x)'s label; the smoothing decides the others (above 1: it decides all).
        progress: callable or None. Called with a line before a model is trained, which
            then shows its progress (``vae_apps.training.TrainingProgress``).

    Examples:
    >>> result = recover_dataset_labels(images.x, read_label_csv("labels.csv", images.names))
    >>> result.labels, result.confidence
    """
    import numpy as np

    from vae_apps.labelling.recovery import (recover_labels, smooth_over_neighbours,
                                             smoothed_labels)
    from vae_apps.models.semi_supervised import SemiSupervisedVAE

    if method is None:
        method = "spread" if model is not None and not isinstance(model, SemiSupervisedVAE) \
            else SEMI_SUPERVISED
    if method not in LABEL_METHODS:
        raise UserError(f"--method must be one of {', '.join(LABEL_METHODS)}, got {method!r}")
    if method == SEMI_SUPERVISED:
        if model is None:
            if progress:
                progress(f"training a semi-supervised VAE on the {len(x)} images and "
                         f"{len(given.rows)} labels")
            model = train_labeller(x, given, epochs=epochs, seed=seed,
                                   verbose="auto" if progress else 0).model
        if not isinstance(model, SemiSupervisedVAE):
            raise UserError("--method semi-supervised needs a model trained with labels "
                            "(vae-apps train DATA --labels LABELS.csv); this one has none: "
                            "use --method spread, knn, centroids or gmm")
        class_names = np.asarray(model.class_names)
        missing = sorted(set(given.labels.astype(str)) - set(class_names))
        if missing:
            raise UserError(f"the model knows the classes {', '.join(class_names)}, "
                            f"not {', '.join(missing[:5])}")
        proba = model.predict_proba(x)
        features = np.log(np.clip(proba, 1e-6, 1.0))
        index = {name: k for k, name in enumerate(class_names)}
        given_index = [index[label] for label in given.labels.astype(str)]
        graph = neighbour_features(x, seed, model) if smoothing else None
        # A position-free classifier trained on its own confident guesses is sure too
        # often; the neighbours' vote for the label tempers its confidence (the geometric
        # mean). Colour photo patches, seed 0, confidence >= 0.9: q alone 85.6 % of the
        # images, 87.2 % of those right; the mean 71.5 %, 91.5 % right. Grey models keep
        # q (digits: >= 0.9 is 97.8 % right).
        votes = (smooth_over_neighbours(graph, proba, given.rows, given_index, n_neighbors,
                                        smoothing)
                 if graph is not None and model.position_free else None)
        chosen = smoothed_labels(graph, proba, given.rows, given_index, n_neighbors=n_neighbors,
                                 alpha=smoothing, trusted=trusted, smoothed=votes)
        confidence = proba[np.arange(len(x)), chosen]
        if votes is not None:
            confidence = np.sqrt(confidence * votes[np.arange(len(x)), chosen])
    else:
        if model is None and codes is None:
            if progress:
                progress(f"training a VAE on the {len(x)} images first")
            model = train_labeling_vae(x, epochs=epochs, seed=seed,
                                       verbose="auto" if progress else 0)
        if codes is None:
            if isinstance(model, SemiSupervisedVAE):
                raise UserError(f"--method {method} works on the codes of a VAE trained without "
                                "labels; this model was trained with them (use the default method)")
            codes, _ = model.encode(x)
        labeler = recover_labels(codes, given, method, seed, n_neighbors=n_neighbors)
        class_names, features = labeler.class_names_, codes
        proba = labeler.label_distributions_
        chosen = labeler.transduction_
        confidence = proba[np.arange(len(x)), chosen]
    confidence[given.rows] = 1.0
    return RecoveredLabels(class_names[chosen], confidence, proba, class_names, features, method)


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


# What a denoiser trained on clean images learns to remove unless told (blind Gaussian).
DEFAULT_PATCH_NOISE = "gaussian:0-0.2"


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
            sigma 0-0.2, ``DEFAULT_PATCH_NOISE``).
        channels: int or None. 1 or 3 (default: from the data).
        noisy_only: bool. ``spec``'s images are noisy, with no clean versions: learn from
            them alone (no ``noise`` is added).
        init: str or Path or None. A fully convolutional ``.keras`` model (or a preset's
            name) to start from: its architecture and weights, trained further.
        **kwargs: ``vae_apps.training.train_patch_denoiser`` arguments.

    Returns:
        (summary line, ``TrainResult``).

    Examples:
    >>> text, result = train_photo_denoiser("MY_CLEAN_PHOTOS/", "mine.keras",
    ...                                     noise="salt_pepper:0.05-0.3", epochs=30)
    """
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.training import train_patch_denoiser

    if noisy_only and noise is not None:
        raise UserError("--noisy-only adds no noise to the images: leave out --noise")
    images = patch_training_images(spec, channels)
    if channels is None and not all(hasattr(i, "shape") for i in images):
        channels = folder_channels(images)
    noise = None if noisy_only else parse_noise(noise or DEFAULT_PATCH_NOISE)
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
