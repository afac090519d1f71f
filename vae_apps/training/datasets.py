"""``tf.data`` pipelines for training: shuffled batches, corrupted pairs, labelled batches,
random patches of images of any sizes."""

import logging

import numpy as np

from vae_apps.io.images import TURNS, describe_image_error, read_image, to_shape, turned

log = logging.getLogger("vae_apps")


def make_dataset(x, batch_size=128, shuffle=True, seed=0, noise=None, binarize=False,
                 repeat=False):
    """A ``tf.data`` pipeline over images ``x``: shuffle, batch, corrupt, prefetch.

    Binarisation (each pixel ~ Bernoulli(grey level)) and noise are drawn afresh for
    every batch and every epoch, from seeds derived from ``seed``, inside the graph.
    With ``noise`` the pipeline yields (noisy input, clean target) pairs.

    Args:
        x: np.ndarray. float32 images (N, H, W, C) in [0, 1].
        batch_size: int. Images per batch.
        shuffle: bool. A new seeded order every epoch.
        seed: int. Seeds the order, the binarisation and the noise.
        noise: Noise or None. A ``vae_apps.denoising.noise.Noise``: yield (noisy, clean) pairs.
        binarize: bool. Draw each pixel as Bernoulli(grey level) in every batch.
        repeat: bool. One endless stream of shuffled epochs (train with
            ``steps_per_epoch`` = ``ceil(len(x) / batch_size)``): Keras then keeps one
            iterator for the whole training. A fresh iterator per epoch held the first
            step of some epochs for 17-19 s on MNIST (an epoch trains in 21 s; 4 of 8
            epoch starts, TensorFlow 2.21, 2 cores); with one iterator, none of 8.

    Examples:
    >>> ds = make_dataset(x_train, batch_size=128, noise=parse_noise("gaussian:0.5"))
    >>> model.fit(ds, epochs=5)
    """
    import tensorflow as tf

    images = tf.constant(np.asarray(x, "float32"))
    if shuffle:
        rows = shuffled_rows(len(x), batch_size, seed, repeat)
    else:
        rows = tf.data.Dataset.range(len(x)).batch(batch_size)
        rows = rows.repeat() if repeat else rows
    ds = rows.map(lambda index: tf.gather(images, index))
    if noise is None and not binarize:
        return ds.prefetch(tf.data.AUTOTUNE)
    return corrupt_batches(ds, seed, noise, binarize)


def shuffled_rows(n, batch_size, seed, repeat=False):
    """Batches of row indices in ``range(n)``, a new seeded permutation every epoch
    (``tf.random.experimental.index_shuffle``: no shuffle buffer holding a second copy
    of the images).

    Args:
        n: int. Rows to permute.
        batch_size: int. Indices per batch.
        seed: int. Same seed, same permutations.
        repeat: bool. Endless (one permutation after another); else one epoch.

    Examples:
    >>> rows = shuffled_rows(60000, 128, seed=0, repeat=True)
    >>> batches = rows.map(lambda index: tf.gather(images, index))  # doctest: +SKIP
    """
    import tensorflow as tf

    def epoch(epoch_seed):
        key = tf.stack([epoch_seed, tf.constant(seed, tf.int64)])
        return tf.data.Dataset.range(n).batch(batch_size).map(
            lambda index: tf.random.experimental.index_shuffle(index, key, max(n - 1, 0)))

    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    return (seeds if repeat else seeds.take(1)).flat_map(epoch)


def make_labelled_dataset(x, y, batch_size=100, labelled_per_batch=32, seed=0):
    """``(x, y)`` batches for semi-supervised training (``y == -1``: unlabelled).

    Each batch is ``batch_size`` images of the whole set (shuffled; their labels
    kept where given) plus ``labelled_per_batch`` labelled images drawn afresh from
    the few labelled ones, so every step sees labels even at 100 in 70,000. One
    epoch is one pass over ``x``.

    Args:
        x: float32 images (N, H, W, C) in [0, 1].
        y: integer labels (N,), -1 for unlabelled.
        batch_size: int. Images of the whole set per batch.
        labelled_per_batch: int. Labelled images added to each batch (0: none added).
        seed: int. Seeds both shuffles.

    Examples:
    >>> ds = make_labelled_dataset(x, y, batch_size=100, labelled_per_batch=32, seed=0)
    >>> model.fit(ds, epochs=10)
    """
    import tensorflow as tf

    x = np.asarray(x, "float32")
    y = np.asarray(y, "int32")
    labelled = np.flatnonzero(y >= 0)
    everything = (tf.data.Dataset.from_tensor_slices((x, y))
                  .shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(batch_size))
    if not len(labelled) or not labelled_per_batch:
        return everything.prefetch(tf.data.AUTOTUNE)
    extra = (tf.data.Dataset.from_tensor_slices((x[labelled], y[labelled]))
             .shuffle(len(labelled), seed=seed + 1, reshuffle_each_iteration=True).repeat()
             .batch(labelled_per_batch))
    ds = tf.data.Dataset.zip(everything, extra).map(
        lambda a, b: (tf.concat([a[0], b[0]], 0), tf.concat([a[1], b[1]], 0)))
    return ds.prefetch(tf.data.AUTOTUNE)


def corrupt_batches(ds, seed, noise=None, binarize=False):
    """Binarise and/or corrupt every batch of ``ds`` from seeds drawn afresh each epoch.

    Args:
        ds: tf.data.Dataset. Batches of float32 images in [0, 1].
        seed: int. Seeds the per-batch seeds.
        noise: Noise or None. A ``vae_apps.denoising.noise.Noise``: yield (noisy input, clean
            target) pairs.
        binarize: bool. Draw each pixel as Bernoulli(grey level).

    Examples:
    >>> pairs = corrupt_batches(batches, seed=0, noise=parse_noise("mask:0.3"))
    """
    import tensorflow as tf

    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

    def corrupt(batch, pair_seed):
        if binarize:
            u = tf.random.stateless_uniform(tf.shape(batch), pair_seed)
            batch = tf.cast(u < batch, tf.float32)
        if noise is None:
            return batch
        return noise(batch, tf.random.experimental.stateless_fold_in(pair_seed, 1)), batch

    ds = tf.data.Dataset.zip(ds, seeds).map(corrupt, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def draw_patches(pixels, patch_size, count, rng):
    """``count`` random ``patch_size`` crops of one H x W x C image, each turned by a
    random multiple of 90 degrees and maybe mirrored (8 variants, all equally likely).

    Images smaller than a patch are padded by reflection first.

    Args:
        pixels: np.ndarray. One image (H, W, C).
        patch_size: int. Side of the square crops.
        count: int. Crops to draw.
        rng: np.random.Generator. Draws the places and the turns.

    Examples:
    >>> patches = list(draw_patches(photo, 64, 16, np.random.default_rng(0)))
    """
    height, width = pixels.shape[:2]
    pad_h, pad_w = max(patch_size - height, 0), max(patch_size - width, 0)
    if pad_h or pad_w:
        pixels = np.pad(pixels, ((0, pad_h), (0, pad_w), (0, 0)), mode="symmetric")
        height, width = pixels.shape[:2]
    tops = rng.integers(0, height - patch_size + 1, count)
    lefts = rng.integers(0, width - patch_size + 1, count)
    variants = rng.integers(0, TURNS, count)
    for top, left, variant in zip(tops, lefts, variants):
        yield np.ascontiguousarray(turned(pixels[top:top + patch_size, left:left + patch_size],
                                          variant))


def augment_colours(patch, seed):
    """A random change of colours, on half of the patches: a channel permutation, a hue
    rotation, a saturation factor of 0.5-2 and an exposure change (gain 0.7-1.3,
    gamma 0.75-1.35), so that no hue or saturation is rare in training.

    Args:
        patch: tf.Tensor. One float32 colour patch (H, W, 3) in [0, 1].
        seed: tf.Tensor. A stateless seed, shape (2,).

    Examples:
    >>> varied = augment_colours(patch, tf.constant([0, 1]))
    """
    import tensorflow as tf

    fold = tf.random.experimental.stateless_fold_in
    u = tf.random.stateless_uniform((5,), fold(seed, 0))
    orders = tf.constant([[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]])
    varied = tf.gather(patch, orders[tf.cast(u[0] * 6, tf.int32) % 6], axis=-1)
    varied = tf.image.stateless_random_hue(varied, 0.5, fold(seed, 1))
    varied = tf.image.stateless_random_saturation(varied, 0.5, 2.0, fold(seed, 2))
    varied = tf.clip_by_value(varied, 0.0, 1.0) ** (0.75 + 0.6 * u[1]) * (0.7 + 0.6 * u[2])
    return tf.where(u[3] < 0.5, tf.clip_by_value(varied, 0.0, 1.0), patch)


def make_patch_dataset(images, patch_size, channels, patches_per_image=64, batch_size=32,
                       noise=None, seed=0, shuffle_buffer=4096, colour_augmentation=False):
    """A ``tf.data`` pipeline of random patches from images of any sizes.

    Args:
        images: list. A list of image files (read one at a time, so a folder of large
            photos is never all in memory) or of H x W x C arrays in [0, 1].
        patch_size: int. Side of the square patches.
        channels: int. 1 or 3; colour images are turned grey (luma) or grey ones
            repeated to match.
        patches_per_image: int. Crops drawn from each image per epoch.
        batch_size: int. Patches per batch.
        noise: Noise or None. A ``vae_apps.denoising.noise.Noise``: yield (noisy, clean) pairs.
        seed: int. The crops, turns, shuffling and noise of epoch e come from (seed, e).
        shuffle_buffer: int. Patches mixed across images before batching.
        colour_augmentation: bool. Vary the colours of colour patches (``augment_colours``).

    Examples:
    >>> ds = make_patch_dataset(["a.jpg", "b.png"], 64, channels=1,
    ...                         noise=parse_noise("gaussian:0.02-0.2"))
    """
    import tensorflow as tf

    epoch, unreadable = [0], set()

    def generate():
        rng = np.random.default_rng([seed, epoch[0]])
        epoch[0] += 1
        for index in rng.permutation(len(images)):
            pixels = images[index]
            if not isinstance(pixels, np.ndarray):
                try:
                    pixels, _ = read_image(pixels)
                except Exception as exc:  # PIL raises many types for broken files
                    if index not in unreadable:
                        unreadable.add(index)
                        log.warning("skipped %s: %s", images[index], describe_image_error(exc))
                    continue
            pixels = to_shape(pixels, *pixels.shape[:2], channels)
            yield from draw_patches(pixels, patch_size, patches_per_image, rng)

    ds = tf.data.Dataset.from_generator(
        generate, output_signature=tf.TensorSpec((patch_size, patch_size, channels), tf.float32))
    ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if colour_augmentation and channels == 3:
        seeds = tf.data.Dataset.random(seed=seed + 7, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip(ds, seeds).map(augment_colours,
                                                num_parallel_calls=tf.data.AUTOTUNE)
    return corrupt_batches(ds.batch(batch_size, drop_remainder=True), seed, noise)


def make_image_file_dataset(files, size, batch_size=64, seed=0, shuffle=True, repeat=False):
    """Colour images streamed from files, each cut to its centre square and resized to
    ``size`` x ``size``: memory is bounded by the batch, whatever the folder's size.

    Pixels are multiples of 1/255 (the 256 levels a discretised likelihood counts); a JPEG
    is decoded at the smallest of its 1/2, 1/4, 1/8 scales that keeps ``size`` (PIL's draft
    mode). A file that cannot be read is skipped with a warning, once.

    Args:
        files: list of Path. Image files of any sizes.
        size: int. The side of the square images given.
        batch_size: int. Images per batch.
        seed: int. The order of epoch e comes from (seed, e).
        shuffle: bool. A new order every epoch (else the files' order).
        repeat: bool. Endless (give ``steps_per_epoch``).

    Examples:
    >>> ds = make_image_file_dataset(list_images("faces/")[0], 64, batch_size=64)
    """
    import tensorflow as tf

    from vae_apps.io.data import read_fitted

    epoch, unreadable = [0], set()

    def generate():
        rng = np.random.default_rng([seed, epoch[0]])
        epoch[0] += 1
        for index in (rng.permutation(len(files)) if shuffle else range(len(files))):
            try:
                yield read_fitted(files[index], size, size)
            except Exception as exc:  # PIL raises many types for broken files
                if index not in unreadable:
                    unreadable.add(index)
                    log.warning("skipped %s: %s", files[index], describe_image_error(exc))

    ds = tf.data.Dataset.from_generator(
        generate, output_signature=tf.TensorSpec((size, size, 3), tf.float32))
    if repeat:
        ds = ds.repeat()
    return ds.batch(batch_size).prefetch(2)


def read_image_files(files, size):
    """The images of ``files`` in memory, in order, each read as
    ``make_image_file_dataset`` reads it (centre square, ``size`` x ``size``, unreadable
    files skipped with a warning): held-out images, figures' sources.

    Returns:
        float32 array (N, size, size, 3).

    Examples:
    >>> held_out = read_image_files(files[:64], 64)
    """
    batches = [b.numpy() for b in make_image_file_dataset(files, size, 256, shuffle=False)]
    return np.concatenate(batches) if batches else np.zeros((0, size, size, 3), "float32")
