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
    shape = tf.shape(patches)
    n, h, w, c = shape[0], shape[1] // 2, shape[2] // 2, shape[3]
    # (N, H/2, W/2, 4, C): the four pixels of each cell, in raster order.
    cells = tf.reshape(patches, [n, h, 2, w, 2, c])
    cells = tf.reshape(tf.transpose(cells, [0, 1, 3, 2, 4, 5]), [n, h, w, 4, c])
    first = tf.random.stateless_uniform([n, h, w], seed, 0, 4, dtype=tf.int32)
    # A different pixel of the same cell: 1-3 places further round the cell.
    step = tf.random.stateless_uniform([n, h, w], tf.random.experimental.stateless_fold_in(seed, 1),
                                       1, 4, dtype=tf.int32)
    second = (first + step) % 4
    pick = lambda index: tf.gather(cells, index, axis=3, batch_dims=3)  # noqa: E731
    return pick(first), pick(second)
