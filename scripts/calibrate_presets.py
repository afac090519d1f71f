"""Fit the shipped presets' uncertainty weights on their own training photos and write
them into the preset files (``vae_apps.denoising.calibration.calibrate_uncertainty``).

    python scripts/calibrate_presets.py PHOTOS [grey] [rgb]

PHOTOS is the folder scripts/fetch_photos.sh filled; only its train/ part is read,
as each preset's training command does (the grey preset: the bundled photos alone).
scripts/train_presets.sh runs this after training. The noise is the preset's training
noise; everything runs in float32 with seed 0, so the same files give the same weights.
"""

import sys
from pathlib import Path


def main(argv):
    if not argv:
        raise SystemExit(__doc__)
    photos, kinds = argv[0], argv[1:] or ["grey", "rgb"]
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.denoising.presets import PHOTO, load_preset, preset_path
    from vae_apps.io.files import atomic_path
    from vae_apps.denoising.train import patch_training_images
    from vae_apps.denoising.calibration import calibrate_uncertainty

    photo = load_preset(PHOTO, precision="float32")
    settings = {"grey": (1, "bundled-photos", "gaussian:0-0.2"),
                "rgb": (3, f"bundled-photos+{Path(photos, 'train')}", "photo")}
    for kind in kinds:
        channels, spec, noise = settings[kind]
        images = patch_training_images(spec, channels)  # files or arrays; read when cropped
        model = photo.models[channels]
        weights = calibrate_uncertainty(photo, images, parse_noise(noise), model=model)
        path = preset_path(f"photo-{kind}")
        with atomic_path(path, overwrite=True) as tmp:
            model.save(tmp)
        print(f"photo-{kind}: {len(images)} photos, uncertainty weights "
              + ", ".join(f"{w:.4g}" for w in weights) + f" -> {path}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
