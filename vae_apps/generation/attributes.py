"""Attribute edits: a direction in latent space learnt from a few labelled images (the mean
code of the images with an attribute less that of the images without), and strips of
images moved along it ("this face, less ... more NAME")."""

import csv
from pathlib import Path

import numpy as np

from vae_apps.errors import UserError


def read_attribute_csv(spec):
    """``LABELS.csv:NAME`` -> (image paths with NAME, image paths without it, NAME).

    The CSV has a header and rows ``path,value`` (paths relative to the CSV's folder, never
    outside it); the images whose value is NAME have the attribute, the others do not.

    Examples:
    >>> with_, without, name = read_attribute_csv("hair.csv:blue")
    """
    from vae_apps.io.files import resolve_inside

    path, sep, name = str(spec).rpartition(":")
    if not sep or not path or not name:
        raise UserError(f"--attribute {spec}: give LABELS.csv:NAME (e.g. hair.csv:blue)")
    csv_path = Path(path)
    if not csv_path.is_file():
        raise UserError(f"{csv_path}: no such file")
    root = csv_path.resolve().parent
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r and any(cell.strip() for cell in r)]
    if len(rows) < 2 or len(rows[0]) < 2:
        raise UserError(f"{csv_path}: needs a header and rows 'path,value'")
    pairs = []
    for number, row in enumerate(rows[1:], start=2):
        image = resolve_inside(root, row[0].strip(), f"{csv_path}:{number}")
        if not image.is_file():
            raise UserError(f"{csv_path}:{number}: {row[0].strip()}: no such image file")
        pairs.append((image, row[1].strip()))
    values = sorted({value for _, value in pairs})
    if name not in values:
        raise UserError(f"{csv_path}: no image is labelled {name!r}; the values are "
                        f"{', '.join(values[:10])}")
    if len(values) < 2:
        raise UserError(f"{csv_path}: every image is labelled {name!r}; a direction needs "
                        "images without it too")
    return ([p for p, v in pairs if v == name], [p for p, v in pairs if v != name], name)


def attribute_direction(model, with_images, without_images):
    """The mean code of ``with_images`` less that of ``without_images`` (flat codes)."""
    return (model.encode(with_images)[0].mean(axis=0)
            - model.encode(without_images)[0].mean(axis=0)).astype("float32")


def edit_strips(model, images, direction, amount=2.0, steps=5):
    """Each image followed by its code moved by ``amount`` x ``direction`` from -amount to
    +amount in ``steps`` steps: (n, 1 + steps, H, W, C)."""
    codes = model.encode(images)[0]
    amounts = np.linspace(-amount, amount, steps).astype("float32")
    moved = codes[:, None, :] + amounts[None, :, None] * direction[None, None, :]
    decoded = model.decode(moved.reshape(-1, codes.shape[1])).reshape(
        len(images), steps, *model.image_shape)
    return np.concatenate([np.asarray(images)[:, None], decoded], axis=1)


def write_attribute_edits(model, attribute, data_spec, out, n=8, amount=2.0, steps=5, scale=None,
                          overwrite=False):
    """``vae-apps generate --attribute LABELS.csv:NAME --edit DATA``: a strip per image of
    ``data_spec`` (the first ``n``): the image, then its code moved from less to more NAME.

    Returns:
        (the strips, the attribute's name, images with it, images without it).

    Examples:
    >>> write_attribute_edits(model, "hair.csv:blue", "faces/", "blue.png", amount=2)
    """
    from vae_apps.io.data import load_data, read_fitted
    from vae_apps.io.files import check_new_output
    from vae_apps.io.images import describe_image_error
    from vae_apps.plots import save_grid

    check_new_output(out, overwrite)
    with_paths, without_paths, name = read_attribute_csv(attribute)
    h, w, c = model.image_shape

    def load(paths):
        images = []
        for path in paths:
            try:
                images.append(read_fitted(path, h, w, c))
            except Exception as exc:
                raise UserError(f"{path}: {describe_image_error(exc)}") from None
        return np.stack(images).astype("float32")

    direction = attribute_direction(model, load(with_paths), load(without_paths))
    images = load_data(data_spec, image_size=(h, w), channels=c).all().x[:n]
    strips = edit_strips(model, images, direction, amount, steps)
    save_grid(out, strips.reshape(-1, h, w, c), columns=1 + steps, scale=scale)
    return strips, name, len(with_paths), len(without_paths)
