"""Argument types and option groups shared by several commands."""

import argparse


def image_size(text):
    """The ``--image-size`` type: ``28`` or ``28x32`` (height x width).

    Args:
        text: str. The option's value.

    Examples:
    >>> image_size("28x32")
    (28, 32)
    """
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a size like 28 or 28x32 (height x width)")
    return tuple(parts)


def int_list(text):
    """The type of list options (``--filters``): ``32,64`` -> (32, 64).

    Args:
        text: str. The option's value.

    Examples:
    >>> int_list("32,64")
    (32, 64)
    """
    try:
        values = tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give positive integers like 32,64")
    return values


def _number(text, kind, valid, expected):
    """``text`` as ``kind`` if ``valid(value)``, else an argparse error saying ``expected``."""
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not valid(value):
        raise argparse.ArgumentTypeError(f"{text!r}: {expected}")
    return value


def positive_float(text):
    """The type of scales and levels (``--strength``): a number above 0.

    Args:
        text: str. The option's value.

    Examples:
    >>> positive_float("1.5")
    1.5
    """
    return _number(text, float, lambda v: 0 < v < float("inf"), "give a number above 0, like 1.5")


def positive_int(text):
    """The type of counts (``--epochs``): an integer of at least 1.

    Args:
        text: str. The option's value.

    Examples:
    >>> positive_int("3")
    3
    """
    return _number(text, int, lambda v: v >= 1, "give a positive integer")


def weight_below_one(text):
    """The type of mixing weights (``--smoothing``): a number in [0, 1).

    Args:
        text: str. The option's value.

    Examples:
    >>> weight_below_one("0.9")
    0.9
    """
    return _number(text, float, lambda v: 0.0 <= v < 1.0,
                   "give a number from 0 up to (not including) 1")


def add_data_options(parser):
    """Add ``DATA``, ``--image-size``, ``--grayscale`` / ``--rgb``.

    Args:
        parser: argparse.ArgumentParser. A command's parser.

    Examples:
    >>> add_data_options(p)  # doctest: +SKIP
    """
    parser.add_argument("data", metavar="DATA",
                        help="digits | mnist | fashion_mnist | cifar10 | a .npz/.npy file | an image folder")
    parser.add_argument("--image-size", type=image_size, metavar="HxW",
                        help="resize images to this size (default: the data's own)")
    colour = parser.add_mutually_exclusive_group()
    colour.add_argument("--grayscale", dest="channels", action="store_const", const=1,
                        help="read images as grey levels")
    colour.add_argument("--rgb", dest="channels", action="store_const", const=3,
                        help="read images as colour")


def add_common_options(parser, seed=True, overwrite=True):
    """Add ``--quiet``, ``--seed`` and ``--overwrite``.

    Args:
        parser: argparse.ArgumentParser. A command's parser.
        seed: bool. Add ``--seed`` (default 0).
        overwrite: bool. Add ``--overwrite``.

    Examples:
    >>> add_common_options(p, overwrite=False)  # doctest: +SKIP
    """
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars or progress lines (results and warnings still print)")
    if seed:
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    if overwrite:
        parser.add_argument("--overwrite", action="store_true",
                            help="replace outputs that already exist")


def load_data_from_args(args, model_path=None):
    """``vae_apps.io.data.load_data`` with the data options of ``args``; an image folder
    read for a model (``model_path``) is worked at the model's size unless
    ``--image-size`` says otherwise.

    Args:
        args: argparse.Namespace. Parsed with ``add_data_options``.
        model_path: str or None. The model the data is for.

    Examples:
    >>> data = load_data_from_args(args)  # doctest: +SKIP
    """
    from pathlib import Path

    from vae_apps.io.data import load_data

    size = args.image_size
    if size is None and model_path is not None and Path(args.data).is_dir():
        from vae_apps.denoising.presets import model_image_shape

        try:
            shape = model_image_shape(model_path)
        except Exception:  # a missing or broken model: reported when it is loaded
            shape = (None,)
        if shape[0] is not None:
            size = tuple(shape[:2])
    return load_data(args.data, image_size=size, channels=args.channels)


def load_model_for(path, image_shape=None):
    """Load a VAE safely; if ``image_shape`` is given, check the model fits the data.

    Args:
        path: str. A ``.keras`` file or a preset name.
        image_shape: tuple or None. One image's (H, W, C).

    Examples:
    >>> model = load_model_for("digits.keras", (8, 8, 1))  # doctest: +SKIP
    """
    from vae_apps.denoising.presets import resolve_model
    from vae_apps.loading import check_image_shape

    model = resolve_model(path)
    if image_shape is not None:
        check_image_shape(model.image_shape, image_shape, path)
    return model


def add_engine_options(parser):
    """Add ``--engine``, ``--ray-address``, ``--ray-actors``.

    Args:
        parser: argparse.ArgumentParser. A command's parser.

    Examples:
    >>> add_engine_options(p)  # doctest: +SKIP
    """
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="where the heavy stage runs: this process, or Ray Data actors "
                             '(pip install "ray[data]>=2.40")')
    parser.add_argument("--ray-address", metavar="ADDR",
                        help="join this Ray cluster (default: start a local Ray for the job)")
    parser.add_argument("--ray-actors", type=positive_int, default=2, metavar="N",
                        help="Ray actors, each holding the model once (default 2)")
