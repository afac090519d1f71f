"""Label recovery in latent space: a scikit-learn estimator and the dataset glue.

Because a VAE maps similar images close together, a few labelled codes (1-2 %)
are enough to label the rest: by nearest labelled neighbours, by clustering with
the labelled class means as centres, by spreading labels over a neighbour graph,
or with a Gaussian mixture started from the labelled points.
"""

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from vae_apps.errors import UserError
from vae_apps.io.files import atomic_path, resolve_inside

log = logging.getLogger("vae_apps")


def _softmax_neg_sq_dist(X, centres, temperature):
    d2 = ((X[:, None, :] - centres[None]) ** 2).sum(-1)
    logits = -d2 / (2.0 * temperature)
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def _class_means(X, class_index, n_classes):
    return np.stack([X[class_index == k].mean(axis=0) for k in range(n_classes)])


class _KNN:
    """Distance-weighted vote of the nearest labelled codes.

    No more neighbours than the rarest class has labels, or it is always outvoted.
    """

    def __init__(self, labeler, X, labelled, class_index, n_classes):
        from sklearn.neighbors import KNeighborsClassifier

        k = max(1, min(labeler.n_neighbors, int(np.bincount(class_index).min())))
        self.knn = KNeighborsClassifier(n_neighbors=k, weights="distance").fit(X[labelled], class_index)
        self.columns = self.knn.classes_
        self.n_classes = n_classes
        self.n_iter = 1

    def predict_proba(self, X):
        p = np.zeros((len(X), self.n_classes))
        p[:, self.columns] = self.knn.predict_proba(X)
        return p


class _Centroids:
    """k-means over all codes, started at the labelled class means (one cluster per class)."""

    def __init__(self, labeler, X, labelled, class_index, n_classes):
        from sklearn.cluster import KMeans

        init = _class_means(X[labelled], class_index, n_classes)
        self.kmeans = KMeans(n_clusters=n_classes, init=init, n_init=1,
                             random_state=labeler.random_state).fit(X)
        self.n_iter = self.kmeans.n_iter_
        d2 = ((X - self.kmeans.cluster_centers_[self.kmeans.labels_]) ** 2).sum(-1)
        self.temperature = max(float(np.mean(d2)) / max(X.shape[1], 1), 1e-12)

    def predict_proba(self, X):
        return _softmax_neg_sq_dist(X, self.kmeans.cluster_centers_, self.temperature)


class _Spread:
    """Label spreading over a k-nearest-neighbour graph of all codes (Zhou et al. 2004)."""

    def __init__(self, labeler, X, labelled, class_index, n_classes):
        from sklearn.semi_supervised import LabelSpreading

        y = np.full(len(X), -1)
        y[labelled] = class_index
        k = max(1, min(labeler.n_neighbors, len(X) - 1))
        self.spread = LabelSpreading(kernel="knn", n_neighbors=k, alpha=labeler.alpha,
                                     max_iter=labeler.max_iter).fit(X, y)
        self.columns = self.spread.classes_[self.spread.classes_ >= 0]
        self.n_iter = self.spread.n_iter_
        self.n_classes = n_classes

    def predict_proba(self, X):
        p = np.zeros((len(X), self.n_classes))
        with np.errstate(invalid="ignore", divide="ignore"):
            p[:, self.columns] = np.nan_to_num(self.spread.predict_proba(X))
        # A point whose neighbours carry no label mass gets no preference.
        empty = p.sum(axis=1) <= 0
        p[empty] = 1.0 / self.n_classes
        return p / p.sum(axis=1, keepdims=True)


class _GMM:
    """A Gaussian mixture over all codes, one component per class, started at the class means."""

    def __init__(self, labeler, X, labelled, class_index, n_classes):
        from sklearn.mixture import GaussianMixture

        self.gmm = GaussianMixture(n_components=n_classes, covariance_type="full",
                                   means_init=_class_means(X[labelled], class_index, n_classes),
                                   reg_covar=1e-3, random_state=labeler.random_state,
                                   max_iter=labeler.max_iter).fit(X)
        self.n_iter = self.gmm.n_iter_

    def predict_proba(self, X):
        return self.gmm.predict_proba(X)


METHODS = {"knn": _KNN, "centroids": _Centroids, "spread": _Spread, "gmm": _GMM}


def unlabelled_mask(y):
    """``y == -1`` marks unlabelled samples (scikit-learn's semi-supervised convention).

    String labels have no unlabelled marker: encode them as integers first, as
    ``recover_labels`` does.

    Args:
        y: array-like. Labels (N,).

    Examples:
    >>> unlabelled_mask(np.array([3, -1, 0]))
    array([False,  True, False])
    """
    y = np.asarray(y)
    if y.dtype.kind in "iuf":
        return y == -1
    return np.zeros(len(y), bool)


class LatentLabeler(ClassifierMixin, BaseEstimator):
    """Recover labels of unlabelled latent codes from a few labelled ones.

    Args:
        method: str. ``"spread"``, ``"knn"``, ``"centroids"`` or ``"gmm"`` (see
            ``METHODS``).
        n_neighbors: int. Neighbours for ``knn`` votes and the ``spread`` graph.
        alpha: float. How much ``spread`` lets labels change (0: never, 1: freely).
        max_iter: int. Iterations of ``spread`` and ``gmm``.
        random_state: int or None. Seed of ``centroids`` and ``gmm``.

    ``fit(X, y)``: ``y == -1`` marks unlabelled rows. Fitted attributes: ``classes_``,
    ``transduction_`` (a label for every row of X, the given ones kept),
    ``confidence_`` (probability of that label; 1 for given labels),
    ``label_distributions_`` (class probabilities of every row of X), ``n_features_in_``.

    Examples:
    >>> codes, _ = vae.encode(x)
    >>> y = np.full(len(codes), -1); y[:30] = labels[:30]
    >>> labeler = LatentLabeler(method="spread").fit(codes, y)
    >>> labeler.transduction_, labeler.confidence_
    """

    def __init__(self, method="spread", n_neighbors=10, alpha=0.2, max_iter=100, random_state=None):
        self.method = method
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, y):
        """Fit on every row of ``X`` (codes), ``y == -1`` marking the unlabelled ones."""
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {sorted(METHODS)}, got {self.method!r}")
        X, y = validate_data(self, X, y, dtype="numeric", y_numeric=False)
        check_classification_targets(y)
        labelled = ~unlabelled_mask(y)
        if not labelled.any():
            raise ValueError("no labelled samples: give at least one label (y != -1)")
        self.classes_, class_index = np.unique(y[labelled], return_inverse=True)
        self.model_ = METHODS[self.method](self, X, labelled, class_index, len(self.classes_))
        self.n_iter_ = int(getattr(self.model_, "n_iter", 1))
        proba = self.model_.predict_proba(X)
        self.label_distributions_ = proba
        chosen = proba.argmax(axis=1)
        chosen[labelled] = class_index
        self.transduction_ = self.classes_[chosen]
        self.confidence_ = proba[np.arange(len(X)), chosen]
        self.confidence_[labelled] = 1.0
        return self

    def predict_proba(self, X):
        """Class probabilities (N, n_classes) of new codes, in ``classes_`` order."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype="numeric")
        return self.model_.predict_proba(X)

    def predict(self, X):
        """The most probable class of each new code."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


# -- labelling a dataset from a CSV of a few labels ---------------------------------------

MAX_REPORTED_ERRORS = 5


@dataclass
class GivenLabels:
    """Labels from a LABELS.csv: which rows of the dataset, which strings, keyed by what.

    Args:
        key: str. ``"path"`` (image folders) or ``"index"`` (array files).
        rows: np.ndarray. The labelled images' positions in the dataset.
        labels: np.ndarray. Their label strings (object dtype).

    Examples:
    >>> given = read_label_csv("labels.csv", images.names, data_root="MY_IMAGES")
    >>> given.key, len(given.rows)  # doctest: +SKIP
    ('path', 40)
    """

    key: str
    rows: np.ndarray
    labels: np.ndarray


def read_label_csv(path, names, data_root=None):
    """Read ``path,label`` (folder data) or ``index,label`` (array data) rows.

    Every problem is reported with its row number (the header is row 1), in one error.

    Args:
        path: str or Path. The CSV file.
        names: list of str. The dataset's image names (relative paths or row indices).
        data_root: str or Path or None. The image folder: paths in the CSV must stay
            inside it.

    Returns:
        ``GivenLabels`` (rows of the dataset and their label strings).

    Examples:
    >>> given = read_label_csv("labels.csv", images.names, data_root="MY_IMAGES")
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the labels ({exc})") from None
    if not rows:
        raise UserError(f"{path}: empty; expected a header 'path,label' or 'index,label'")
    header = [h.strip().lower() for h in rows[0]]
    if len(header) != 2 or header[0] not in ("path", "index") or header[1] != "label":
        raise UserError(f"{path}: header is {','.join(rows[0])!r}; expected 'path,label' "
                        "(image folders) or 'index,label' (array files)")
    key = header[0]
    position = {name: i for i, name in enumerate(names)}
    root = None
    if key == "path":
        if data_root is None:
            raise UserError(f"{path}: 'path' labels need an image folder; use 'index,label' for arrays")
        root = resolve_inside(data_root, ".")
    errors, given = [], {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            errors.append(f"row {number}: expected 2 columns, got {len(row)}")
            continue
        ref, label = row[0].strip(), row[1].strip()
        if not label:
            errors.append(f"row {number}: empty label")
            continue
        try:
            name = _name_of(key, ref, root)
        except UserError as exc:
            errors.append(f"row {number}: {exc}")
            continue
        if name not in position:
            errors.append(f"row {number}: {'no image' if key == 'path' else 'no row'} {ref!r} in the data")
            continue
        if name in given and given[name][1] != label:
            errors.append(f"row {number}: {ref!r} labelled {label!r} here but {given[name][1]!r} "
                          f"in row {given[name][0]}")
            continue
        given.setdefault(name, (number, label))
    if errors:
        more = len(errors) - MAX_REPORTED_ERRORS
        text = "; ".join(errors[:MAX_REPORTED_ERRORS]) + (f"; and {more} more" if more > 0 else "")
        raise UserError(f"{path}: {text}")
    if not given:
        raise UserError(f"{path}: no labels in it")
    names_given = list(given)
    return GivenLabels(key, np.array([position[n] for n in names_given]),
                       np.array([given[n][1] for n in names_given], dtype=object))


def _name_of(key, ref, root):
    if key == "index":
        try:
            index = int(ref)
        except ValueError:
            raise UserError(f"index {ref!r} is not a whole number") from None
        if index < 0:
            raise UserError(f"index {index} is negative")
        return str(index)
    target = resolve_inside(root, ref, what="path")
    return Path(target).relative_to(root).as_posix()


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


def write_predictions(path, names, key, labels, confidence, given, overwrite=False):
    """Write PREDICTIONS.csv atomically: one row per image: path|index, label, confidence,
    labelled.

    Args:
        path: str or Path. The CSV to write.
        names: list of str. Image names (relative paths or row indices), one per image.
        key: str. ``"path"`` or ``"index"``, the first column's header.
        labels: array-like. A label string per image.
        confidence: array-like. The probability of each label.
        given: GivenLabels. Their rows are marked ``labelled``.
        overwrite: bool. Replace an existing file.

    Examples:
    >>> write_predictions("predictions.csv", images.names, "path", labels, confidence, given)
    """
    labelled = np.zeros(len(names), bool)
    labelled[given.rows] = True
    with atomic_path(path, overwrite) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([key, "label", "confidence", "labelled"])
        for name, label, conf, is_given in zip(names, labels, confidence, labelled):
            writer.writerow([name, label, f"{conf:.4f}", "true" if is_given else "false"])


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


def write_suggestions(path, names, key, rows, overwrite=False):
    """Write SUGGEST.csv atomically: the header of LABELS.csv and one row per suggested
    image, label empty: fill the labels in and add the rows to LABELS.csv.

    Args:
        path: str or Path. The CSV to write.
        names: list of str. Image names, one per image.
        key: str. ``"path"`` or ``"index"``.
        rows: array-like. The suggested images' positions (``suggest_labels``), in order.
        overwrite: bool. Replace an existing file.

    Examples:
    >>> write_suggestions("suggest.csv", images.names, "path", rows)
    """
    with atomic_path(path, overwrite) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([key, "label"])
        for row in rows:
            writer.writerow([names[row], ""])
