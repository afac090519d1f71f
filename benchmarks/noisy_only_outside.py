"""Noisy-only models on four folders that share no image with denoise_noisy_only.py's tables.

    python benchmarks/noisy_only_outside.py --photos PHOTOS --work WORK

For each folder it writes the noisy images (8-bit PNGs, seed i for image i), trains a
noisy-only model on them as ``vae-apps train NOISY/ --patch-size 64 --noisy-only`` does
(``denoise_noisy_only.train``; kept in WORK with its training minutes, where a later run
reuses them, their uncertainty calibrated again by the present library:
``denoise_noisy_only.reused_model``), and measures, against the clean images: mean PSNR of the noisy images, of scikit-image non-local means
with a blind sigma (on the Anscombe-stabilised image where the noise is Poisson alone, the
gain given to it, as in the tables) and of the noisy-only model's output, and for 16
posterior draws the share of pixels whose error lies within 2 predicted standard deviations
(the maps calibrated on the noisy images alone, as ``denoise_noisy_only.py`` measures it).

The folders: a telescope image (``hubble_deep_field``, grey) with Poisson-Gaussian noise
of another strength than the tables'; seven grey textures and scenes (scikit-image) with
Poisson noise at a peak of 30 photons; six colour photos (scikit-image, scikit-learn,
matplotlib) and a grey one (an opencv-doc training photo) with the tables' Poisson-Gaussian
noise; four colour images (a stained tissue section, a retina, a colour wheel, a cat) and a
grey photo (opencv-doc) with Poisson noise at a peak of 60. The table is kept in
benchmarks/results/denoise_noisy_only.json (``outside``).
"""

import argparse
import json
import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402  (quiet TensorFlow)


def outside_folders(photos_dir):
    """{folder: (what it holds, images {name: H x W x C}, noise spec, Poisson gain given to
    non-local means' Anscombe transform or None)}."""
    from vae_apps.io.images import read_image, to_shape
    from vae_apps.io.photos import bundled_photo

    def grey(pixels):
        return to_shape(pixels, *pixels.shape[:2], 1)

    def training_photo(name):
        return read_image(next(Path(photos_dir, "train").glob(name + ".*")))[0]

    textures = ("brick", "grass", "gravel", "moon", "clock", "page", "text")
    colour = ("chelsea", "rocket", "motorcycle_left", "china", "flower", "grace_hopper")
    tissue = ("immunohistochemistry", "retina", "colorwheel", "cat")
    return {
        "hubble_pg": ("telescope image (grey)", {
            "hubble_deep_field": grey(bundled_photo("hubble_deep_field"))},
            "poisson:0.02+gaussian:0.01", None),
        "textures_p30": ("grey textures and scenes", {
            name: bundled_photo(name) for name in textures}, "poisson:0.0333", 0.0333),
        "colour_pg": ("colour photos, one grey", {
            **{name: bundled_photo(name) for name in colour},
            "basketball1": training_photo("basketball1")}, "poisson:0.01+gaussian:0.02", None),
        "colour_p60": ("tissue, retina, colour wheel, cat; one grey photo", {
            **{name: bundled_photo(name) for name in tissue},
            "basketball2": training_photo("basketball2")}, "poisson:0.0167", 0.0167),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", required=True, help="scripts/fetch_photos.sh's folder")
    parser.add_argument("--work", required=True, help="the noisy folders and models (reused)")
    args = parser.parse_args()

    from denoise_noisy_only import (classical, reused_model, score, train, within_two_std,
                                    write_noisy_folder)

    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.io.images import read_image
    from vae_apps.loading import load_for_inference

    rows, per_image, margins = [], [], []
    for folder, (what, images, spec, gain) in outside_folders(args.photos).items():
        folder = Path(args.work, folder)
        model_file, minutes_file = folder / "noisy_only.keras", folder / "train_minutes.json"
        if not model_file.exists():
            write_noisy_folder(images, spec, folder / "noisy")
            minutes = train(str(folder / "noisy"), model_file, images[next(iter(images))].shape[-1],
                            types.SimpleNamespace(epochs=30, patches_per_image=None),
                            noisy_only=True)
            minutes_file.write_text(json.dumps(minutes))
            model = load_for_inference(model_file)
        else:
            model = reused_model(model_file, folder / "noisy")
        noisy = {name: read_image(folder / "noisy" / f"{name}.png")[0] for name in images}
        denoised = {name: denoise_full_resolution(model, x) for name, x in noisy.items()}
        nl_means = {channels: classical(channels == 3, gain, False)["non-local means, blind sigma"]
                    for channels in (1, 3)}  # a colour folder may hold a grey image
        local_means = {name: nl_means[x.shape[-1]](x) for name, x in noisy.items()}
        within, _ = within_two_std(model, images, noisy)
        minutes = json.loads(minutes_file.read_text()) if minutes_file.exists() else None
        ours, theirs = score(images, denoised, 0), score(images, local_means, 0)
        margins.append(ours["psnr"] - theirs["psnr"])
        per_image += [f"{name} {ours['images'][name]['psnr'] - theirs['images'][name]['psnr']:+.2f}"
                      for name in images]
        rows.append([what, str(len(images)), spec, f"{score(images, noisy, 0)['psnr']:.2f}",
                     f"{theirs['psnr']:.2f}", f"{ours['psnr']:.2f}",
                     "–" if minutes is None else f"{minutes:.1f}", f"{100 * within:.1f}"])
        print(rows[-1], flush=True)
    header = ["folder", "images", "noise", "noisy PSNR dB", "NL-means (blind) PSNR dB",
              "noisy-only PSNR dB", "training min", "errors within 2 predicted std %"]
    print(common.table(rows, header))
    print("noisy-only - NL-means, image by image (dB):", "; ".join(per_image))
    common.write_results("denoise_noisy_only", tables={"outside": (header, rows)},
                         texts={"outside_images": "; ".join(per_image)})
    within = [float(row[-1]) for row in rows]
    print(f"noisy-only - NL-means: {', '.join(f'{m:+.2f}' for m in margins)} dB; "
          f"within 2 std: {min(within):.1f}–{max(within):.1f} % (90–98 asked for)")


if __name__ == "__main__":
    main()
