"""Label CSVs: the few labels a user gives, the predictions and suggestions written back."""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_apps.errors import UserError
from vae_apps.io.files import atomic_path, resolve_inside


MAX_REPORTED_ERRORS = 5


@dataclass
class GivenLabels:
    """Labels from a LABELS.csv: which rows of the dataset, which strings, keyed by what.

    Args:
        key: str. ``"path"`` (image folders) or ``"index"`` (array files).
        rows: np.ndarray. The labelled images' positions in the dataset.
        labels: np.ndarray. Their label strings (object dtype).

    Examples:
    >>> given = read_label_csv("labels.csv", images.names, data_root="MY_IMAGES")
    >>> given.key, len(given.rows)  # doctest: +SKIP
    ('path', 40)
    """

    key: str
    rows: np.ndarray
    labels: np.ndarray


def read_label_csv(path, names, data_root=None):
    """Read ``path,label`` (folder data) or ``index,label`` (array data) rows.

    Every problem is reported with its row number (the header is row 1), in one error.

    Args:
        path: str or Path. The CSV file.
        names: list of str. The dataset's image names (relative paths or row indices).
        data_root: str or Path or None. The image folder: paths in the CSV must stay
            inside it.

    Returns:
        ``GivenLabels`` (rows of the dataset and their label strings).

    Examples:
    >>> given = read_label_csv("labels.csv", images.names, data_root="MY_IMAGES")
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the labels ({exc})") from None
    if not rows:
        raise UserError(f"{path}: empty; expected a header 'path,label' or 'index,label'")
    header = [h.strip().lower() for h in rows[0]]
    if len(header) != 2 or header[0] not in ("path", "index") or header[1] != "label":
        raise UserError(f"{path}: header is {','.join(rows[0])!r}; expected 'path,label' "
                        "(image folders) or 'index,label' (array files)")
    key = header[0]
    position = {name: i for i, name in enumerate(names)}
    root = None
    if key == "path":
        if data_root is None:
            raise UserError(f"{path}: 'path' labels need an image folder; use 'index,label' for arrays")
        root = resolve_inside(data_root, ".")
    errors, given = [], {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            errors.append(f"row {number}: expected 2 columns, got {len(row)}")
            continue
        ref, label = row[0].strip(), row[1].strip()
        if not label:
            errors.append(f"row {number}: empty label")
            continue
        try:
            name = _name_of(key, ref, root)
        except UserError as exc:
            errors.append(f"row {number}: {exc}")
            continue
        if name not in position:
            errors.append(f"row {number}: {'no image' if key == 'path' else 'no row'} {ref!r} in the data")
            continue
        if name in given and given[name][1] != label:
            errors.append(f"row {number}: {ref!r} labelled {label!r} here but {given[name][1]!r} "
                          f"in row {given[name][0]}")
            continue
        given.setdefault(name, (number, label))
    if errors:
        more = len(errors) - MAX_REPORTED_ERRORS
        text = "; ".join(errors[:MAX_REPORTED_ERRORS]) + (f"; and {more} more" if more > 0 else "")
        raise UserError(f"{path}: {text}")
    if not given:
        raise UserError(f"{path}: no labels in it")
    names_given = list(given)
    return GivenLabels(key, np.array([position[n] for n in names_given]),
                       np.array([given[n][1] for n in names_given], dtype=object))


def _name_of(key, ref, root):
    if key == "index":
        try:
            index = int(ref)
        except ValueError:
            raise UserError(f"index {ref!r} is not a whole number") from None
        if index < 0:
            raise UserError(f"index {index} is negative")
        return str(index)
    target = resolve_inside(root, ref, what="path")
    return Path(target).relative_to(root).as_posix()


def write_predictions(path, names, key, labels, confidence, given, overwrite=False):
    """Write PREDICTIONS.csv atomically: one row per image: path|index, label, confidence,
    labelled.

    Args:
        path: str or Path. The CSV to write.
        names: list of str. Image names (relative paths or row indices), one per image.
        key: str. ``"path"`` or ``"index"``, the first column's header.
        labels: array-like. A label string per image.
        confidence: array-like. The probability of each label.
        given: GivenLabels. Their rows are marked ``labelled``.
        overwrite: bool. Replace an existing file.

    Examples:
    >>> write_predictions("predictions.csv", images.names, "path", labels, confidence, given)
    """
    labelled = np.zeros(len(names), bool)
    labelled[given.rows] = True
    with atomic_path(path, overwrite) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([key, "label", "confidence", "labelled"])
        for name, label, conf, is_given in zip(names, labels, confidence, labelled):
            writer.writerow([name, label, f"{conf:.4f}", "true" if is_given else "false"])


def write_suggestions(path, names, key, rows, overwrite=False):
    """Write SUGGEST.csv atomically: the header of LABELS.csv and one row per suggested
    image, label empty: fill the labels in and add the rows to LABELS.csv.

    Args:
        path: str or Path. The CSV to write.
        names: list of str. Image names, one per image.
        key: str. ``"path"`` or ``"index"``.
        rows: array-like. The suggested images' positions (``suggest_labels``), in order.
        overwrite: bool. Replace an existing file.

    Examples:
    >>> write_suggestions("suggest.csv", images.names, "path", rows)
    """
    with atomic_path(path, overwrite) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([key, "label"])
        for row in rows:
            writer.writerow([names[row], ""])
