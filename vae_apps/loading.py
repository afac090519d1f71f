"""Loading saved models safely, for inference and for further training.

Inference imports this module, never ``vae_apps.training``. Importing it does not
import Keras (``saved_image_shape`` reads a model's shape before TensorFlow starts).
"""

import json
import zipfile

from vae_apps.errors import UserError
from vae_apps.files import check_model_file


def load_vae(path, compile=True, precision=None):
    """Load a ``.keras`` vae_apps model with ``safe_mode`` on; raise UserError with the reason.

    Args:
        path: the ``.keras`` file.
        compile: ``False`` leaves the optimizer out: for inference, and quicker.
        precision: ``None`` keeps the saved dtype policy; ``"auto"``, ``"float32"`` or
            ``"mixed"`` rebuilds a fully convolutional model in that precision (the
            weights are float32 in every case).

    Examples:
    >>> model = load_vae("denoiser.keras", compile=False, precision="auto")
    """
    import keras

    from vae_apps.fully_conv import FullyConvVAE
    from vae_apps.model import BaseVAE

    path = check_model_file(path)
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


def with_precision(model, precision):
    """The same fully convolutional model computing in ``precision`` (a copy if it differs)."""
    from vae_apps.hardware import dtype_policy

    policy = dtype_policy(precision)
    if model.dtype_policy.name == policy:
        return model
    config = {**model.get_config(), "dtype": policy}
    copy = type(model).from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def load_for_inference(model):
    """A model for inference from a ``.keras`` path or a preset name (``photo`` ...):
    no optimizer, fully convolutional models in the machine's fastest precision."""
    from vae_apps.presets import is_preset, load_preset

    if is_preset(model):
        return load_preset(model)
    return load_vae(model, compile=False, precision="auto")


def saved_image_shape(path):
    """The image shape in a saved model's config (or a preset's), read without loading
    TensorFlow: ``(H, W, C)``; ``(None, None, C)`` for a fully convolutional model;
    ``(None, None, None)`` for the ``photo`` preset (grey or colour per image)."""
    from vae_apps.presets import PHOTO, is_preset, preset_path

    if is_preset(path):
        if path == PHOTO:
            return (None, None, None)
        path = preset_path(path)
    path = check_model_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
        inner = config["config"]
        if "image_shape" in inner:
            return tuple(int(s) for s in inner["image_shape"])
        return (None, None, int(inner["channels"]))
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError, OSError):
        raise UserError(f"{path}: not a vae_apps model file (.keras archive with a VAE config)") from None


def _first_line(exc):
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
