import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from vae_apps.errors import UserError
from vae_apps.labelling.estimator import LatentLabeler, METHODS
from vae_apps.labelling.label_csv import read_label_csv
from vae_apps.labelling.recovery import recover_labels


def _expected_failures(estimator):
    return {"check_classifiers_classes":
            "-1 marks unlabelled samples (scikit-learn's semi-supervised convention), "
            "so a class literally named -1 cannot be learned"}


@parametrize_with_checks([LatentLabeler(method=m, random_state=0) for m in METHODS],
                         expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _blobs(rng, n_per=60, centres=((0, 0), (10, 0), (0, 10), (10, 10))):
    X = np.concatenate([rng.normal(c, 1.0, size=(n_per, 2)) for c in centres])
    y_true = np.repeat(np.arange(len(centres)), n_per)
    y = np.full(len(X), -1)
    first = np.arange(len(centres)) * n_per  # one label per cluster
    y[first] = y_true[first]
    return X, y, y_true


@pytest.mark.parametrize("method", sorted(METHODS))
def test_each_method_recovers_well_separated_clusters_from_one_label_each(method, rng):
    X, y, y_true = _blobs(rng)
    labeler = LatentLabeler(method=method, random_state=0).fit(X, y)
    assert (labeler.transduction_ == y_true).mean() > 0.98
    assert (labeler.predict(X + 0.1) == y_true).mean() > 0.98
    proba = labeler.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert labeler.confidence_.shape == (len(X),) and (labeler.confidence_[y != -1] == 1).all()


def test_string_labels_fully_labelled(rng):
    X, _, y_true = _blobs(rng)
    names = np.array(["a", "b", "c", "d"], dtype=object)
    labeler = LatentLabeler(method="knn").fit(X, names[y_true])
    assert list(labeler.classes_) == ["a", "b", "c", "d"]
    assert (labeler.predict(X) == names[y_true]).mean() > 0.98


def test_no_labels_is_an_error(rng):
    with pytest.raises(ValueError, match="no labelled samples"):
        LatentLabeler().fit(rng.normal(size=(10, 2)), np.full(10, -1))
    with pytest.raises(ValueError, match="method"):
        LatentLabeler(method="magic").fit(rng.normal(size=(10, 2)), np.zeros(10))


def test_recover_labels_maps_back_to_strings(rng, tmp_path):
    X, y, y_true = _blobs(rng, n_per=10)
    names = [str(i) for i in range(len(X))]
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("index,label\n" + "".join(f"{i},class {y_true[i]}\n" for i in np.flatnonzero(y != -1)))
    given = read_label_csv(csv_path, names)
    labeler = recover_labels(X, given, method="spread")
    recovered = labeler.class_names_[labeler.transduction_]
    assert (recovered == np.array([f"class {t}" for t in y_true])).mean() > 0.95


@pytest.mark.parametrize("body, message", [
    ("path,label\n../x.png,a\n", "row 2: path '../x.png' points outside"),
    ("path,label\n/etc/passwd,a\n", "row 2: path '/etc/passwd' is absolute"),
    ("path,label\nmissing.png,a\n", "row 2: no image 'missing.png'"),
    ("path,label\na/1.png,\n", "row 2: empty label"),
    ("path,label\na/1.png,x\nb/2.png,y\na/1.png,z\n", "row 4: 'a/1.png' labelled 'z' here but 'x' in row 2"),
    ("file,class\na/1.png,x\n", "header"),
    ("", "empty"),
    ("path,label\na/1.png,x,extra\n", "row 2: expected 2 columns"),
])
def test_label_csv_errors_name_the_row(tmp_path, body, message):
    root = tmp_path / "data"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text(body)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_label_csv(csv_path, ["a/1.png", "b/2.png"], data_root=root)


@pytest.mark.parametrize("body, message", [
    ("index,label\n7,a\n", "row 2: no row '7'"),
    ("index,label\n-1,a\n", "row 2: index -1 is negative"),
    ("index,label\none,a\n", "row 2: index 'one' is not a whole number"),
])
def test_label_csv_index_errors(tmp_path, body, message):
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text(body)
    with pytest.raises(UserError, match=message):
        read_label_csv(csv_path, ["0", "1", "2"])


def test_same_label_twice_is_fine(tmp_path):
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("index,label\n1,a\n1,a\n2,b\n")
    given = read_label_csv(csv_path, ["0", "1", "2"])
    assert list(given.rows) == [1, 2] and list(given.labels) == ["a", "b"]


def test_suggestions_are_uncertain_spread_out_and_never_given(rng):
    from vae_apps.labelling.recovery import suggest_labels

    # Two well-separated confident blobs and one uncertain blob between them.
    X = np.concatenate([rng.normal(-5, 0.3, (100, 2)), rng.normal(5, 0.3, (100, 2)),
                        rng.normal(0, 0.3, (40, 2))])
    proba = np.zeros((240, 2))
    proba[:100] = [0.99, 0.01]
    proba[100:200] = [0.01, 0.99]
    proba[200:] = [0.5, 0.5]
    given = [0, 100, 200]
    rows = suggest_labels(X, proba, given, 5, seed=0)
    assert len(rows) == 5 and len(set(rows)) == 5 and not set(rows) & set(given)
    assert np.mean(rows >= 200) >= 0.6  # most come from the uncertain blob
    np.testing.assert_array_equal(rows, suggest_labels(X, proba, given, 5, seed=0))
    assert len(suggest_labels(X[:4], proba[:4], [0, 1], 10)) == 2  # only two unlabelled left


def test_smoothing_outvotes_a_classifiers_isolated_mistakes(rng):
    from vae_apps.labelling.recovery import smooth_over_neighbours

    X, y, y_true = _blobs(rng)
    proba = np.eye(4)[y_true] * 0.7 + 0.075  # right, with confidence 0.775
    wrong = rng.choice(np.flatnonzero(y == -1), 12, replace=False)
    proba[wrong] = np.roll(proba[wrong], 1, axis=1)  # a confident wrong class
    labelled = np.flatnonzero(y != -1)
    smoothed = smooth_over_neighbours(X, proba, labelled, y[labelled])
    np.testing.assert_allclose(smoothed.sum(axis=1), 1.0)
    assert (smoothed.argmax(axis=1) == y_true).all()
    unchanged = smooth_over_neighbours(X, proba, labelled, y[labelled], alpha=0)
    assert (unchanged.argmax(axis=1)[wrong] != y_true[wrong]).all()
    np.testing.assert_array_equal(unchanged[labelled], np.eye(4)[y[labelled]])
    assert smooth_over_neighbours(X[:2], proba[:2], [0], [0]).shape == (2, 4)  # tiny set


def test_smoothed_labels_keep_confident_predictions_and_mend_unsure_ones(rng):
    from vae_apps.labelling.recovery import smooth_over_neighbours, smoothed_labels

    X, y, y_true = _blobs(rng)
    proba = np.eye(4)[y_true] * 0.7 + 0.075  # right, with confidence 0.775
    unlabelled = np.flatnonzero(y == -1)
    unsure, sure = rng.choice(unlabelled, (2, 6), replace=False)
    proba[unsure] = np.roll(proba[unsure], 1, axis=1)  # wrong at 0.775: below trusted=0.9
    proba[sure] = np.roll(np.eye(4)[y_true[sure]] * 0.96 + 0.01, 1, axis=1)  # wrong at 0.97
    labelled = np.flatnonzero(y != -1)
    chosen = smoothed_labels(X, proba, labelled, y[labelled], trusted=0.9)
    assert (chosen[unsure] == y_true[unsure]).all()  # the neighbours outvote them
    assert (chosen[sure] == proba[sure].argmax(axis=1)).all()  # confident: kept
    everywhere = smoothed_labels(X, proba, labelled, y[labelled], trusted=1.1)
    np.testing.assert_array_equal(
        everywhere, smooth_over_neighbours(X, proba, labelled, y[labelled]).argmax(axis=1))
    alone = smoothed_labels(None, proba, labelled, y[labelled], alpha=0)
    np.testing.assert_array_equal(alone[unlabelled], proba[unlabelled].argmax(axis=1))
    np.testing.assert_array_equal(alone[labelled], y[labelled])


def test_neighbour_features_are_50_components_or_the_pixels(rng):
    from vae_apps.labelling.pipeline import GRAPH_COMPONENTS, neighbour_features

    images = rng.random((80, 8, 8, 1)).astype("float32")
    features = neighbour_features(images, seed=3)
    assert features.shape == (80, GRAPH_COMPONENTS)
    np.testing.assert_array_equal(features, neighbour_features(images, seed=3))
    small = rng.random((80, 5, 5, 1)).astype("float32")  # 25 pixels: kept as they are
    np.testing.assert_array_equal(neighbour_features(small), small.reshape(80, 25))
