"""The semi-supervised VAE: Kingma et al.'s M2, trained on a few labels and many images.

The class y is a second latent variable next to z: a classifier q(y|x), an encoder
q(z|x, y) and a decoder p(x|y, z). A labelled image contributes the ELBO of
(x, y) and ``alpha`` times the classifier's cross-entropy; for an unlabelled image
y is summed out, each class's ELBO weighted by q(y|x), plus the entropy of q(y|x).
A pseudo-label term (FixMatch) trains q(y|x) on strongly augmented copies of the
images it is sure of; an optional consistency term makes it agree with itself on
slightly shifted images (on for small grey sets, where it helps; docs/labelling.md); a balance
term keeps the share of each class among the unlabelled predictions near the class
prior (without it, 2 labels per class could put most images in one class). MNIST, 100 labels,
3 seeds: 1.42 % test error once ``vae-apps label`` smooths q(y|x) over each image's neighbours
where it is unsure, 1.55 % from q(y|x) alone (Kingma et al.'s M2: 11.97 %, M1+M2: 3.33 %; ADGM:
0.96 %; docs/labelling.md); 600 labels, 2 seeds: 0.84 % (M1+M2: 2.59 %).
Because p(x|y, z) separates class from style, the model also draws a chosen class
and renders the style of one image as every class.
"""

import math

import keras
import numpy as np
from keras import layers, ops

from vae_apps.hardware import building_in
from vae_apps.models.base import BaseVAE, in_batches, kl_divergence
from vae_apps.models.networks import build_decoder


POOLINGS = ("flatten", "statistics")


def build_classifier(image_shape, n_classes, filters=(32, 64), hidden_units=(256,),
                     dropout=0.3, pooling="flatten", name="classifier"):
    """Return ``image -> class logits``: q(y|x) before its softmax.

    Args:
        image_shape: (int, int, int). (height, width, channels).
        n_classes: int. Number of classes.
        filters: tuple of int. One 3x3 convolution and one stride-2 3x3 convolution
            per width.
        hidden_units: tuple of int. Dense widths after the convolutions, each after
            dropout.
        dropout: float. The dropout rate.
        pooling: str. ``"flatten"``: the dense layers see where each feature is (digits,
            aligned faces); ``"statistics"``: they see each feature's and each colour
            channel's mean and standard deviation over the image, not where (photo
            crops, whose class is in colours and textures anywhere in the frame).
        name: str. The model's name.

    Examples:
    >>> classifier = build_classifier((28, 28, 1), n_classes=10)
    >>> proba = keras.ops.softmax(classifier(x))
    """
    inputs = keras.Input(shape=tuple(image_shape), name="image")
    h = inputs
    for f in filters:
        h = layers.Conv2D(f, 3, padding="same", activation="relu")(h)
        h = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu")(h)
    if pooling == "flatten":
        h = layers.Flatten()(h)
    elif pooling == "statistics":
        h = layers.Concatenate()([SpatialStatistics()(h), SpatialStatistics()(inputs)])
    else:
        raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
    for units in hidden_units:
        h = layers.Dropout(dropout)(h)
        h = layers.Dense(units, activation="relu")(h)
    h = layers.Dropout(dropout)(h)
    return keras.Model(inputs, layers.Dense(n_classes, name="logits")(h), name=name)


@keras.saving.register_keras_serializable(package="vae_apps")
class SpatialStatistics(layers.Layer):
    """Each channel's mean and standard deviation over the image: (batch, 2 * channels).

    Examples:
    >>> SpatialStatistics()(keras.ops.ones((2, 8, 8, 3))).shape
    (2, 6)
    """

    def call(self, x):
        x = ops.cast(x, "float32")
        mean = ops.mean(x, axis=(1, 2))
        std = ops.sqrt(ops.var(x, axis=(1, 2)) + 1e-6)
        return ops.cast(ops.concatenate([mean, std], axis=-1), self.compute_dtype)


def build_conditional_encoder(image_shape, n_classes, latent_dim, filters=(32, 64),
                              hidden_units=(256,), name="encoder"):
    """Return ``(features, head)``: ``image -> features`` and ``[features, one-hot class]
    -> (z_mean, z_log_var)``, together q(z|x, y).

    The image's features are computed once per image; only the dense head sees the
    class, so summing over classes repeats the cheap part only.

    Args:
        image_shape: (int, int, int). (height, width, channels).
        n_classes: int. Number of classes.
        latent_dim: int. Size of z.
        filters: tuple of int. One stride-2 3x3 convolution per width.
        hidden_units: tuple of int. Dense widths of the head.
        name: str. Prefix of the two models' names.

    Examples:
    >>> features, head = build_conditional_encoder((28, 28, 1), 10, latent_dim=32)
    >>> z_mean, z_log_var = head([features(x), keras.ops.one_hot(y, 10)])
    """
    inputs = keras.Input(shape=tuple(image_shape), name="image")
    h = inputs
    for f in filters:
        h = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu")(h)
    features = keras.Model(inputs, layers.Flatten()(h), name=f"{name}_features")
    feature_in = keras.Input(shape=features.output.shape[1:], name="features")
    label_in = keras.Input(shape=(n_classes,), name="class")
    h = layers.Concatenate()([feature_in, label_in])
    for units in hidden_units:
        h = layers.Dense(units, activation="relu")(h)
    head = keras.Model([feature_in, label_in],
                       [layers.Dense(latent_dim, dtype="float32", name="z_mean")(h),
                        layers.Dense(latent_dim, dtype="float32", name="z_log_var")(h)],
                       name=f"{name}_head")
    return features, head


def build_strong_augmentation(channels, shift, cutout, seed=None):
    """Return the strong augmentation of the pseudo-label term: a shift of up to
    twice ``shift``, contrast and brightness changes (and saturation for colour), and
    a grey square of ``cutout`` times the image side at a random place (FixMatch's
    recipe, Sohn et al. 2020, without the changes of hue that would change the class of
    a photo crop). Images in [0, 1].

    Args:
        channels: int. 1 (grey) or 3 (colour).
        shift: float. The weak augmentation's largest shift (a fraction of the size).
        cutout: float. The grey square's side as a fraction of the image's (0: none).
        seed: int or None. Seeds every random layer.

    Examples:
    >>> strong = build_strong_augmentation(3, shift=0.1, cutout=0.5, seed=0)
    >>> views = strong(images, training=True)
    """
    seed = 0 if seed is None else int(seed)
    steps = [layers.RandomTranslation(2 * shift, 2 * shift, fill_mode="constant", seed=seed),
             layers.RandomContrast(0.5, value_range=(0, 1), seed=seed + 1),
             layers.RandomBrightness(0.2, value_range=(0, 1), seed=seed + 2)]
    if channels == 3:
        steps.append(layers.RandomSaturation(0.5, value_range=(0, 1), seed=seed + 3))
    if cutout:
        steps.append(Cutout(cutout, seed=seed + 4))
    return keras.Sequential(steps, name="strong_augmentation")


@keras.saving.register_keras_serializable(package="vae_apps")
class Cutout(layers.Layer):
    """A grey (0.5) square of ``size`` times the image's side at a random place in each
    image, while training (DeVries and Taylor 2017).

    Examples:
    >>> Cutout(0.5, seed=0)(images, training=True)
    """

    def __init__(self, size=0.5, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.size, self.seed = float(size), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=False):
        if not training:
            return images
        n, height, width = ops.shape(images)[0], ops.shape(images)[1], ops.shape(images)[2]
        centres = keras.random.uniform((n, 2), seed=self.seed_generator)
        rows = ops.cast(ops.arange(height), "float32")[None, :, None] / ops.cast(height, "float32")
        cols = ops.cast(ops.arange(width), "float32")[None, None, :] / ops.cast(width, "float32")
        inside = ops.logical_and(ops.abs(rows - centres[:, 0, None, None]) < self.size / 2,
                                 ops.abs(cols - centres[:, 1, None, None]) < self.size / 2)
        return ops.where(inside[..., None], ops.cast(0.5, images.dtype), images)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "seed": self.seed}


@keras.saving.register_keras_serializable(package="vae_apps")
class SemiSupervisedVAE(BaseVAE):
    """M2 (Kingma et al. 2014): labels y = -1 mark unlabelled images.

    Args:
        image_shape: (int, int, int). (height, width, channels) of the images, values in [0, 1].
        n_classes: int. Number of classes; labels are 0 .. n_classes - 1, -1 unlabelled.
        latent_dim: int. Size of the style code z.
        architecture: str. The decoder's, ``"dense"`` or ``"conv"`` (``vae_apps.models.networks``).
            Dense: it decodes every image once per class, and on MNIST a conv decoder
            made a step 7x slower (686 vs 90 ms in bfloat16 for 132 images); on digits
            both recover the same labels (93.5 vs 94.1 %, 2 seeds, within seed noise).
        filters: tuple of int. Convolution widths of the classifier, encoder and decoder.
        hidden_units: tuple of int. Dense widths of the encoder head and the decoder.
        classifier_units: tuple of int. Dense widths of the classifier.
        pooling: str. How the classifier's dense layers see its convolutions
            (``build_classifier``): ``"flatten"`` (where each feature is) or
            ``"statistics"`` (each feature's mean and spread over the image, position-free).
        alpha: float. Weight of the labelled images' classification loss (per labelled image,
            relative to one image's ELBO in nats).
        consistency: float. Weight of the shifted-image agreement term (0: off). A third
            classifier pass: a step about a third longer (MNIST, 132 images: 99 against
            68 ms). ``train_semi_supervised`` turns it on for small grey sets, where it helps
            (``LabellerConfig.small_grey_model``).
        shift: float. The largest shift of that term, as a fraction of the image size.
        pseudo_labels: float. Weight of the pseudo-label term (FixMatch, Sohn et al. 2020):
            where q(y|x) of an unlabelled image reaches ``threshold``, its most likely
            class is the target of q(y | strongly augmented x) (cross-entropy; 0: off).
            Digits, 36 stratified labels, seeds 0-2 (benchmarks/experiments/label_ablation.py): the
            default path 92.6 % without it, 95.8 % at 50 (q(y|x) alone 90.7 -> 95.5 %).
        threshold: float. The confidence from which an image is its own label.
        cutout: float. The strong augmentation's grey square, a fraction of the side.
        likely_classes: int. Training sums an unlabelled image's ELBO over its this many
            most likely classes only (0: over all, M2's sum; ``labelled_losses``). Digits
            with the pseudo-label term, seeds 0 and 1: 2 classes, 96.9 / 95.1 % in 88 s a
            training; all 10, 96.9 / 95.2 % in 112-122 s.
        balance: float. Weight of KL(mean q(y|x) over a batch's unlabelled images || the
            class prior): it stops the classifier from settling on a split that puts most
            images in one class (benchmarks/label.py, 5 seeds: faces, 4 labels, 78.9 +- 11.9 %
            without it, 89.4 +- 6.8 % at 20; digits, 36 labels, 93.4 +- 1.4 -> 93.6 +- 1.1 %,
            worst seed 91.4 -> 92.8 %; at 100, faces 87.7 +- 9.5 %).
        class_prior: list of float or None. The expected share of each class (normalised;
            default: equal shares). ``train_semi_supervised`` passes the given labels' shares.
        class_names: list of str or None. The label (a string) of each class index, kept in the saved
            file (default: "0", "1", ...).
        **kwargs: the likelihood, beta, K samples, KL warm-up and seed of ``BaseVAE``.

    ``fit`` takes ``(x, y)`` with integer ``y`` (-1: unlabelled), usually from
    ``vae_apps.labelling.train.train_semi_supervised``, which puts labelled images in
    every batch.

    Examples:
    >>> model = SemiSupervisedVAE(image_shape=(28, 28, 1), n_classes=10)
    >>> model.compile(keras.optimizers.Adam(1e-3))
    >>> model.fit(dataset_of_x_and_y, epochs=10)
    >>> model.predict_proba(x)                       # q(y|x), shape (n, 10)
    >>> model.generate(classes=[7] * 8, seed=0)      # eight sevens
    """

    def __init__(self, image_shape, n_classes, latent_dim=16, architecture="dense", filters=(32, 64),
                 hidden_units=(256,), classifier_units=(256,), pooling="flatten", alpha=50.0,
                 consistency=0.0,
                 shift=0.1, pseudo_labels=50.0, threshold=0.95, cutout=0.5, likely_classes=2,
                 balance=20.0,
                 class_prior=None, class_names=None, **kwargs):
        super().__init__(**kwargs)
        if int(n_classes) < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        self.image_shape = tuple(int(s) for s in image_shape)
        self.n_classes = int(n_classes)
        self.latent_dim = int(latent_dim)
        self.filters = tuple(int(f) for f in filters)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.classifier_units = tuple(int(u) for u in classifier_units)
        self.pooling = str(pooling)
        self.alpha = float(alpha)
        self.consistency = float(consistency)
        self.shift = float(shift)
        self.pseudo_labels = float(pseudo_labels)
        self.threshold = float(threshold)
        self.cutout = float(cutout)
        self.likely_classes = int(likely_classes)
        self.balance = float(balance)
        if class_prior is not None and (len(class_prior) != self.n_classes
                                        or min(class_prior) <= 0):
            raise ValueError(f"class_prior needs {self.n_classes} positive shares, got {class_prior}")
        self.class_prior = (None if class_prior is None
                            else [float(p) / sum(class_prior) for p in class_prior])
        self.class_names = ([str(c) for c in class_names] if class_names is not None
                            else [str(k) for k in range(self.n_classes)])
        if len(self.class_names) != self.n_classes:
            raise ValueError(f"{len(self.class_names)} class_names for {self.n_classes} classes")
        self.architecture = architecture
        # The networks compute in the model's dtype policy ("mixed_bfloat16": 1.6x faster
        # training on an AMX CPU, dense decoder on MNIST); the losses are float32.
        with building_in(self.dtype_policy):
            self.classifier = build_classifier(self.image_shape, self.n_classes, self.filters,
                                               self.classifier_units, pooling=self.pooling)
            self.features, self.encoder_head = build_conditional_encoder(
                self.image_shape, self.n_classes, self.latent_dim, self.filters,
                self.hidden_units)
            self.decoder = build_decoder(self.image_shape, self.latent_dim + self.n_classes,
                                         architecture=architecture, filters=self.filters,
                                         hidden_units=self.hidden_units)
        self.shifter = layers.RandomTranslation(self.shift, self.shift, fill_mode="constant",
                                                seed=self.seed)
        self.strong = build_strong_augmentation(self.image_shape[-1], self.shift, self.cutout,
                                                self.seed)
        self.classification_tracker = keras.metrics.Mean(name="classification_loss")
        self.build((None, *self.image_shape))

    @property
    def metrics(self):
        return [*super().metrics, self.classification_tracker]

    def call(self, inputs, training=False):
        return self.classifier(inputs, training=training)

    # -- the objective ------------------------------------------------------------------

    def _class_terms(self, x, classes, training):
        """(nll, kl) of shape (batch, k): the ELBO terms of each image with each of its
        ``classes`` (batch, k) of class indices."""
        c, k = self.n_classes, ops.shape(classes)[1]
        features = self.features(x, training=training)
        onehots = ops.one_hot(ops.reshape(classes, (-1,)), c)
        z_mean, z_log_var = self.encoder_head(
            [ops.repeat(features, k, axis=0), onehots], training=training)
        z = self.sampling(z_mean, z_log_var)
        params = self.decoder(ops.concatenate([z, onehots], axis=-1), training=training)
        nll = self.negative_log_likelihood(ops.repeat(x, k, axis=0), params)
        kl = kl_divergence(z_mean, z_log_var)
        return ops.reshape(nll, (-1, k)), ops.reshape(kl, (-1, k))

    def _every_class(self, x, training):
        """(nll, kl) of shape (batch, n_classes): the ELBO terms of x with each class."""
        every = ops.tile(ops.arange(self.n_classes)[None], (ops.shape(x)[0], 1))
        return self._class_terms(x, every, training)

    def compute_losses(self, x_input, x_target=None, training=False):
        """Per-image (reconstruction NLL, KL) of the ELBO of -log p(x), y summed out."""
        nll, kl, _ = self.labelled_losses(x_input, training=training)
        return nll, kl

    def labelled_losses(self, x_input, training=False, y=None, likely_classes=0):
        """Per-image (reconstruction NLL, KL, class logits): the ELBO terms of
        -log p(x, y) for labelled rows (``y >= 0``) and -log p(x) for the others.

        The KL holds z's KL and, for unlabelled images, KL(q(y|x) || uniform). With
        ``likely_classes`` k (0 < k < n_classes), an unlabelled image's ELBO is summed
        over its k most likely classes only, weighted by q(y|x) renormalised over them;
        a labelled image's is its class's (the decoder runs k times per image, not
        n_classes times).
        """
        x = ops.convert_to_tensor(x_input)
        logits = ops.cast(self.classifier(x, training=training), "float32")
        proba = ops.softmax(logits)
        labelled = (ops.zeros_like(logits[:, 0]) if y is None else ops.cast(y >= 0, "float32"))
        onehot = (ops.zeros_like(logits) if y is None
                  else ops.one_hot(ops.maximum(y, 0), self.n_classes) * labelled[:, None])
        unlabelled = (1.0 - labelled)[:, None]
        k = int(likely_classes)
        if 0 < k < self.n_classes:
            # a labelled image's class first; the rest by q(y|x), which sums to 1 < 1e4
            classes = ops.top_k(ops.stop_gradient(proba) + 1e4 * onehot, k)[1]
            nll, kl = self._class_terms(x, classes, training)
            chosen = ops.take_along_axis(proba, classes, axis=1)
            weights = (labelled[:, None] * ops.one_hot(ops.zeros_like(classes[:, 0]), k)
                       + unlabelled * chosen / ops.sum(chosen, axis=1, keepdims=True))
        else:
            nll, kl = self._every_class(x, training)
            weights = onehot + unlabelled * proba
        kl_y = ops.sum(proba * ops.log_softmax(logits), axis=-1) + math.log(self.n_classes)
        return (ops.sum(weights * nll, axis=-1),
                ops.sum(weights * kl, axis=-1) + (1.0 - labelled) * kl_y, logits)

    def _classification_loss(self, logits, y):
        labelled = ops.cast(y >= 0, "float32")
        ce = ops.sparse_categorical_crossentropy(ops.maximum(y, 0), logits, from_logits=True)
        return ops.sum(ce * labelled) / ops.maximum(ops.sum(labelled), 1.0)

    def _balance_loss(self, logits, y):
        """KL(mean q(y|x) over the batch's unlabelled images || the class prior)."""
        unlabelled = ops.cast(y < 0, "float32")[:, None]
        mean = ops.sum(unlabelled * ops.softmax(logits), axis=0) / ops.maximum(
            ops.sum(unlabelled), 1.0)
        prior = (ops.convert_to_tensor(self.class_prior, "float32") if self.class_prior
                 else ops.full((self.n_classes,), 1.0 / self.n_classes))
        return ops.sum(mean * (ops.log(mean + 1e-8) - ops.log(prior)))

    def _pseudo_label_loss(self, x, logits, y):
        """Cross-entropy of q(y | strongly augmented x) against the most likely class of
        q(y|x), over the batch's unlabelled images where q(y|x) >= ``threshold``."""
        proba = ops.stop_gradient(ops.softmax(logits))
        confident = ops.cast(ops.logical_and(ops.max(proba, axis=-1) >= self.threshold, y < 0),
                             "float32")
        strong = ops.cast(self.classifier(self.strong(x, training=True), training=True), "float32")
        ce = ops.sparse_categorical_crossentropy(ops.argmax(proba, axis=-1), strong,
                                                 from_logits=True)
        # FixMatch's mean over all unlabelled images: the term grows as confidence spreads
        return ops.sum(confident * ce) / ops.maximum(ops.sum(ops.cast(y < 0, "float32")), 1.0)

    @staticmethod
    def _unpack_labels(data):
        if isinstance(data, (tuple, list)) and len(data) > 1 and data[1] is not None:
            return data[0], ops.cast(data[1], "int32")
        x = data[0] if isinstance(data, (tuple, list)) else data
        return x, None

    # The best epoch is kept by the ELBO alone: the pseudo-label term grows as the
    # classifier's confidence spreads, so the total would favour early epochs.
    extra_terms_in_reported_loss = False

    def loss_terms(self, data, training=False):
        """The ELBO of -log p(x, y) (labelled rows) or -log p(x) (the others), and the terms
        outside it: the labelled rows' classification (``alpha``), and in training the
        shifted-image consistency, the pseudo-labels and the class balance, each with its
        weight (0: off)."""
        x, y = self._unpack_labels(data)
        if y is None:
            y = -ops.ones((ops.shape(x)[0],), "int32")
        nll, kl, logits = self.labelled_losses(
            x, training=training, y=y, likely_classes=self.likely_classes if training else 0)
        extra = {"classification": (self.alpha, self._classification_loss(logits, y))}
        if not training:
            return nll, kl, extra
        if self.consistency:
            target = ops.stop_gradient(ops.softmax(logits))
            shifted = ops.cast(self.classifier(self.shifter(x, training=True), training=True),
                               "float32")
            # KL(target || q(y | shifted x)) per image.
            agreement = ops.sum(target * (ops.log(target + 1e-8) - ops.log_softmax(shifted)),
                                axis=-1)
            extra["consistency"] = (self.consistency, ops.mean(agreement))
        if self.pseudo_labels:
            extra["pseudo_label"] = (self.pseudo_labels, self._pseudo_label_loss(x, logits, y))
        if self.balance:
            extra["balance"] = (self.balance, self._balance_loss(logits, y))
        return nll, kl, extra

    # -- inference on NumPy arrays ------------------------------------------------------

    def predict_proba(self, x, batch_size=256):
        """q(y|x) for every image: float32 of shape (n, n_classes)."""
        logits = in_batches(self.classifier.predict_on_batch, np.asarray(x, "float32"),
                            batch_size, empty=np.zeros((0, self.n_classes), "float32"))
        if not len(logits):
            return logits
        logits = logits.astype("float64")
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return (p / p.sum(axis=1, keepdims=True)).astype("float32")

    @property
    def position_free(self):
        """Whether q(y|x) sees its features' statistics over the image, not where they are."""
        return self.pooling == "statistics"

    def classifier_features(self, x, batch_size=256):
        """What q(y|x)'s last layer sees: float32 (n, classifier_units[-1]), the images as
        the classifier compares them."""
        hidden = keras.Model(self.classifier.input, self.classifier.get_layer("logits").input)
        features = in_batches(hidden.predict_on_batch, np.asarray(x, "float32"), batch_size,
                              empty=np.zeros((0, hidden.output.shape[-1]), "float32"))
        return features.astype("float32")

    def encode(self, x, classes=None, batch_size=256):
        """``(z_mean, z_log_var)`` of q(z|x, y) with y = ``classes`` (default: the most
        likely class of each image): the style of each image, class removed."""
        x = np.asarray(x, "float32")
        if classes is None:
            classes = self.predict_proba(x, batch_size).argmax(axis=1)
        onehot = np.eye(self.n_classes, dtype="float32")[np.asarray(classes, int)]
        return in_batches(
            lambda images, onehots: self.encoder_head.predict_on_batch(
                [self.features.predict_on_batch(images), onehots]),
            (x, onehot), batch_size, empty=(np.zeros((0, self.latent_dim), "float32"),) * 2)

    def decode(self, z, classes, batch_size=256):
        """The mean image of p(x | y = ``classes``, z), float32 in [0, 1]."""
        z = np.asarray(z, "float32")
        onehot = np.eye(self.n_classes, dtype="float32")[np.asarray(classes, int)]
        inputs = np.concatenate([z, onehot], axis=1)
        return self._mean(in_batches(self.decoder.predict_on_batch, inputs, batch_size,
                                     empty=np.zeros((0, *self.image_shape), "float32")))

    def reconstruct(self, x, batch_size=256):
        """Decode each image's style code with its most likely class."""
        classes = self.predict_proba(x, batch_size).argmax(axis=1)
        return self.decode(self.encode(x, classes, batch_size)[0], classes, batch_size)

    def class_index(self, name):
        """The index of the class called ``name`` (a class name or an index as text)."""
        name = str(name)
        if name in self.class_names:
            return self.class_names.index(name)
        raise ValueError(f"no class {name!r}; the classes are {', '.join(self.class_names)}")

    def generate(self, classes, seed=None, temperature=1.0):
        """One image of each class index in ``classes``, styles drawn from the prior."""
        classes = np.asarray(classes, int)
        z = np.random.default_rng(seed).normal(size=(len(classes), self.latent_dim))
        return self.decode(temperature * z, classes)

    def analogies(self, x):
        """Each image's style rendered as every class: (n_images, n_classes, H, W, C)."""
        z = self.encode(x)[0]
        c = self.n_classes
        images = self.decode(np.repeat(z, c, axis=0), np.tile(np.arange(c), len(z)))
        return images.reshape(len(z), c, *self.image_shape)

    def sample(self, n, seed=None, temperature=1.0):
        """``n`` images of classes drawn uniformly, styles from the prior."""
        classes = np.random.default_rng(seed).integers(self.n_classes, size=n)
        return self.generate(classes, seed, temperature)

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape, "n_classes": self.n_classes,
            "latent_dim": self.latent_dim, "architecture": self.architecture,
            "filters": self.filters,
            "hidden_units": self.hidden_units, "classifier_units": self.classifier_units,
            "pooling": self.pooling,
            "alpha": self.alpha, "consistency": self.consistency, "shift": self.shift,
            "pseudo_labels": self.pseudo_labels, "threshold": self.threshold,
            "cutout": self.cutout, "likely_classes": self.likely_classes,
            "balance": self.balance, "class_prior": self.class_prior,
            "class_names": self.class_names,
        }
