"""Training pairs made from noisy images alone (no clean originals).

Neighbor2Neighbor (Huang et al. 2021): split each noisy patch into 2 x 2 cells and,
in every cell, pick two different pixels at random; the first picks form one
half-size image, the second picks another. Both show the same scene (neighbouring
pixels), with noise drawn independently where the noise is independent from pixel
to pixel, so a denoiser trained to map one onto the other learns E[clean | noisy], as
Noise2Noise does with two shots of the same scene. The pairs go through the same
``train_step`` as (noisy, clean) pairs.

Noise correlated between neighbouring pixels (demosaicing, JPEG) is partly shared by
the two halves: such a model leaves that part in place.

A model trained on half images is then applied to whole ones, and the two halves of a
pair are up to a pixel apart: Neighbor2Neighbor's regulariser corrects for both with the
model's own output on the whole crop (``neighbour_training_batch`` gives it what it needs;
``FullyConvVAE(neighbour_regularization=...)`` uses it).

The same cells give three half images for calibrating the uncertainty without clean
images (``neighbour_triples``, ``squared_error_estimate``).
"""

import tensorflow as tf


def neighbour_pairs(patches, seed):
    """Two half-size images of each patch, from different pixels of every 2 x 2 cell.

    Args:
        patches: tf.Tensor. Noisy patches (N, H, W, C), H and W even.
        seed: tf.Tensor. A stateless seed, shape (2,): the same seed, the same picks.

    Returns:
        (first, second), each (N, H/2, W/2, C).

    Examples:
    >>> first, second = neighbour_pairs(noisy_patches, tf.constant([0, 1]))
    """
    cells = _cells(patches)
    first, second = _picks(cells, seed)
    return _pick(cells, first), _pick(cells, second)


def neighbour_training_batch(patches, seed):
    """What a noisy-only training step takes from a batch of noisy crops: the half images
    of ``neighbour_pairs`` (same seed, same picks), and for Neighbor2Neighbor's regulariser
    the crops themselves with where in them each half image's pixels were picked.

    Args:
        patches: tf.Tensor. Noisy crops (N, H, W, C), H and W even.
        seed: tf.Tensor. A stateless seed, shape (2,).

    Returns:
        dict: ``first``, ``second`` (N, H/2, W/2, C); ``crops`` (the patches);
        ``first_at``, ``second_at`` (N, H/2, W/2) int32, each half image pixel's place in
        its crop counted row by row (row * W + column).

    Examples:
    >>> batch = neighbour_training_batch(noisy_crops, tf.constant([0, 1]))
    >>> batch["first"].shape, batch["crops"].shape
    (TensorShape([32, 64, 64, 1]), TensorShape([32, 128, 128, 1]))
    """
    cells = _cells(patches)
    first, second = _picks(cells, seed)
    shape = tf.shape(cells)
    rows = 2 * tf.range(shape[1])[None, :, None]
    columns = 2 * tf.range(shape[2])[None, None, :]
    width = tf.shape(patches)[2]
    place = lambda index: (rows + index // 2) * width + columns + index % 2  # noqa: E731
    return {"first": _pick(cells, first), "second": _pick(cells, second), "crops": patches,
            "first_at": place(first), "second_at": place(second)}


def _picks(cells, seed):
    """Two different places (0-3, raster order) in every 2 x 2 cell, drawn from ``seed``."""
    shape = tf.shape(cells)
    n, h, w = shape[0], shape[1], shape[2]
    first = tf.random.stateless_uniform([n, h, w], seed, 0, 4, dtype=tf.int32)
    # A different pixel of the same cell: 1-3 places further round the cell.
    step = tf.random.stateless_uniform([n, h, w], tf.random.experimental.stateless_fold_in(seed, 1),
                                       1, 4, dtype=tf.int32)
    return first, (first + step) % 4


def _pick(cells, index):
    return tf.gather(cells, index, axis=3, batch_dims=3)


def _cells(patches):
    """(N, H/2, W/2, 4, C): the four pixels of every 2 x 2 cell of (N, H, W, C) patches
    with even sides, in raster order."""
    shape = tf.shape(patches)
    n, h, w, c = shape[0], shape[1] // 2, shape[2] // 2, shape[3]
    cells = tf.reshape(patches, [n, h, 2, w, 2, c])
    return tf.reshape(tf.transpose(cells, [0, 1, 3, 2, 4, 5]), [n, h, w, 4, c])


def neighbour_triples(image, seed):
    """Three half-size images of one image, from three different pixels of every 2 x 2
    cell picked at random (a third neighbour for ``squared_error_estimate``).

    Args:
        image: np.ndarray. A noisy image (H, W, C); an odd last row or column is left out.
        seed: int or sequence of ints. The same seed, the same picks.

    Returns:
        (first, second, third), each (H // 2, W // 2, C).

    Examples:
    >>> first, second, third = neighbour_triples(noisy_crop, seed=[0, 3])
    """
    import numpy as np

    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    cells = _cells(tf.convert_to_tensor(np.asarray(image[None, :h, :w]))).numpy()[0]
    order = np.argsort(np.random.default_rng(seed).random((h // 2, w // 2, 4)), axis=-1)
    return tuple(np.take_along_axis(cells, order[..., k:k + 1, None], axis=2)[:, :, 0]
                 for k in range(3))


def squared_error_estimate(denoised_first, second, third):
    """Per pixel, an estimate of the squared error of ``denoised_first`` (the first half
    image of ``neighbour_triples``, denoised), made from the two other half images alone:
    ``(denoised_first - second)^2 - (second - third)^2 / 2``.

    Where the noise is independent from pixel to pixel with the same variance at
    neighbouring pixels, the two noise terms cancel in expectation, whatever the noise's
    law (clipped noise included), and the estimate's own noise is independent of the
    first half image, so a least-squares fit on terms computed from it stays unbiased.
    No noise model is needed: Stein's unbiased risk estimate with a variance function
    read off the images needed one, and on colour photos with 16 % of their pixels
    clipped (Poisson, peak 30) it read the variance wrong and the fitted maps covered
    51-57 % of the errors (docs/denoising.md). It reads low in fine texture, where the
    neighbours' own difference and the error of a smoothed pixel partly cancel (the mean
    read 85-87 % of the true one on a microscopy image, 45-60 % on photos), and it cannot
    see a bias every noisy view shares (the mean shift of noise clipped at black or white).

    Examples:
    >>> first, second, third = neighbour_triples(noisy_crop, seed=0)
    >>> errors = squared_error_estimate(denoise(first), second, third)
    """
    import numpy as np

    return np.square(denoised_first - second) - 0.5 * np.square(second - third)
