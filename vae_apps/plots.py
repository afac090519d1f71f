"""Figures people look at: image grids, before/after rows, latent maps, training curves.

Image grids are written as pixel-exact PNGs; labelled figures use matplotlib.
All writes are atomic.
"""

import math

import numpy as np

from vae_apps.io.files import atomic_path
from vae_apps.io.images import save_uint8

MAP_POINTS = 5000


def image_grid(images, columns=None, border=1, background=1.0):
    """Tile N x H x W x C images into one picture, near-square, with thin borders.

    Args:
        images: np.ndarray. (N, H, W, C) floats in [0, 1].
        columns: int or None. Tiles per row (default: near-square).
        border: int. Pixels between tiles.
        background: float. Their grey level.

    Examples:
    >>> picture = image_grid(x[:64], columns=8)  # H' x W' x C
    """
    images = np.asarray(images, "float32")
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = np.full((rows * (h + border) + border, columns * (w + border) + border, c),
                   background, "float32")
    for i, img in enumerate(images):
        r, k = divmod(i, columns)
        top, left = border + r * (h + border), border + k * (w + border)
        grid[top:top + h, left:left + w] = img
    return grid


def save_grid(path, images, columns=None, scale=None):
    """Write ``image_grid(images)`` as a PNG, each pixel repeated ``scale`` times
    (default: enough for tiles of at least 32 pixels).

    Args:
        path: str or Path. The PNG file (written atomically).
        images: np.ndarray. N x H x W x C floats in [0, 1].
        columns: int or None. Tiles per row (default: near-square).
        scale: int or None. Pixels per image pixel.

    Examples:
    >>> save_grid("samples.png", model.sample(64, seed=0))
    """
    images = np.asarray(images)
    scale = scale or max(1, 32 // max(images.shape[1:3]))
    grid = image_grid(images, columns)
    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    save_uint8(path, grid)


def _save_figure(fig, path):
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
    plt.close(fig)


def _show(ax, img):
    img = np.clip(np.asarray(img), 0, 1)
    ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def rows_figure(path, rows, title=None, actual_size=False):
    """A figure of labelled image rows, e.g. {"clean": [...], "noisy": [...], "denoised": [...]}.

    Args:
        path: str or Path. The PNG to write (atomically).
        rows: dict. Row name -> list of images (H, W, C) in [0, 1].
        title: str or None. Above the rows.
        actual_size: bool. Every image pixel is one pixel of the PNG (for photo crops,
            where the detail is the point); otherwise small images are enlarged.

    Examples:
    >>> rows_figure("before_after.png", {"noisy": noisy[:8], "denoised": clean[:8]})
    """
    import matplotlib.pyplot as plt

    if actual_size:
        return _rows_at_actual_size(path, rows, title)
    columns = max(len(v) for v in rows.values())
    fig, axes = plt.subplots(len(rows), columns, figsize=(1.2 * columns, 1.3 * len(rows)),
                             squeeze=False)
    for r, (name, images) in enumerate(rows.items()):
        for k in range(columns):
            ax = axes[r, k]
            if k < len(images):
                _show(ax, images[k])
            else:
                ax.axis("off")
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=10)
    if title:
        fig.suptitle(title)
    _save_figure(fig, path)


def _rows_at_actual_size(path, rows, title, gap=6):
    import matplotlib.pyplot as plt

    names = list(rows)
    dpi = 100
    label_width = int(max(60, max(_text_width(name, 10, dpi) for name in names) + 16))
    columns = max(len(v) for v in rows.values())
    height, width = np.asarray(rows[names[0]][0]).shape[:2]
    blank, between = np.ones((height, width, 3), "float32"), np.ones((height, gap, 3), "float32")

    def line(images):
        cells = [_rgb(image) for image in images] + [blank] * (columns - len(images))
        return np.concatenate([part for cell in cells for part in (cell, between)][:-1], axis=1)

    lines = [line(images) for images in rows.values()]
    spacer = np.ones((gap, lines[0].shape[1], 3), "float32")
    grid = np.concatenate([part for row in lines for part in (row, spacer)][:-1], axis=0)
    top = 30 if title else 0
    width = max(grid.shape[1] + label_width, int(_text_width(title, 11, dpi)) + 20 if title else 0)
    label_width += width - grid.shape[1] - label_width  # a wide title widens the label column
    fig = plt.figure(figsize=(width / dpi, (grid.shape[0] + top) / dpi),
                     dpi=dpi)
    fig.figimage(np.clip(grid, 0, 1), xo=label_width, yo=0, origin="upper")
    for r, name in enumerate(names):
        centre = grid.shape[0] - (r * (height + gap) + height / 2)
        fig.text((label_width - 8) / fig.bbox.width, centre / fig.bbox.height, name, ha="right",
                 va="center", fontsize=10)
    if title:
        fig.text(0.5, 1 - 18 / fig.bbox.height, title, ha="center", va="center", fontsize=11)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi)  # no bbox cropping: the pixels stay 1:1
    plt.close(fig)


def _text_width(text, fontsize, dpi):
    """Width in pixels of ``text`` drawn by matplotlib at ``fontsize`` points."""
    import matplotlib.pyplot as plt

    fig = plt.figure(dpi=dpi)
    try:
        label = fig.text(0, 0, text, fontsize=fontsize)
        return label.get_window_extent(fig.canvas.get_renderer()).width
    finally:
        plt.close(fig)


def _rgb(image):
    image = np.clip(np.asarray(image, "float32"), 0, 1)
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


def latent_map(path, codes_2d, labels=None, marked=None, title="latent space", method="PCA",
               class_names=None):
    """Scatter 2-D codes coloured by label; ``marked`` points drawn larger.

    Large sets are thinned to ``MAP_POINTS`` points (seeded) so the picture stays readable.

    Args:
        path: str or Path. The PNG to write.
        codes_2d: np.ndarray. (N, 2) points.
        labels: np.ndarray or None. Integer class per point.
        marked: np.ndarray or None. Bool mask of points to circle (given labels).
        title: str. The plot's title.
        method: str. Names the axes (``"PCA"``, ``"z"`` ...).
        class_names: list of str or None. Legend names of labels 0, 1, ...

    Examples:
    >>> latent_map("map.png", project_2d(codes), labels=y)
    """
    import matplotlib.pyplot as plt

    if len(codes_2d) > MAP_POINTS:
        keep = np.sort(np.random.default_rng(0).choice(len(codes_2d), MAP_POINTS, replace=False))
        codes_2d = codes_2d[keep]
        labels = None if labels is None else np.asarray(labels)[keep]
        marked = None if marked is None else np.asarray(marked)[keep]

    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    if labels is None:
        ax.scatter(codes_2d[:, 0], codes_2d[:, 1], s=4, alpha=0.6)
    else:
        labels = np.asarray(labels)
        classes = np.unique(labels)
        cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
        for i, cls in enumerate(classes):
            pts = codes_2d[labels == cls]
            name = class_names[cls] if class_names is not None else cls
            ax.scatter(pts[:, 0], pts[:, 1], s=4, alpha=0.6, color=cmap(i % cmap.N), label=str(name))
        ax.legend(markerscale=3, fontsize=8, loc="best", ncols=2 if len(classes) > 10 else 1)
    if marked is not None and np.any(marked):
        ax.scatter(codes_2d[marked, 0], codes_2d[marked, 1], s=40, facecolors="none",
                   edgecolors="black", linewidths=1.0, label="given labels")
    ax.set_xlabel(f"{method} 1")
    ax.set_ylabel(f"{method} 2")
    ax.set_title(title)
    _save_figure(fig, path)


def training_curves(path, history):
    """Loss, reconstruction and KL per epoch, train and validation.

    Args:
        path: str or Path. The PNG to write.
        history: dict. Keras' ``History.history`` (``loss``, ``val_loss`` ...).

    Examples:
    >>> training_curves("curves.png", train_vae(x, x_val).history)
    """
    import matplotlib.pyplot as plt

    names = ("loss", "reconstruction_loss", "kl_loss")
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    for ax, name in zip(axes, names):
        for prefix in ("", "val_"):
            values = history.get(prefix + name)
            if values:
                ax.plot(range(1, len(values) + 1), values, marker="o", ms=3,
                        label="validation" if prefix else "train")
        ax.set_title(name.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.legend()
    _save_figure(fig, path)


def project_2d(codes, method="pca", seed=0):
    """Project codes to 2-D: the codes themselves if 2-D, else PCA or t-SNE.

    Args:
        codes: np.ndarray. (N, d) latent codes.
        method: str. ``"pca"`` or ``"tsne"`` (scikit-learn's).
        seed: int. The projection's ``random_state``.

    Examples:
    >>> points = project_2d(model.encode(x)[0], "tsne")
    """
    if codes.shape[1] == 2:
        return codes
    if method == "tsne":
        from sklearn.manifold import TSNE

        return TSNE(n_components=2, random_state=seed, init="pca").fit_transform(codes)
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit_transform(codes)


def label_map_figure(path, codes, labels, given_rows, method="pca", seed=0):
    """Latent map coloured by (recovered) label, the given labels circled.

    Args:
        path: str or Path. The PNG to write.
        codes: np.ndarray. (N, d) latent codes (or features).
        labels: array-like. A label string per point.
        given_rows: array-like. The rows whose labels were given.
        method: str. ``"pca"`` or ``"tsne"``.
        seed: int. The projection's ``random_state``.

    Examples:
    >>> label_map_figure("labels.png", result.features, result.labels, given.rows)
    """
    marked = np.zeros(len(codes), bool)
    marked[given_rows] = True
    names, encoded = np.unique(np.asarray(labels).astype(str), return_inverse=True)
    latent_map(path, project_2d(codes, method, seed), encoded, marked,
               title="latent space, coloured by recovered label", method=method.upper(),
               class_names=list(names))
