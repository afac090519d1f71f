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

from vae_apps.errors import UserError


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


def noise_variance_function(images, bins=16):
    """The noise variance as a function of the pixel value, ``slope x value + floor``,
    read off noisy images alone (Poisson-Gaussian noise: slope the gain, floor the
    Gaussian part's variance; Gaussian noise: slope 0).

    In every 2 x 2 cell the two diagonal pixel differences have variance twice the
    noise variance plus the scene's own difference; per band of cell means (``bins``
    bands of equal counts), the mean squared difference within 2.5 standard
    deviations (a Gaussian's mean there, corrected to the whole) keeps edges out.
    Texture still adds a little: on 10 colour photo crops with variance 0.01 x + 0.02^2
    the bands read 5-15 % high. The bands within 5 % of black or white are left out
    (clipping narrows them).

    Args:
        images: list of np.ndarray. Noisy images (H, W, C) on the 0-1 scale.
        bins: int. Bands of cell means.

    Returns:
        (slope, floor), both >= 0.

    Examples:
    >>> slope, floor = noise_variance_function(noisy_crops)
    """
    import numpy as np
    from scipy.optimize import nnls

    means, halved = [], []
    for y in images:
        h, w = y.shape[0] // 2 * 2, y.shape[1] // 2 * 2
        cells = np.asarray(y[:h, :w], "float32").reshape(h // 2, 2, w // 2, 2, -1)
        mean = cells.mean(axis=(1, 3)).ravel()
        for (a, b), (c, d) in (((0, 0), (1, 1)), ((0, 1), (1, 0))):
            means.append(mean)
            halved.append(((cells[:, a, :, b] - cells[:, c, :, d]) ** 2 / 2).ravel())
    means, halved = np.concatenate(means), np.concatenate(halved)
    keep = (means > 0.05) & (means < 0.95)
    means, halved = means[keep], halved[keep]
    if len(means) < 100 * bins:
        raise UserError("too few pixels between black and white to read the noise level from")
    edges = np.quantile(means, np.linspace(0, 1, bins + 1))
    centres, variances, counts = [], [], []
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (means >= low) & (means <= high)
        band = halved[inside]
        variance = np.median(band) / 0.4549  # the median of a chi-square with 1 degree of freedom
        for _ in range(3):
            variance = band[band <= 6.25 * variance].mean() / 0.9113 if variance > 0 else 0.0
        centres.append(means[inside].mean())
        variances.append(variance)
        counts.append(len(band))
    weight = np.sqrt(np.array(counts, "float64"))
    (slope, floor), _ = nnls(np.stack([centres, np.ones(bins)], axis=1) * weight[:, None],
                             np.array(variances) * weight)
    return float(slope), float(floor)
