"""Pretrained models that ship with the package, loaded by name (keras-hub style).

Each preset's weights are package data, trained here by the command in its entry
(README "Denoising photos" lists the figures); loading uses Keras ``safe_mode``.
"""

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from vae_apps.errors import UserError


@dataclass(frozen=True)
class Preset:
    file: str
    channels: int
    description: str
    command: str  # how the shipped file was trained (run from the repository root)


_TRAIN = ("vae-apps train bundled-photos --patch-size 64 {colour} --noise gaussian:0-0.2 "
          "--epochs {epochs} --seed 0 --out vae_apps/weights/{file}")
PRESETS = {
    "photo-grey": Preset("photo_grey.keras", 1,
                         "blind Gaussian denoiser for grey photos and scans (sigma 0-51 of 255)",
                         _TRAIN.format(colour="--grayscale", epochs=100, file="photo_grey.keras")),
    "photo-rgb": Preset("photo_rgb.keras", 3,
                        "blind Gaussian denoiser for colour photos (sigma 0-51 of 255)",
                        _TRAIN.format(colour="--rgb", epochs=60, file="photo_rgb.keras")),
}
# A name that picks the grey or the colour preset per image.
PHOTO = "photo"
DEFAULT_DENOISER = PHOTO


def is_preset(name):
    """True for a shipped preset's name (``photo``, ``photo-grey``, ``photo-rgb``)."""
    return isinstance(name, str) and (name == PHOTO or name in PRESETS)


def preset_path(name):
    """The shipped file of preset ``name``."""
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}; presets: {', '.join([PHOTO, *PRESETS])}")
    path = Path(str(resources.files("vae_apps") / "weights" / PRESETS[name].file))
    if not path.is_file():
        raise UserError(f"preset {name!r}: its weights file is missing from the installed package "
                        f"({path}); reinstall vae_apps")
    return path


def load_preset(name, precision="auto"):
    """Load a preset by name: ``photo-grey``, ``photo-rgb``, or ``photo`` (both, each
    image gets the one that matches its channels).

    Examples:
    >>> denoiser = load_preset("photo")
    >>> clean = denoise_full_resolution(denoiser, noisy_photo)
    """
    from vae_apps.loading import load_vae

    if name == PHOTO:
        from vae_apps.full_resolution import PhotoDenoiser

        return PhotoDenoiser(load_preset("photo-grey", precision), load_preset("photo-rgb", precision))
    return load_vae(preset_path(name), compile=False, precision=precision)
