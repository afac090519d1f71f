"""Labels from a few given ones: a ``LatentLabeler`` fitted on latent codes, the
semi-supervised classifier's guesses smoothed over neighbouring images, and the images
whose labels would help most (``--suggest``)."""

import logging

import numpy as np

from vae_apps.labelling.estimator import LatentLabeler

log = logging.getLogger("vae_apps")


def recover_labels(codes, given, method="spread", seed=0, **params):
    """Fit a ``LatentLabeler`` on all codes with the given rows labelled; return it
    (``class_names_[transduction_]`` are the labels as strings).

    Args:
        codes: np.ndarray. Latent codes of every image (N, d).
        given: GivenLabels. The labelled rows and their strings.
        method: str. One of ``METHODS`` (spread, knn, centroids, gmm).
        seed: int. The estimator's ``random_state``.
        **params: more ``LatentLabeler`` arguments.

    Examples:
    >>> labeler = recover_labels(model.encode(x)[0], given, method="spread")
    >>> labeler.class_names_[labeler.transduction_]
    """
    # Fit on integer class indices (the estimator's -1 convention), then map back to the strings.
    classes, encoded = np.unique(given.labels.astype(str), return_inverse=True)
    y_int = np.full(len(codes), -1)
    y_int[given.rows] = encoded
    labeler = LatentLabeler(method=method, random_state=seed, **params).fit(codes, y_int)
    labeler.class_names_ = classes
    return labeler


def smooth_over_neighbours(features, proba, labelled_rows, labelled_index, n_neighbors=10,
                           alpha=0.9, tol=1e-6, max_iter=300):
    """Label spreading (Zhou et al. 2004) started from a classifier's probabilities.

    Each image's class distribution becomes a mix of its own prediction and its
    neighbours' (weight ``alpha``), over a symmetric k-nearest-neighbour graph of
    ``features``; the labelled rows start as their labels. A classifier's isolated
    mistakes among images that look alike are outvoted.

    Args:
        features: np.ndarray. (n_images, d): what neighbours are found by.
        proba: np.ndarray. (n_images, n_classes) predicted class probabilities.
        labelled_rows: array-like of int. Rows whose class is known.
        labelled_index: array-like of int. Their class indices (columns of ``proba``).
        n_neighbors: int. Neighbours per image (fewer on tiny sets).
        alpha: float. In [0, 1): the neighbours' weight; 0 returns ``proba``.
        tol: float. Stop when no probability moves more than this.
        max_iter: int. At most this many propagation steps.

    Returns:
        (n_images, n_classes) float64, rows summing to 1.

    Examples:
    >>> smoothed = smooth_over_neighbours(pixels, model.predict_proba(x), given_rows, given_index)
    >>> labels = smoothed.argmax(axis=1)
    """
    from scipy import sparse
    from sklearn.neighbors import kneighbors_graph

    start = np.asarray(proba, "float64").copy()
    start[np.asarray(labelled_rows, int)] = np.eye(start.shape[1])[np.asarray(labelled_index, int)]
    if not alpha or len(start) < 2:
        return start
    k = max(1, min(int(n_neighbors), len(start) - 1))
    graph = kneighbors_graph(np.asarray(features, "float32"), k, include_self=False)
    graph = graph.maximum(graph.T)
    scale = sparse.diags(1.0 / np.sqrt(np.asarray(graph.sum(axis=1)).ravel()))
    normalised = (scale @ graph @ scale).tocsr()
    spread = start
    for _ in range(int(max_iter)):
        step = alpha * (normalised @ spread) + (1.0 - alpha) * start
        done = np.abs(step - spread).max() < tol
        spread = step
        if done:
            break
    return spread / spread.sum(axis=1, keepdims=True)


def smoothed_labels(features, proba, labelled_rows, labelled_index, *, n_neighbors=10,
                    alpha=0.9, trusted=0.9, smoothed=None):
    """Class indices: the classifier's own where it is confident, its probabilities smoothed
    over the neighbours (``smooth_over_neighbours``) where it is not, the labels where given.

    Args:
        features: np.ndarray or None. (n_images, d): what neighbours are found by (None
            when ``alpha`` is 0).
        proba: np.ndarray. (n_images, n_classes) predicted class probabilities.
        labelled_rows: array-like of int. Rows whose class is known.
        labelled_index: array-like of int. Their class indices.
        n_neighbors: int. Neighbours per image.
        alpha: float. In [0, 1): the neighbours' weight; 0 keeps every own choice.
        trusted: float. Rows whose top probability is at least this keep their own
            choice (above 1: the smoothing decides every row).
        smoothed: np.ndarray or None. ``smooth_over_neighbours``' result when the caller
            has it already (it is computed here otherwise).

    Returns:
        (n_images,) int class indices.

    Examples:
    >>> chosen = smoothed_labels(pixels, model.predict_proba(x), given_rows, given_index)
    """
    proba = np.asarray(proba)
    chosen = proba.argmax(axis=1)
    unsure = proba.max(axis=1) < trusted
    if alpha and unsure.any():
        if smoothed is None:
            smoothed = smooth_over_neighbours(features, proba, labelled_rows, labelled_index,
                                              n_neighbors, alpha)
        chosen[unsure] = smoothed[unsure].argmax(axis=1)
    chosen[np.asarray(labelled_rows, int)] = np.asarray(labelled_index, int)
    return chosen


# -- asking for the labels that help most -----------------------------------------------

def suggest_labels(features, proba, given_rows, n, seed=0):
    """The ``n`` unlabelled rows whose labels should help most, most useful first.

    Uncertainty-weighted k-means: ``n`` clusters of ``features`` where each point
    weighs its prediction's entropy, and from each cluster the unlabelled point
    nearest its centre. So the suggestions are uncertain (the model needs them) and
    spread over different confusions (no two alike), and each stands for many
    images like it. Given rows are never suggested.

    Args:
        features: np.ndarray. (n_images, d): latent codes, or log class probabilities.
        proba: np.ndarray. (n_images, n_classes) predicted class probabilities.
        given_rows: array-like. Indices of the images labelled already.
        n: int. How many to suggest (fewer if fewer are unlabelled).
        seed: int. Seeds k-means.

    Returns:
        Row indices, ordered by the uncertainty of their cluster (highest first).

    Examples:
    >>> rows = suggest_labels(np.log(proba), proba, given.rows, n=50)
    >>> write_suggestions("suggest.csv", images.names, given.key, rows)
    """
    from sklearn.cluster import KMeans

    candidates = np.setdiff1d(np.arange(len(features)), np.asarray(given_rows, int))
    n = min(int(n), len(candidates))
    if n <= 0:
        return np.zeros(0, int)
    p = np.clip(np.asarray(proba, "float64")[candidates], 1e-12, 1.0)
    entropy = -(p * np.log(p)).sum(axis=1)
    weight = entropy + 1e-3 * max(entropy.max(), 1e-12)  # certain points still count a little
    X = np.asarray(features, "float64")[candidates]
    kmeans = KMeans(n_clusters=n, n_init=1, random_state=seed).fit(X, sample_weight=weight)
    chosen, cluster_uncertainty = [], []
    taken = np.zeros(len(candidates), bool)
    for k in range(n):
        members = np.flatnonzero((kmeans.labels_ == k) & ~taken)
        if not len(members):
            members = np.flatnonzero(~taken)
        d2 = ((X[members] - kmeans.cluster_centers_[k]) ** 2).sum(axis=1)
        pick = members[np.argmin(d2)]
        taken[pick] = True
        chosen.append(candidates[pick])
        cluster_uncertainty.append(np.average(entropy[kmeans.labels_ == k]) if
                                   (kmeans.labels_ == k).any() else entropy[pick])
    order = np.argsort(cluster_uncertainty, kind="stable")[::-1]
    return np.asarray(chosen)[order]


