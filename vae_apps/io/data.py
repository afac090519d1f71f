"""Data specs -> images in [0, 1] with labels and names; the training input pipeline.

A data spec is ``digits`` (scikit-learn's bundled 8x8 digits, no network),
``mnist`` / ``fashion_mnist`` / ``cifar10`` (through ``keras.datasets``), a path
to a ``.npz``/``.npy`` array file, or a path to an image folder.
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vae_apps.errors import UserError
from vae_apps.io.images import describe_image_error, list_images, read_image, to_shape

log = logging.getLogger("vae_apps")

KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10")
ARRAY_SUFFIXES = (".npz", ".npy")


@dataclass
class ImageSet:
    """Images with optional integer labels and names.

    Args:
        x: np.ndarray. float32 images (N, H, W, C) in [0, 1].
        y: np.ndarray or None. int64 labels (N,), -1 for unlabelled.
        names: list of str. One name per image (a file path relative to its folder,
            or the row index).
        class_names: list of str or None. The names of labels 0, 1, ... (folder
            names for a labelled folder).
        skipped: list of (str, str). ``(name, reason)`` of the files not read.

    Examples:
    >>> images = load_data("digits").train
    >>> images.take([0, 1, 2]).x.shape
    (3, 8, 8, 1)
    """

    x: np.ndarray
    y: np.ndarray | None = None
    names: list = field(default_factory=list)
    class_names: list | None = None
    skipped: list = field(default_factory=list)  # (name, reason) of unreadable files

    def __len__(self):
        return len(self.x)

    def take(self, index):
        """The images at ``index`` (their labels and names with them)."""
        index = np.asarray(index)
        return ImageSet(self.x[index], None if self.y is None else self.y[index],
                        [self.names[i] for i in index], self.class_names)


@dataclass
class Dataset:
    """A train split and, when the source defines one, a test split.

    Args:
        train: ImageSet. The training images.
        test: ImageSet or None. The source's own test split (MNIST's 10,000, the
            fixed fifth of digits); ``None`` for folders and ``x``-only arrays.
        source: str. The data spec it came from.

    Examples:
    >>> data = load_data("digits")
    >>> data.image_shape, len(data.all())
    ((8, 8, 1), 1797)
    """

    train: ImageSet
    test: ImageSet | None
    source: str

    @property
    def image_shape(self):
        return tuple(self.train.x.shape[1:])

    def all(self):
        """Train then test, as one ImageSet (the order that array row indices follow)."""
        if self.test is None:
            return self.train
        y = None if self.train.y is None else np.concatenate([self.train.y, self.test.y])
        return ImageSet(np.concatenate([self.train.x, self.test.x]), y,
                        self.train.names + self.test.names, self.train.class_names,
                        self.train.skipped + self.test.skipped)


def load_data(spec, image_size=None, channels=None, labels_from_folders=True):
    """Load a data spec into a ``Dataset``.

    Args:
        spec: str or Path. ``digits``, ``mnist``, ``fashion_mnist``, ``cifar10``, a
            ``.npz``/``.npy`` path or an image folder.
        image_size: (int, int) or None. (height, width) to resize to; folders of mixed
            sizes default to their most common size (with a warning).
        channels: int or None. 1 or 3 to force grey or colour; default: from the data.
        labels_from_folders: bool. Label folder images by their class sub-folder.

    Examples:
    >>> data = load_data("photos/", image_size=(64, 64), channels=1)
    >>> data.train.x.shape  # (N, 64, 64, 1), and data.train.skipped lists bad files
    """
    spec = str(spec)
    if spec in _NAMED_SOURCES:
        data = _NAMED_SOURCES[spec](spec)
    else:
        path = Path(spec)
        if not path.exists():
            raise UserError(f"{spec}: no such file or folder (and not one of "
                            f"{', '.join(_NAMED_SOURCES)})")
        if path.is_dir():
            data = _load_folder(path, image_size, channels, labels_from_folders)
        elif path.suffix.lower() in ARRAY_SUFFIXES:
            data = _load_array_file(path)
        else:
            raise UserError(f"{spec}: not a data source; give an image folder, a .npz/.npy file "
                            f"or one of {', '.join(_NAMED_SOURCES)}")
    if image_size is not None or channels is not None:
        data = _reshape(data, image_size, channels)
    return data


def _load_digits(_name):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images[..., None] / 16.0).astype("float32")
    y = bunch.target.astype("int64")
    # A fixed, stratified split so "the test split of digits" means one thing.
    rng = np.random.default_rng(0)
    test = np.zeros(len(x), bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        test[rng.choice(members, size=len(members) // 5, replace=False)] = True
    names = [str(i) for i in range(len(x))]
    train_idx, test_idx = np.flatnonzero(~test), np.flatnonzero(test)
    full = ImageSet(x, y, names)
    return Dataset(full.take(train_idx), full.take(test_idx), "digits")


def _load_keras(name):
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    except Exception as exc:  # the download fails in many ways offline
        raise UserError(
            f"{name}: could not download it through keras.datasets ({type(exc).__name__}); "
            "offline, pass a local .npz with x_train, y_train, x_test, y_test, an image "
            "folder, or 'digits'") from None
    return _from_arrays(name, x_train, y_train, x_test, y_test)


_NAMED_SOURCES = {"digits": _load_digits, **{name: _load_keras for name in KERAS_DATASETS}}


def read_array_file(path):
    """The arrays of a ``.npz`` (by key) or ``.npy`` (as ``x``), never unpickling anything.

    Args:
        path: str or Path. A ``.npz`` or ``.npy`` file.

    Examples:
    >>> sorted(read_array_file("mnist.npz"))
    ['x_test', 'x_train', 'y_test', 'y_train']
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".npy":
            return {"x": np.load(path, allow_pickle=False)}
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise UserError(f"{path}: holds Python objects; refusing to unpickle it "
                            "(save plain numeric arrays)") from None
        raise UserError(f"{path}: not a readable NumPy file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise UserError(f"{path}: not a readable NumPy file ({exc})") from None


def _load_array_file(path):
    arrays = read_array_file(path)
    if "x_train" in arrays:
        missing = [k for k in ("x_test",) if k not in arrays]
        if missing:
            raise UserError(f"{path}: has x_train but no {', '.join(missing)} "
                            "(keys found: " + ", ".join(arrays) + ")")
        return _from_arrays(str(path), arrays["x_train"], arrays.get("y_train"),
                            arrays["x_test"], arrays.get("y_test"), path)
    if "x" in arrays:
        return _from_arrays(str(path), arrays["x"], arrays.get("y"), source=path)
    raise UserError(f"{path}: needs the keys x_train and x_test, or x "
                    f"(keys found: {', '.join(arrays) or 'none'})")


def _from_arrays(name, x_train, y_train, x_test=None, y_test=None, source=None):
    source = source or name
    x_train = to_unit_images(x_train, source)
    y_train = _labels(y_train, len(x_train), source, "y_train" if x_test is not None else "y")
    train = ImageSet(x_train, y_train, [str(i) for i in range(len(x_train))])
    test = None
    if x_test is not None:
        x_test = to_unit_images(x_test, source)
        if x_test.shape[1:] != x_train.shape[1:]:
            raise UserError(f"{source}: x_test images {x_test.shape[1:]} differ from "
                            f"x_train images {x_train.shape[1:]}")
        y_test = _labels(y_test, len(x_test), source, "y_test")
        if (y_train is None) != (y_test is None):
            y_train = y_test = None
        n = len(x_train)
        test = ImageSet(x_test, y_test, [str(n + i) for i in range(len(x_test))])
    return Dataset(train, test, str(name))


def to_unit_images(x, source="array"):
    """Validate an image array and return it as float32 N x H x W x C in [0, 1].

    uint8 and integer arrays are read as 0..255 (uint16: 0..65535); float arrays
    in [0, 1] are kept, in [0, 255] divided by 255.

    Args:
        x: array-like. Images (N, H, W) or (N, H, W, C) with C = 1 or 3.
        source: str. Names the data in the error raised for a bad array.

    Examples:
    >>> float(to_unit_images(np.full((2, 4, 4), 255, "uint8")).max())
    1.0
    """
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise UserError(f"{source}: images have dtype {x.dtype}; expected numbers "
                        "(uint8 0..255 or float 0..1)")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3) or min(x.shape) == 0:
        raise UserError(f"{source}: images have shape {x.shape}; expected N x H x W "
                        "or N x H x W x C with C = 1 or 3")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise UserError(f"{source}: images contain NaN or infinite values")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0:
        raise UserError(f"{source}: images have negative values (min {lo:g}); "
                        "expected 0..255 or 0..1")
    if x.dtype == np.uint16:
        scale = 65535.0
    elif x.dtype.kind in "iu" or hi > 1.0:
        if hi > 255:
            raise UserError(f"{source}: images go up to {hi:g}; expected 0..255 or 0..1")
        scale = 255.0
    else:
        scale = 1.0
    return (x.astype("float32") / scale).astype("float32")


def _labels(y, n, source, key):
    if y is None:
        return None
    y = np.asarray(y).reshape(-1) if np.ndim(y) == 2 and np.shape(y)[1] == 1 else np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise UserError(f"{source}: {key} has shape {y.shape}; expected ({n},), one label per image")
    if y.dtype.kind not in "iu":
        raise UserError(f"{source}: {key} has dtype {y.dtype}; expected integer class labels")
    return y.astype("int64")


# A folder of photos is worked on at this size: each image's short side resized to it,
# then a centre crop (the small-image models and the labeller work at one size; 64 x 64
# keeps a photo's colours and layout at a cost the 2-core CPU trains in minutes).
WORKING_SIZE = 64
# Images all of one size and no larger than this a side are kept at their own size.
KEPT_SIZE = 128


def working_size(sizes, image_size=None):
    """The (height, width) a folder's images are worked at, and why.

    Args:
        sizes: list of (height, width). The images' sizes, read from their headers.
        image_size: (int, int) or None. The user's ``--image-size``.

    Returns:
        ``((height, width), reason)``; reason is None when the images keep their size.

    Examples:
    >>> working_size([(1200, 1600), (3000, 4000)])
    ((64, 64), 'images of 2 sizes up to 4000x3000')
    >>> working_size([(28, 28), (28, 28)])
    ((28, 28), None)
    """
    if image_size is not None:
        return tuple(image_size), None
    distinct = set(sizes)
    if len(distinct) == 1 and max(next(iter(distinct))) <= KEPT_SIZE:
        return next(iter(distinct)), None
    largest = max(sizes, key=lambda s: s[0] * s[1])
    kind = f"images of {len(distinct)} sizes up to" if len(distinct) > 1 else "images of"
    return (WORKING_SIZE, WORKING_SIZE), f"{kind} {largest[1]}x{largest[0]}"


def fit_to(pixels, height, width):
    """Resize ``pixels`` so it covers height x width, then crop the centre (no stretching).

    Examples:
    >>> fit_to(np.zeros((1200, 1600, 3), "float32"), 64, 64).shape
    (64, 64, 3)
    """
    h, w = pixels.shape[:2]
    if (h, w) == (height, width):
        return pixels
    scale = max(height / h, width / w)
    covered = (max(height, round(h * scale)), max(width, round(w * scale)))
    from vae_apps.io.images import resize

    pixels = resize(pixels, (covered[1], covered[0]))
    top, left = (covered[0] - height) // 2, (covered[1] - width) // 2
    return pixels[top:top + height, left:left + width]


def read_fitted(path, height, width, channels=3):
    """An image file cut and resized to ``height`` x ``width`` (``fit_to``: no stretching),
    on the 256 levels of an 8-bit file; a JPEG is decoded at the smallest of its 1/2, 1/4,
    1/8 scales that keeps the size (PIL's draft mode). Raises as ``read_image`` does.

    Examples:
    >>> read_fitted("face.jpg", 64, 64).shape
    (64, 64, 3)
    """
    pixels, _ = read_image(path, at_least=max(height, width))
    pixels = fit_to(to_shape(pixels, *pixels.shape[:2], channels), height, width)
    return np.round(np.clip(pixels, 0.0, 1.0) * 255.0) / 255.0


def _header(path):
    """(height, width, channels) from the file's header, EXIF orientation applied."""
    from PIL import Image

    from vae_apps.io.images import GREY_MODES

    with Image.open(path) as img:
        width, height = img.size
        orientation = img.getexif().get(0x0112, 1)
        if orientation in (5, 6, 7, 8):  # turned a quarter
            width, height = height, width
        return height, width, 1 if img.mode in GREY_MODES else 3


def _load_folder(root, image_size, channels, labels_from_folders):
    """Read a folder at its working size, one file at a time: memory holds the images
    at that size, never the originals (2,000 photos of 1600 x 1200 at 64 x 64 are 98 MB)."""
    paths, others = list_images(root)
    skipped = [(str(p.relative_to(root)), "not an image file") for p in others]
    headers = {}
    for path in paths:
        try:
            headers[path] = _header(path)
        except Exception as exc:  # PIL raises many types for broken files
            skipped.append((str(path.relative_to(root)), describe_image_error(exc)))
    if not headers:
        for name, reason in skipped:
            log.warning("skipped %s: %s", Path(root) / name, reason)
        raise UserError(f"{root}: no readable images found ({len(skipped)} files skipped)")
    (h, w), reason = working_size([hw[:2] for hw in headers.values()], image_size)
    if reason:
        log.warning("%s: %s; working at %dx%d (the short side resized to %d, the centre "
                    "kept; set another size with --image-size)", root, reason, w, h, min(h, w))
    if channels is None:
        channels = max(c for _, _, c in headers.values())
    crop = image_size is None  # the working size crops; an explicit --image-size resizes
    x = np.empty((len(headers), h, w, channels), "float32")
    names, count = [], 0
    for path in headers:
        name = str(path.relative_to(root))
        try:
            pixels, _ = read_image(path, at_least=max(h, w))
        except Exception as exc:  # a header that read but a body that does not
            skipped.append((name, describe_image_error(exc)))
            continue
        shaped = fit_to(pixels, h, w) if crop else pixels
        x[count] = to_shape(shaped, h, w, channels)
        names.append(name)
        count += 1
    x = x[:count]
    for name, reason in skipped:
        log.warning("skipped %s: %s", Path(root) / name, reason)
    if skipped and count:
        log.warning("%s: read %d images, skipped %d files", root, count, len(skipped))
    if not count:
        raise UserError(f"{root}: no readable images found ({len(skipped)} files skipped)")
    y, class_names = None, None
    if labels_from_folders:
        tops = [Path(n).parts[0] if len(Path(n).parts) > 1 else None for n in names]
        if all(t is not None for t in tops):
            class_names = sorted(set(tops))
            y = np.array([class_names.index(t) for t in tops], "int64")
    return Dataset(ImageSet(x, y, names, class_names, skipped), None, str(root))


def _reshape(data, image_size, channels):
    def fix(images):
        if images is None:
            return None
        h, w = image_size or images.x.shape[1:3]
        c = channels or images.x.shape[-1]
        if images.x.shape[1:] == (h, w, c):
            return images
        images.x = np.stack([to_shape(p, h, w, c) for p in images.x])
        return images

    return Dataset(fix(data.train), fix(data.test), data.source)


def binarize_images(x, seed=0):
    """Draw each pixel as Bernoulli(grey level) once, reproducibly (fixed evaluation sets).

    Args:
        x: np.ndarray. Images in [0, 1].
        seed: int. Same seed, same 0/1 images.

    Examples:
    >>> x_test_binary = binarize_images(x_test, seed=12345)
    """
    return (np.random.default_rng(seed).random(np.shape(x)) < x).astype("float32")


