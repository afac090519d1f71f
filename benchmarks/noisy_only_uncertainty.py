"""Why the noisy-only models' uncertainty maps are too wide, measured (docs/denoising.md).

    python benchmarks/denoise_noisy_only.py --sets microscopy ... --work WORK   # first
    python benchmarks/noisy_only_uncertainty.py --work WORK [--photos PHOTOS]

For each microscopy case that ``denoise_noisy_only.py`` trained in WORK (the noisy-only
model and its noisy ``cell`` image), against the clean image:

* Stein's unbiased risk estimate of the mean squared error, as the calibration computes
  it (``training.calibrate_uncertainty``: the noise variance read off the noisy image,
  one random nudge for the derivative), next to the true mean squared error, and the
  noise variance read off the image next to the true one;
* the share of errors within 2 predicted standard deviations when the widths are scaled
  by a factor (1: as calibrated), and the factor that would cover 95 %.

With ``--photos``: the same factor for the shipped presets, each refitted (least squares
on the squared errors against the clean crops, no coverage factor) on crops of its own
training photos with several noises: what a factor borrowed from them would be.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402,F401  (quiet TensorFlow)

CASES = {"poisson_30": (0.0333, 0.0), "poisson-gaussian": (0.01, 0.02 ** 2)}  # denoise_noisy_only.CASES
FACTORS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)


def microscopy(work):
    import numpy as np

    from vae_apps.denoising.full_resolution import denoise_with_samples, predictive_std
    from vae_apps.denoising.noisy_only import noise_variance_function
    from vae_apps.io.images import read_image
    from vae_apps.io.photos import bundled_photo
    from vae_apps.loading import load_vae
    from vae_apps.training import uncertainty_fit_data

    clean = bundled_photo("cell")
    for case, (gain, floor) in CASES.items():
        folder = Path(work, "microscopy", case)
        if not (folder / "noisy_only.keras").is_file():
            print(f"{folder}: no noisy-only model; run benchmarks/denoise_noisy_only.py first")
            continue
        model = load_vae(folder / "noisy_only.keras", compile=False, precision="float32")
        noisy = read_image(folder / "noisy" / "cell.png")[0]
        # Stein's estimate as the calibration computes it, on the whole image
        _, sure = uncertainty_fit_data(model, [noisy], None, noisy.shape[-1],
                                       crop=max(noisy.shape), crops_per_image=1, samples=16)
        slope, read_floor = noise_variance_function([noisy])
        result = denoise_with_samples(model, noisy, samples=16, seed=0)
        error = np.abs(result.mean - clean)
        true_variance = float(np.mean(gain * clean + floor))
        print(f"{case}: noise variance read {np.mean(slope * result.mean + read_floor):.3g} "
              f"(true {true_variance:.3g}); mean squared error by Stein's estimate "
              f"{sure.mean():.3g}, true {np.mean(error ** 2):.3g} "
              f"({100 * np.mean(error ** 2) / true_variance:.1f} % of the noise variance)")
        std = predictive_std(noisy, result.mean, result.posterior_std, model.uncertainty_weights)
        shares = [f"{f:.1f}: {100 * np.mean(error <= 2 * f * std):.1f} %" for f in FACTORS]
        print(f"{case}: within 2 std x factor: " + ", ".join(shares)
              + f"; the factor for 95 %: {np.quantile(error / (std + 1e-12), 0.95) / 2:.2f}",
              flush=True)


def presets(photos):
    import numpy as np

    from vae_apps.denoising.noise import parse_noise
    from vae_apps.denoising.presets import PHOTO, load_preset
    from vae_apps.pipelines import patch_training_images
    from vae_apps.training import fit_uncertainty_weights, uncertainty_fit_data

    photo = load_preset(PHOTO, precision="float32")
    settings = {"grey": (1, "bundled-photos", ("gaussian:0-0.2", "gaussian:0.1")),
                "colour": (3, f"bundled-photos+{Path(photos, 'train')}",
                           ("photo", "gaussian:0.1", "poisson:0.01+gaussian:0.02", "poisson:0.0333"))}
    for kind, (channels, spec, noises) in settings.items():
        images = patch_training_images(spec, channels)
        for noise in noises:
            # calibrate_uncertainty's data and least squares, without its coverage factor
            terms, errors = uncertainty_fit_data(photo, images, parse_noise(noise), channels)
            ratio = np.sqrt(errors) / (np.sqrt(terms @ fit_uncertainty_weights(terms, errors)) + 1e-12)
            print(f"preset {kind}, {noise}: within 2 std at factor 1 {100 * np.mean(ratio <= 2):.1f} %;"
                  f" the factor for 95 %: {np.quantile(ratio, 0.95) / 2:.2f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", required=True, help="denoise_noisy_only.py's --work folder")
    parser.add_argument("--photos", help="scripts/fetch_photos.sh's folder: the presets' factor too")
    args = parser.parse_args()
    microscopy(args.work)
    if args.photos:
        presets(args.photos)


if __name__ == "__main__":
    main()
