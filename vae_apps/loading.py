"""Loading saved models safely, for inference and for further training.

Inference imports this module, never ``vae_apps.training``. Importing it does not
import Keras (``saved_image_shape`` reads a model's shape before TensorFlow starts).
Preset names are resolved by ``vae_apps.denoising.presets.resolve_model``, which calls this module.
"""

import copy
import functools
import json
import zipfile

from vae_apps.errors import UserError
from vae_apps.io.files import check_model_file


def load_vae(path, compile=True, precision=None):
    """Load a ``.keras`` vae_apps model with ``safe_mode`` on; raise UserError with the reason.

    Args:
        path: str or Path. The ``.keras`` file.
        compile: bool. ``False`` leaves the optimizer out: for inference, and quicker.
        precision: str or None. ``None`` keeps the saved dtype policy; ``"auto"``, ``"float32"`` or
            ``"mixed"`` rebuilds a fully convolutional model in that precision (the
            weights are float32 in every case).

    Examples:
    >>> model = load_vae("denoiser.keras", compile=False, precision="auto")
    """
    import keras

    from vae_apps.models import BaseVAE, FullyConvVAE  # registers every model class

    path = check_model_file(path)
    read_model_config(path)  # refuses hostile or absurd archives before Keras reads them
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=compile)
    except ValueError as exc:
        if "safe_mode" in str(exc) or "lambda" in str(exc).lower():
            raise UserError(f"{path}: refused: it contains Python code (a Lambda layer), "
                            "which vae_apps never runs (Keras safe_mode)") from None
        raise UserError(f"{path}: not a loadable Keras model ({_first_line(exc)})") from None
    except Exception as exc:  # truncated zips, unknown classes, bad configs
        raise UserError(f"{path}: not a loadable Keras model ({_first_line(exc)})") from None
    if not isinstance(model, BaseVAE):
        raise UserError(f"{path}: holds a {type(model).__name__}, not a vae_apps VAE")
    if precision is not None and isinstance(model, FullyConvVAE):
        model = with_precision(model, precision)
    return model


def with_precision(model, precision, keep_optimizer=False):
    """The same model computing in ``precision`` (a copy if it differs).

    Args:
        model: BaseVAE. The model.
        precision: str. ``"auto"``, ``"float32"`` or ``"mixed"`` (``vae_apps.hardware``).
        keep_optimizer: bool. Give the copy of a compiled model the same optimizer with its
            state, so it can be saved and trained further (not needed for inference).

    Examples:
    >>> portable = with_precision(model, "float32")
    >>> portable.save("model.keras")
    """
    from vae_apps.hardware import dtype_policy

    policy = dtype_policy(precision)
    if model.dtype_policy.name == policy:
        return model
    import keras

    copy = _copy_in(model, policy)
    if keep_optimizer and getattr(model, "optimizer", None) is not None and model.optimizer.built:
        copy.compile(optimizer=keras.optimizers.deserialize(
            keras.optimizers.serialize(model.optimizer)))
        copy.optimizer.build(copy.trainable_variables)
        for mine, theirs in zip(copy.optimizer.variables, model.optimizer.variables):
            mine.assign(theirs)
    return copy


def for_evaluation(model, precision="auto"):
    """A throwaway copy of ``model`` for loops that call its networks many times
    (importance sampling): computing in ``precision``, with its decoder's transposed
    convolutions computed as ``networks.phase_decomposed`` makes them. Same outputs;
    never save or train it.

    Args:
        model: BaseVAE. The model (not changed).
        precision: str. ``"auto"``, ``"float32"`` or ``"mixed"`` (``vae_apps.hardware``).

    Examples:
    >>> fast = for_evaluation(model)
    >>> fast.pixel_parameters(z, x, x)  # as model.pixel_parameters(z, x, x)
    """
    from vae_apps.hardware import dtype_policy
    from vae_apps.models.networks import phase_decomposed

    copy = _copy_in(model, dtype_policy(precision))  # always a copy: its decoder is replaced
    # Keras forbids new sub-layers once a model is built; this copy is only ever
    # called, so its decoder is swapped past the tracking.
    object.__setattr__(copy, "decoder", phase_decomposed(copy.decoder))
    return copy


def _copy_in(model, policy):
    """A new model of the same class and config, computing in dtype ``policy``, with
    ``model``'s weights."""
    copy = type(model).from_config({**model.get_config(), "dtype": policy})
    copy.set_weights(model.get_weights())
    return copy


def load_for_inference(path):
    """A model for inference from a ``.keras`` file: no optimizer, fully convolutional
    models in the machine's fastest precision (preset names: ``vae_apps.denoising.presets``).

    Args:
        path: str or Path. A ``.keras`` file.

    Examples:
    >>> model = load_for_inference("my_denoiser.keras")
    """
    return load_vae(path, compile=False, precision="auto")


def check_image_shape(model_shape, data_shape, where):
    """The one model-versus-data shape check: a fully convolutional model (``None`` sides)
    takes any height and width; otherwise the shapes must be equal.

    Args:
        model_shape: tuple. The model's ``image_shape``.
        data_shape: tuple. One image's (H, W, C).
        where: str or Path. Names the data in the error.

    Examples:
    >>> check_image_shape((28, 28, 1), (32, 32, 1), "x.npz")  # raises UserError  # doctest: +SKIP
    """
    model_shape, data_shape = tuple(model_shape), tuple(int(s) for s in data_shape)
    if model_shape[0] is None:
        return
    if model_shape != data_shape:
        raise UserError(f"{where}: images of shape {data_shape}, the model expects {model_shape} "
                        "(use --image-size / --grayscale / --rgb)")


def saved_image_shape(path):
    """The image shape in a saved model's config, read without loading TensorFlow:
    ``(H, W, C)``; ``(None, None, C)`` for a fully convolutional model.

    Args:
        path: str or Path. A ``.keras`` file.

    Examples:
    >>> saved_image_shape("mnist.keras")  # doctest: +SKIP
    (28, 28, 1)
    """
    inner = read_model_config(path)["config"]
    if "image_shape" in inner:
        return tuple(int(s) for s in inner["image_shape"])
    return (None, None, int(inner["channels"]))


# What a vae_apps archive holds; anything else (a path with "..", an absolute path,
# an extra file) is refused before Keras opens the archive.
_ARCHIVE_ENTRIES = frozenset({"config.json", "metadata.json", "model.weights.h5"})
_MODEL_CLASSES = frozenset({"vae_apps>VAE", "vae_apps>FullyConvVAE", "vae_apps>SemiSupervisedVAE",
                            "vae_apps>HierarchicalVAE"})
# Nested objects a vae_apps config may name: Keras' own optimizers, schedules and
# dtype policies. Functions, lambdas and any other module are refused.
_NESTED_MODULES = ("keras", "keras.optimizers", "keras.optimizers.schedules", "keras.losses",
                   "keras.metrics", "keras.src.dtype_policies.dtype_policy")
# Sizes beyond these are refused before any allocation (a 4096 x 4096 x 4 image,
# 64k latent units or dense units, 4096 filters).
_MAX_PIXELS, _MAX_UNITS, _MAX_FILTERS = 4096 * 4096 * 4, 65536, 4096


def read_model_config(path):
    """The ``config.json`` of a vae_apps ``.keras`` archive, after checking that the
    archive cannot escape its folder, names only vae_apps' model classes and Keras'
    own optimizers (no functions, lambdas or other modules), and declares sane sizes.
    Raises UserError naming the file and the problem.

    Args:
        path: str or Path. A ``.keras`` file.

    Examples:
    >>> read_model_config("mnist.keras")["registered_name"]  # doctest: +SKIP
    'vae_apps>VAE'
    """
    path = check_model_file(path)
    stat = path.stat()
    # A model argument is resolved once: its shape is read before TensorFlow starts and
    # the same checked config serves the load, so the archive is opened once per version.
    return copy.deepcopy(_checked_config(str(path.resolve()), stat.st_mtime_ns, stat.st_size, path))


@functools.lru_cache(maxsize=8)
def _checked_config(_resolved, _mtime_ns, _size, path):
    """``read_model_config``'s reading and checks, once per file version."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            unexpected = [n for n in names if n not in _ARCHIVE_ENTRIES]
            if unexpected:
                raise UserError(f"{path}: refused: unexpected entry {unexpected[0]!r} in the archive "
                                "(not a vae_apps model)")
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise UserError(f"{path}: not a vae_apps model file (.keras archive with a VAE config)") from None
    if not isinstance(config, dict) or config.get("registered_name") not in _MODEL_CLASSES:
        name = config.get("class_name") if isinstance(config, dict) else None
        raise UserError(f"{path}: holds a {name or 'non-Keras object'}, not a vae_apps VAE "
                        "(refused before loading)")
    _check_nested_objects(path, config.get("config"), config.get("compile_config"))
    _check_sizes(path, config.get("config") or {})
    return config


def _check_nested_objects(path, *trees):
    stack = list(trees)
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            module, name = node.get("module"), node.get("class_name")
            if "class_name" in node:
                if name in ("function", "Lambda", "TFOpLambda", "__lambda__") or (
                        module is not None and module not in _NESTED_MODULES):
                    raise UserError(f"{path}: refused: its config names {module}.{name}, which "
                                    "vae_apps never loads (only its own models and Keras optimizers)")
            if "__lambda__" in node:
                raise UserError(f"{path}: refused: its config holds Python code")
            stack.extend(node.values())


def _check_sizes(path, config):
    def ints(key):
        value = config.get(key)
        values = value if isinstance(value, list) else [] if value is None else [value]
        if not all(isinstance(v, int) and v > 0 for v in values):
            raise UserError(f"{path}: refused: {key} must hold positive integers, got {value!r}")
        return values

    shape = ints("image_shape")
    pixels = 1
    for side in shape:
        pixels *= side
    if pixels > _MAX_PIXELS or max(ints("latent_dim") + ints("hidden_units") + ints("latent_channels")
                                    + ints("classifier_units") + ints("n_classes") + [1]) > _MAX_UNITS or max(ints("filters") + ints("widths") + [1]) > _MAX_FILTERS:
        raise UserError(f"{path}: refused: it declares an absurd size ({pixels:,} pixels per image "
                        "or layers wider than vae_apps builds)")
    if "channels" in config and ints("channels") not in ([1], [3]):
        raise UserError(f"{path}: refused: channels must be 1 or 3")


def _first_line(exc):
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
