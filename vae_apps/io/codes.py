"""Writing latent codes: ``.npz`` (arrays) or ``.csv`` (one row per image)."""

import csv

import numpy as np

from vae_apps.errors import UserError
from vae_apps.io.files import atomic_path


def write_codes(path, z_mean, z_log_var, images, overwrite=False):
    """Write z_mean, z_log_var, labels (when known) and names of ``images`` to ``path``.

    Args:
        path: str or Path. A ``.npz`` file (written atomically; plain arrays, no pickles).
        z_mean: np.ndarray. (N, d) posterior means.
        z_log_var: np.ndarray. (N, d) posterior log-variances.
        images: ImageSet. The images the codes belong to.
        overwrite: bool. Replace an existing file.

    Examples:
    >>> write_codes("codes.npz", *model.encode(images.x), images)
    """
    path = str(path)
    labels = images.y
    if path.endswith(".npz"):
        arrays = {"z_mean": z_mean, "z_log_var": z_log_var, "names": np.array(images.names, dtype=str)}
        if labels is not None:
            arrays["labels"] = labels
        with atomic_path(path, overwrite) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    elif path.endswith(".csv"):
        d = z_mean.shape[1]
        header = ["name", *(["label"] if labels is not None else []),
                  *(f"z_mean_{i}" for i in range(d)), *(f"z_log_var_{i}" for i in range(d))]
        with atomic_path(path, overwrite) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            for i, name in enumerate(images.names):
                label = [labels[i]] if labels is not None else []
                writer.writerow([name, *label, *np.round(z_mean[i], 6), *np.round(z_log_var[i], 6)])
    else:
        raise UserError(f"{path}: codes are written as .npz or .csv")
