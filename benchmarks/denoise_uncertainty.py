"""How well the presets' uncertainty maps predict their errors, on held-out photos.

    scripts/fetch_photos.sh PHOTOS            # once: the six held-out opencv-doc photos
    python benchmarks/denoise_uncertainty.py --photos PHOTOS [--samples 16] [--crop 192]

The held-out photos of benchmarks/denoise_photos.py (colour: the eight colour ones;
grey: all ten as grey), one random crop each (seeded), with Gaussian noise of sigma 10,
25 and 50 of 255, Poisson-Gaussian (variance 0.01 x + 0.02^2), strong Poisson (a peak
of 30 photons) or none, saved as 8-bit values, then denoised by the ``photo`` preset
from K posterior draws (``denoise_with_samples``, what ``vae-apps denoise --samples K
--uncertainty DIR`` writes). Columns per set: the share of pixels whose error lies
within 2 predicted standard deviations (``PosteriorSamples.std``, the calibrated map),
the same with the draws' spread alone (``posterior_std``), and the map's mean at the
photo's edges (the 10 % of pixels with the largest clean gradient) over its mean on
flat areas (the 50 % with the smallest).

Results go to benchmarks/results/denoise_uncertainty.json (docs/denoising.md renders them).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402  (quiet TensorFlow)

CASES = {
    "gaussian 10": "gaussian:{}".format(10 / 255),
    "gaussian 25": "gaussian:{}".format(25 / 255),
    "gaussian 50": "gaussian:{}".format(50 / 255),
    "poisson-gaussian": "poisson:0.01+gaussian:0.02",
    "poisson, peak 30": "poisson:0.0333",
    "clean": None,
}


def crops(images, side, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    out = {}
    for name, image in images.items():
        height, width = image.shape[:2]
        top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
        out[name] = image[top:top + side, left:left + side]
    return out


def measure(photo, images, spec, samples):
    """(within 2 predicted std, within 2 posterior std, edge / flat ratio) over ``images``."""
    import numpy as np
    from scipy.ndimage import sobel

    from vae_apps.denoising.full_resolution import denoise_with_samples
    from vae_apps.denoising.noise import parse_noise

    inside = raw = total = 0
    edge, flat = [], []
    for i, clean in enumerate(images.values()):
        noisy = clean if spec is None else parse_noise(spec).apply(clean[None], seed=i)[0]
        noisy = np.round(np.clip(noisy, 0, 1) * 255) / np.float32(255)  # as an 8-bit file
        result = denoise_with_samples(photo, noisy, samples=samples, seed=0)
        error = np.abs(result.mean - clean)
        inside += int(np.sum(error <= 2 * result.std))
        raw += int(np.sum(error <= 2 * result.posterior_std))
        total += error.size
        luma = clean.mean(axis=-1)
        gradient = np.hypot(sobel(luma, 0), sobel(luma, 1))
        std = result.std.mean(axis=-1)
        edge.append(std[gradient >= np.quantile(gradient, 0.9)].mean())
        flat.append(std[gradient <= np.quantile(gradient, 0.5)].mean())
    return inside / total, raw / total, float(np.mean(edge) / np.mean(flat))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", required=True, help="scripts/fetch_photos.sh's folder")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--crop", type=int, default=192)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    from denoise_photos import held_out_photos

    from vae_apps.denoising.presets import load_preset

    photo = load_preset("photo")
    sets = {kind: crops(images, args.crop, args.seed)
            for kind, images in held_out_photos(args.photos).items()}
    rows = []
    for case, spec in CASES.items():
        row = [case]
        for kind in ("colour", "grey"):
            inside, raw, ratio = measure(photo, sets[kind], spec, args.samples)
            row += [f"{100 * inside:.1f}", f"{100 * raw:.1f}", f"{ratio:.2f}"]
            print(f"{kind} {case}: within 2 predicted std {100 * inside:.1f} %, "
                  f"draws' spread alone {100 * raw:.1f} %, edges / flat {ratio:.2f}", flush=True)
        rows.append(row)
    headers = ["noise", "colour: within 2 std %", "colour: draws' spread alone %",
               "colour: edges / flat", "grey: within 2 std %", "grey: draws' spread alone %",
               "grey: edges / flat"]
    common.report_table("denoise_uncertainty", "presets", rows, headers)


if __name__ == "__main__":
    main()
