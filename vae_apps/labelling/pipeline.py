"""``vae-apps label``: every image of a dataset labelled from a few given labels.

Imports no Keras at the top, so ``vae-apps --help`` stays instant."""

from dataclasses import dataclass

from vae_apps.errors import UserError


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
NEIGHBOURS = 10  # of each image in the smoothing graph, and of the knn and spread methods


GRAPH_COMPONENTS = 50


LABEL_METHODS = (SEMI_SUPERVISED, "spread", "knn", "centroids", "gmm")  # the latter: estimator.METHODS


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
                           n_neighbors=NEIGHBOURS, smoothing=NEIGHBOUR_SMOOTHING,
                           trusted=TRUSTED_CONFIDENCE, progress=None):
    """Label every image of ``x`` from the ``GivenLabels``: what ``vae-apps label`` runs.

    Args:
        x: np.ndarray. float32 images (N, H, W, C) in [0, 1].
        given: GivenLabels. The labelled rows and their strings.
        model: BaseVAE or None. A trained model, or ``None`` to train one on ``x`` (a
            semi-supervised VAE for ``method="semi-supervised"``, the labelling VAE
            otherwise).
        method: str or None. ``"semi-supervised"`` (the model's classifier q(y|x)) or
            a latent-space method of ``vae_apps.labelling.estimator.METHODS`` applied to the
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
            then shows its progress (``vae_apps.training.callbacks.TrainingProgress``).

    Examples:
    >>> result = recover_dataset_labels(images.x, read_label_csv("labels.csv", images.names))
    >>> result.labels, result.confidence
    """
    import numpy as np

    from vae_apps.labelling.recovery import recover_labels, smooth_over_neighbours, smoothed_labels
    from vae_apps.labelling.train import train_labeling_vae, train_labeller
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
