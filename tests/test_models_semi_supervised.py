"""The semi-supervised VAE (M2): its train_step, predictions, generation, saving."""

import keras
import numpy as np
import pytest

from vae_apps.loading import load_vae
from vae_apps.models.semi_supervised import SemiSupervisedVAE
from vae_apps.labelling.train import LabellerConfig, train_semi_supervised

TINY = dict(filters=(8, 16), hidden_units=(32,), classifier_units=(32,), latent_dim=4)


def _separable(n=300, seed=0):
    """Three classes of 8x8 images: a bright top, middle or bottom band, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(3, size=n)
    x = rng.uniform(0, 0.2, size=(n, 8, 8, 1)).astype("float32")
    for k in range(3):
        x[y == k, 1 + 2 * k:3 + 2 * k] += 0.7
    return np.clip(x, 0, 1), y


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    x, y = _separable()
    given = np.full(len(y), -1)
    given[[np.flatnonzero(y == k)[0] for k in range(3)]] = range(3)  # one label per class
    path = tmp_path_factory.mktemp("ss") / "ss.keras"
    result = train_semi_supervised(x, given, epochs=12, batch_size=50, labelled_per_batch=6,
                                   learning_rate=3e-3, seed=0, out=path, verbose=0, **TINY)
    return x, y, given, result, path


def test_mixed_labelled_and_unlabelled_batches_train_and_classify(trained):
    x, y, given, result, _ = trained
    losses = result.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert {"classification_loss", "reconstruction_loss", "kl_loss"} <= set(result.history)
    predicted = result.model.predict_proba(x).argmax(axis=1)
    assert np.all(predicted[given >= 0] == given[given >= 0])
    # Three labels, 297 unlabelled images: the unlabelled ones are recovered too.
    assert np.mean(predicted == y) > 0.9


def test_a_batch_without_labels_trains(trained):
    x, *_ = trained
    model = SemiSupervisedVAE((8, 8, 1), n_classes=3, seed=0, **TINY)
    model.compile(keras.optimizers.Adam(1e-3))
    logs = model.train_on_batch(x[:20], -np.ones(20, "int32"), return_dict=True)
    assert np.isfinite(logs["loss"]) and logs["classification_loss"] == 0.0


def test_save_load_gives_the_same_predictions_and_images(trained):
    x, _, _, result, path = trained
    loaded = load_vae(path, compile=False)
    assert isinstance(loaded, SemiSupervisedVAE) and loaded.get_config() == result.model.get_config()
    np.testing.assert_allclose(loaded.predict_proba(x), result.model.predict_proba(x), atol=1e-6)
    np.testing.assert_allclose(loaded.generate([0, 1, 2], seed=3),
                               result.model.generate([0, 1, 2], seed=3), atol=1e-6)


def test_generation_by_class_and_analogies(trained):
    x, _, _, result, _ = trained
    model = result.model
    images = model.generate([2] * 6, seed=1)
    assert images.shape == (6, 8, 8, 1) and images.min() >= 0 and images.max() <= 1
    np.testing.assert_array_equal(images, model.generate([2] * 6, seed=1))
    # The class decides the band: a generated "2" is brightest in the bottom rows.
    rows = images.mean(axis=(0, 2, 3))
    assert rows[5:7].mean() > rows[1:3].mean()
    grid = model.analogies(x[:4])
    assert grid.shape == (4, 3, 8, 8, 1)


def test_the_elbo_of_unlabelled_images_is_a_bound_with_every_term(trained):
    x, _, _, result, _ = trained
    nll, kl = result.model.compute_losses(x[:16])
    nll, kl = keras.ops.convert_to_numpy(nll), keras.ops.convert_to_numpy(kl)
    assert nll.shape == kl.shape == (16,) and np.all(kl >= 0) and np.all(np.isfinite(nll))


def test_no_labels_is_refused():
    from vae_apps.errors import UserError

    with pytest.raises(UserError, match="at least one labelled"):
        train_semi_supervised(np.zeros((4, 8, 8, 1), "float32"), -np.ones(4), epochs=1)


def test_the_class_prior_is_the_shrunk_share_of_the_given_labels(trained):
    _, _, given, result, _ = trained
    assert result.model.class_prior == pytest.approx([1 / 3] * 3)  # one label per class
    x = np.zeros((6, 8, 8, 1), "float32")
    y = np.array([0, 0, 0, 1, -1, -1])
    model = train_semi_supervised(x, y, epochs=1, batch_size=6, labelled_per_batch=0,
                                  verbose=0, **TINY).model
    assert model.class_prior == pytest.approx([13 / 24, 11 / 24])  # (3 + 10) / (4 + 20), (1 + 10) / 24


def test_the_balance_term_is_zero_at_the_prior_and_grows_as_predictions_collapse():
    model = SemiSupervisedVAE((8, 8, 1), n_classes=2, class_prior=[3, 1], seed=0, **TINY)
    assert model.class_prior == [0.75, 0.25]
    with pytest.raises(ValueError, match="2 positive shares"):
        SemiSupervisedVAE((8, 8, 1), n_classes=2, class_prior=[1, 1, 1], **TINY)
    unlabelled = -np.ones(4, "int32")
    at_prior = np.log(np.array([[0.75, 0.25]] * 4, "float32"))
    collapsed = np.log(np.array([[0.01, 0.99]] * 4, "float32"))
    as_float = lambda t: float(keras.ops.convert_to_numpy(t))
    assert as_float(model._balance_loss(at_prior, unlabelled)) == pytest.approx(0, abs=1e-5)
    # Only unlabelled rows count: labelled ones of one class are no collapse.
    assert as_float(model._balance_loss(collapsed, np.array([1, 1, 1, 1]))) == pytest.approx(0, abs=1e-5)
    # KL([0.01, 0.99] || [0.75, 0.25]) = 0.01 ln(0.01/0.75) + 0.99 ln(0.99/0.25)
    expected = 0.01 * np.log(0.01 / 0.75) + 0.99 * np.log(0.99 / 0.25)
    assert as_float(model._balance_loss(collapsed, unlabelled)) == pytest.approx(expected, rel=1e-4)


def test_strong_augmentation_is_seeded_keeps_the_range_and_cuts_out_a_grey_square():
    from vae_apps.models.semi_supervised import Cutout, build_strong_augmentation

    x = np.random.default_rng(0).random((6, 16, 16, 3)).astype("float32")
    views = [keras.ops.convert_to_numpy(build_strong_augmentation(3, 0.1, 0.5, seed=s)(x, training=True))
             for s in (1, 1, 2)]
    np.testing.assert_array_equal(views[0], views[1])
    assert not np.array_equal(views[0], views[2]) and not np.array_equal(views[0], x)
    assert views[0].shape == x.shape and views[0].min() >= 0 and views[0].max() <= 1
    cut = keras.ops.convert_to_numpy(Cutout(0.5, seed=0)(x, training=True))
    grey = np.all(cut == 0.5, axis=-1)
    # an 8 x 8 square (half the side), fewer pixels where it falls off the border
    assert all(0 < grey[i].sum() <= 64 for i in range(len(x)))
    np.testing.assert_array_equal(cut[~grey], x[~grey])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(Cutout(0.5)(x)), x)  # not training


def test_the_pseudo_label_term_counts_confident_unlabelled_images_only():
    model = SemiSupervisedVAE((8, 8, 1), n_classes=3, pseudo_labels=1.0, threshold=0.9, seed=0,
                              **TINY)
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")
    unsure = np.zeros((4, 3), "float32")                      # q(y|x) uniform: below 0.9
    sure = np.array([[9.0, 0, 0]] * 4, "float32")             # q(y|x) ~ 0.9998 on class 0
    as_float = lambda t: float(keras.ops.convert_to_numpy(t))
    unlabelled, labelled = -np.ones(4, "int32"), np.zeros(4, "int32")
    assert as_float(model._pseudo_label_loss(x, unsure, unlabelled)) == 0.0
    assert as_float(model._pseudo_label_loss(x, sure, labelled)) == 0.0
    assert as_float(model._pseudo_label_loss(x, sure, unlabelled)) > 0.0


def test_training_with_pseudo_labels_recovers_the_classes_and_saves(tmp_path):
    x, y = _separable()
    given = np.full(len(y), -1)
    given[[np.flatnonzero(y == k)[0] for k in range(3)]] = range(3)
    result = train_semi_supervised(x, given, epochs=12, batch_size=50, labelled_per_batch=6,
                                   learning_rate=3e-3, seed=0, out=tmp_path / "m.keras", verbose=0,
                                   pseudo_labels=20.0, **TINY)
    assert np.mean(result.model.predict_proba(x).argmax(axis=1) == y) > 0.9
    loaded = load_vae(tmp_path / "m.keras", compile=False)
    assert loaded.pseudo_labels == 20.0 and loaded.get_config() == result.model.get_config()
    np.testing.assert_allclose(loaded.predict_proba(x), result.model.predict_proba(x), atol=1e-6)


def test_the_likely_classes_sum_is_the_full_sum_when_q_sits_on_them():
    model = SemiSupervisedVAE((8, 8, 1), n_classes=4, seed=0, **TINY)
    x = np.random.default_rng(0).random((6, 8, 8, 1)).astype("float32")
    y = np.array([2, -1, -1, 0, -1, -1], "int32")
    as_np = keras.ops.convert_to_numpy
    # the draws of z are seeded per call: compare the terms class by class instead
    full_nll, full_kl = (as_np(t) for t in model._every_class(x, training=False))
    nll, kl, logits = (as_np(t) for t in model.labelled_losses(x, y=y, likely_classes=2))
    proba = as_np(keras.ops.softmax(logits))
    top = np.argsort(-proba, axis=1)[:, :2]
    for i in range(len(x)):
        if y[i] >= 0:  # a labelled image: its class's terms alone
            assert nll[i] == pytest.approx(full_nll[i, y[i]], rel=0.05)
        else:
            w = proba[i, top[i]] / proba[i, top[i]].sum()
            assert nll[i] == pytest.approx(np.sum(w * full_nll[i, top[i]]), rel=0.05)
    # every class: the M2 sum itself
    all_nll, _, _ = (as_np(t) for t in model.labelled_losses(x, y=y, likely_classes=0))
    assert all_nll.shape == nll.shape == (6,)


def _photo_like(n=240, seed=0):
    """Three classes of 12x12 colour images told apart by colour and texture, not place:
    a warm smooth gradient, cool fine stripes, grey speckle, each at a random phase."""
    rng = np.random.default_rng(seed)
    y = rng.integers(3, size=n)
    ramp = np.linspace(0, 1, 12, dtype="float32")
    x = np.empty((n, 12, 12, 3), "float32")
    for i, k in enumerate(y):
        if k == 0:
            shade = np.broadcast_to(np.roll(ramp, rng.integers(12))[:, None] * 0.3 + 0.4, (12, 12))
            x[i] = np.stack([shade + 0.3, shade, shade - 0.3], -1)
        elif k == 1:
            stripes = np.broadcast_to((np.arange(12)[None, :] + rng.integers(2)) % 2 * 0.4 + 0.2,
                                      (12, 12))
            x[i] = np.stack([stripes * 0.5, stripes, stripes + 0.3], -1)
        else:
            x[i] = rng.uniform(0.3, 0.7, (12, 12, 1))
    return np.clip(x + rng.normal(0, 0.03, x.shape), 0, 1).astype("float32"), y


def test_spatial_statistics_are_each_channels_mean_and_spread_wherever_the_pixels_are():
    from vae_apps.models.semi_supervised import SpatialStatistics

    rng = np.random.default_rng(0)
    x = rng.random((2, 6, 5, 3)).astype("float32")
    out = keras.ops.convert_to_numpy(SpatialStatistics()(x))
    np.testing.assert_allclose(out[:, :3], x.mean(axis=(1, 2)), atol=1e-6)
    np.testing.assert_allclose(out[:, 3:], x.std(axis=(1, 2)), atol=1e-4)
    shuffled = x.reshape(2, 30, 3)[:, rng.permutation(30)].reshape(2, 6, 5, 3)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(SpatialStatistics()(shuffled)), out,
                               atol=1e-5)


def test_an_unknown_pooling_is_refused():
    from vae_apps.models.semi_supervised import build_classifier

    with pytest.raises(ValueError, match="pooling"):
        build_classifier((8, 8, 1), 3, pooling="max")


def test_colour_images_get_the_position_free_classifier_and_it_labels_by_texture(tmp_path):
    from vae_apps.labelling.pipeline import neighbour_features

    x, y = _photo_like()
    given = np.full(len(y), -1)
    given[[np.flatnonzero(y == k)[j] for k in range(3) for j in range(4)]] = np.repeat(range(3), 4)
    path = tmp_path / "photo.keras"
    result = train_semi_supervised(x, given, epochs=30, batch_size=60, labelled_per_batch=6,
                                   learning_rate=3e-3, seed=0, out=path, verbose=0, **TINY)
    model = result.model
    assert (model.pooling, model.consistency) == ("statistics", 0.0)
    assert np.mean(model.predict_proba(x).argmax(axis=1) == y) >= 0.95
    # the smoothing graph is what the classifier compares images by, not their pixels
    np.testing.assert_array_equal(neighbour_features(x, model=model), model.classifier_features(x))
    # the confidence: q(label|x) tempered by the neighbours' vote for it, 1 where given
    from vae_apps.labelling.label_csv import GivenLabels
    from vae_apps.labelling.pipeline import recover_dataset_labels

    rows = np.flatnonzero(given >= 0)
    recovered = recover_dataset_labels(x, GivenLabels("index", rows, given[rows].astype(str).astype(object)),
                                       model=model)
    from vae_apps.labelling.recovery import smooth_over_neighbours

    proba = model.predict_proba(x)
    votes = smooth_over_neighbours(model.classifier_features(x), proba, rows, given[rows])
    chosen = recovered.labels.astype(int)
    free = np.setdiff1d(np.arange(len(x)), rows)
    assert np.all(recovered.confidence[rows] == 1.0)
    np.testing.assert_allclose(recovered.confidence[free],
                               np.sqrt(proba[free, chosen[free]] * votes[free, chosen[free]]),
                               rtol=1e-5)
    assert np.mean(recovered.labels.astype(int) == y) >= 0.95
    loaded = load_vae(path)
    assert loaded.pooling == "statistics"
    np.testing.assert_allclose(loaded.predict_proba(x), model.predict_proba(x), atol=1e-6)
    # grey images keep the flattened features, and a given choice wins
    grey = train_semi_supervised(x[..., :1], given, epochs=1, batch_size=60, labelled_per_batch=6,
                                 verbose=0, **TINY).model
    assert (grey.pooling, grey.consistency) == ("flatten", 10.0)
    # a grey set counted as large trains without the consistency term
    grey = train_semi_supervised(x[..., :1], given, epochs=1, batch_size=60, labelled_per_batch=6,
                                 verbose=0, config=LabellerConfig(small_grey_set=len(x)),
                                 **TINY).model
    assert (grey.pooling, grey.consistency) == ("flatten", 0.0)
    chosen = train_semi_supervised(x, given, epochs=1, batch_size=60, labelled_per_batch=6,
                                   verbose=0, pooling="flatten", **TINY).model
    assert (chosen.pooling, chosen.consistency) == ("flatten", 0.0)
