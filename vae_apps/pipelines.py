"""Recipes: small callables that turn a data spec and a few choices into a trained model.

The CLI parses its arguments and calls these; the defaults live here.
"""

from pathlib import Path

from vae_apps.errors import UserError


def patch_training_images(spec, channels=None):
    """Images to draw training patches from: a folder's files (streamed, any sizes),
    the bundled photos (``bundled-photos``), or the images of any other data spec."""
    from vae_apps.photos import BUNDLED_PHOTOS_SPEC, training_photos

    if spec == BUNDLED_PHOTOS_SPEC:
        return training_photos()
    if Path(spec).is_dir():
        from vae_apps.images import list_images

        files, _ = list_images(spec)
        if not files:
            raise UserError(f"{spec}: no image files found (formats: png, jpg, bmp, gif, webp, tiff)")
        return files
    from vae_apps.data import load_data

    data = load_data(spec, channels=channels)
    return list(data.train.x)


def folder_channels(files, sample=50):
    """1 if every one of the first ``sample`` files is grey (read from headers only), else 3."""
    from PIL import Image

    from vae_apps.images import GREY_MODES

    for path in files[:sample]:
        try:
            with Image.open(path) as img:
                if img.mode not in GREY_MODES:
                    return 3
        except Exception:  # unreadable files are reported when training reads them
            continue
    return 1


def train_photo_denoiser(spec, out, *, noise="gaussian:0-0.2", channels=None, **kwargs):
    """Train a full-resolution (fully convolutional) denoiser on patches of ``spec``.

    Returns (summary line, ``TrainResult``). ``kwargs`` go to
    ``vae_apps.training.train_patch_denoiser``.
    """
    from vae_apps.noise import parse_noise
    from vae_apps.training import train_patch_denoiser

    images = patch_training_images(spec, channels)
    if channels is None and not all(hasattr(i, "shape") for i in images):
        channels = folder_channels(images)
    result = train_patch_denoiser(images, parse_noise(noise), channels=channels, out=out, **kwargs)
    history = result.history
    text = (f"trained {result.epochs_run} epochs on patches of {len(images)} images in "
            f"{result.seconds:.0f} s, loss {history['loss'][-1]:.1f}")
    if "val_loss" in history:
        text += f", val_loss {min(history['val_loss']):.1f} (best)"
    status = "interrupted; best model so far" if result.interrupted else "best model"
    return text + f"; {status} written to {out}", result
