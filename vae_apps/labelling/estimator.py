"""``LatentLabeler``: a scikit-learn estimator that labels latent codes from a few labelled ones.

Because a VAE maps similar images close together, a few labelled codes (1-2 %)
are enough to label the rest: by nearest labelled neighbours, by clustering with
the labelled class means as centres, by spreading labels over a neighbour graph,
or with a Gaussian mixture started from the labelled points.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data


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
