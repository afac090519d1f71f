"""Pretrained models that ship with the package, loaded by name (keras-hub style).

Each preset's weights are package data, trained here by the command in its entry
(docs/denoising.md lists the figures); loading uses Keras ``safe_mode``.
"""

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from vae_apps.errors import UserError
from vae_apps.loading import load_for_inference, load_vae, saved_image_shape


@dataclass(frozen=True)
class Preset:
    """A named, versioned set of weights shipped as package data.

    Args:
        file: str. The ``.keras`` file under ``vae_apps/denoising/weights``.
        channels: int. 1 (grey) or 3 (colour).
        description: str. What it is for (``vae-apps denoise --help`` lists the presets).
        commands: tuple of str. How the shipped file was trained, step by step (run from
            the repository root; a later step trains the earlier one's file further).

    Examples:
    >>> PRESETS["photo-grey"].channels
    1
    """

    file: str
    channels: int
    description: str
    commands: tuple


# scripts/train_presets.sh runs these (PHOTOS: scripts/fetch_photos.sh's folder),
# resumable, then keeps the last step's weights without the optimizer's state (export_preset).
_TRAIN = ("vae-apps train bundled-photos+PHOTOS/train --patch-size 64 {colour} --noise {noise} "
          "--epochs {epochs} --seed 0 --out WORK/{file} --resume WORK/{file}.backup")
# The colour preset's first step is the mix before camera-pipeline noise joined it (the
# shipped file of that time); the next two train it further on the mix with camera noise,
# 12 epochs each (18 minutes each on 2 cores), at half and then a quarter of the learning
# rate, the second on other crops and noise (seed 1); the fourth (seed 2) on the camera
# noise with its chroma blur drawn as now (camera.py's CHROMA_BLUR); the last two (seeds 3
# and 4, 19 minutes each) with the noise below black kept (camera.add_sensor_noise).
# Steps 2-4 ran the camera pipeline as it then was. 12 SIDD phone crops, blind, at the
# estimated level: 31.47 dB after step 2, 31.87 after 3, 32.10 after 4, 33.19 after 5,
# 33.57 after 6 (35.07 at the camera-noise strength, 34.92 as denoise runs it).
_PHOTO_MIX_BEFORE_CAMERA = ("gaussian:0-0.004,gaussian:0-0.2,poisson:0.0005-0.03+gaussian:0-0.04,"
                            "correlated:0-0.15,gaussian:0-0.2+jpeg:60-95,"
                            "poisson:0.0005-0.02+correlated:0-0.08+jpeg:60-95")
PRESETS = {
    # The grey preset is the blind Gaussian model: a grey model trained on the photo mix
    # (30 epochs) denoised sigma 25 to 24.1 dB on camera, where this one gives 29.1 (see
    # docs/denoising.md); it takes no noise level, so --strength sends grey images to
    # the colour preset.
    "photo-grey": Preset("photo_grey.keras", 1,
                         "blind Gaussian denoiser for grey photos and scans (sigma 0-51 of 255)",
                         ("vae-apps train bundled-photos --patch-size 64 --grayscale --noise "
                          "gaussian:0-0.2 --epochs 100 --seed 0 --out "
                          "vae_apps/denoising/weights/photo_grey.keras",)),
    "photo-rgb": Preset("photo_rgb.keras", 3,
                        "blind denoiser for colour photos: real camera and phone noise "
                        "(ISO 100-12,800, JPEG or not), Gaussian and Poisson-Gaussian noise",
                        (_TRAIN.format(colour="--rgb", noise=_PHOTO_MIX_BEFORE_CAMERA, epochs=40,
                                       file="photo_rgb_before_camera.keras"),
                         _TRAIN.format(colour="--rgb", noise="photo", epochs=12,
                                       file="photo_rgb_camera.keras")
                         + " --init WORK/photo_rgb_before_camera.keras --learning-rate 5e-4",
                         _TRAIN.format(colour="--rgb", noise="photo", epochs=12,
                                       file="photo_rgb_camera2.keras").replace("--seed 0", "--seed 1")
                         + " --init WORK/photo_rgb_camera.keras --learning-rate 2.5e-4",
                         _TRAIN.format(colour="--rgb", noise="photo", epochs=12,
                                       file="photo_rgb_chroma.keras").replace("--seed 0", "--seed 2")
                         + " --init WORK/photo_rgb_camera2.keras --learning-rate 2.5e-4",
                         _TRAIN.format(colour="--rgb", noise="photo", epochs=12,
                                       file="photo_rgb_black.keras").replace("--seed 0", "--seed 3")
                         + " --init WORK/photo_rgb_chroma.keras --learning-rate 2e-4",
                         _TRAIN.format(colour="--rgb", noise="photo", epochs=12, file="photo_rgb.keras")
                         .replace("--seed 0", "--seed 4")
                         + " --init WORK/photo_rgb_black.keras --learning-rate 1e-4")),
}
# A name that picks the grey or the colour preset per image.
PHOTO = "photo"
DEFAULT_DENOISER = PHOTO


def is_preset(name):
    """True for a shipped preset's name (``photo``, ``photo-grey``, ``photo-rgb``).

    Args:
        name: str or Path. A model argument (a preset name or a file).

    Examples:
    >>> is_preset("photo"), is_preset("model.keras")
    (True, False)
    """
    return isinstance(name, str) and (name == PHOTO or name in PRESETS)


def preset_path(name):
    """The shipped file of preset ``name``.

    Args:
        name: str. ``photo-grey`` or ``photo-rgb``.

    Examples:
    >>> preset_path("photo-grey").name
    'photo_grey.keras'
    """
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}; presets: {', '.join([PHOTO, *PRESETS])}")
    path = Path(str(resources.files("vae_apps.denoising") / "weights" / PRESETS[name].file))
    if not path.is_file():
        raise UserError(f"preset {name!r}: its weights file is missing from the installed package "
                        f"({path}); reinstall vae_apps")
    return path


def load_preset(name, precision="auto"):
    """Load a preset by name: ``photo-grey``, ``photo-rgb``, or ``photo`` (both, each
    image gets the one that matches its channels).

    Args:
        name: str. The preset's name.
        precision: str. ``"auto"``, ``"float32"`` or ``"mixed"`` (``vae_apps.hardware``).

    Examples:
    >>> denoiser = load_preset("photo")
    >>> clean = denoise_full_resolution(denoiser, noisy_photo)
    """
    if name == PHOTO:
        from vae_apps.denoising.full_resolution import PhotoDenoiser

        return PhotoDenoiser(load_preset("photo-grey", precision), load_preset("photo-rgb", precision))
    return load_vae(preset_path(name), compile=False, precision=precision)


def resolve_model(model):
    """The one resolution of a model argument: a loaded model is returned as it is, a
    preset name loads the shipped preset, anything else is a ``.keras`` file loaded for
    inference (safe mode).

    Args:
        model: BaseVAE or PhotoDenoiser or str or Path. A model, a preset name or a file.

    Examples:
    >>> resolve_model("photo-grey").channels
    1
    """
    if hasattr(model, "image_shape"):
        return model
    if is_preset(model):
        return load_preset(model)
    return load_for_inference(model)


def model_image_shape(model):
    """The image shape a model argument takes, without loading TensorFlow: ``(H, W, C)``,
    ``(None, None, C)`` for a fully convolutional model, ``(None, None, None)`` for the
    ``photo`` preset (grey or colour per image).

    Args:
        model: BaseVAE or str or Path. A model, a preset name or a ``.keras`` file.

    Examples:
    >>> model_image_shape("photo-rgb")
    (None, None, 3)
    """
    if hasattr(model, "image_shape"):
        return tuple(model.image_shape)
    if model == PHOTO:
        return (None, None, None)
    if is_preset(model):
        return (None, None, PRESETS[model].channels)
    return saved_image_shape(model)


def export_preset(trained, out):
    """Write a trained denoiser as a preset file: float32 weights, no optimizer state
    (a third of the size), loaded back with ``safe_mode`` to check it.

    Args:
        trained: str or Path. The ``.keras`` file ``vae-apps train`` wrote.
        out: str or Path. The preset file (``vae_apps/denoising/weights/...``).

    Examples:
    >>> export_preset("WORK/photo_rgb.keras", "vae_apps/denoising/weights/photo_rgb.keras")
    """
    from vae_apps.io.files import atomic_path

    model = load_vae(trained, compile=False, precision="float32")
    with atomic_path(out, overwrite=True) as tmp:
        model.save(tmp)
    load_vae(out, compile=False)
    return Path(out).stat().st_size
