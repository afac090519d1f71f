"""The before/after figure of docs/ and README: held-out photos at 1:1, the preset against
non-local means with a blind sigma.

    python benchmarks/photo_figure.py --photos PHOTOS [--out docs/photo_before_after.png]

Columns: a clean saturated photo (smarties, no noise: it must come back unchanged), the
same with Gaussian noise 25 saved as JPEG quality 90 (4:2:0), fruits with camera-like
Poisson-Gaussian noise (variance 0.01 x + 0.02^2), and coffee with Gaussian noise 25.
Rows: the input, non-local means given ``estimate_sigma``'s blind sigma, the photo preset.
Each crop is 176 x 176 pixels from the photo's centre, shown 1:1; its PSNR against the
clean photo is printed.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write_results  # noqa: E402  (and TensorFlow quiet)

CROP = 176
COLUMNS = (("smarties", None, "clean"),
           ("smarties", "gaussian:{}+jpeg420:90".format(25 / 255), "σ 25, JPEG 90"),
           ("fruits", "poisson:0.01+gaussian:0.02", "Poisson-Gaussian"),
           ("coffee", "gaussian:{}".format(25 / 255), "σ 25"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", required=True, help="scripts/fetch_photos.sh's folder")
    parser.add_argument("--out", default="docs/photo_before_after.png")
    args = parser.parse_args()
    import numpy as np
    from skimage.restoration import denoise_nl_means, estimate_sigma

    from denoise_photos import held_out_photos
    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.denoising.presets import load_preset
    from vae_apps.denoising.quality import psnr_ssim
    from vae_apps.plots import rows_figure

    photos = held_out_photos(args.photos)["colour"]
    preset = load_preset("photo")
    rows = {"input": [], "NL-means, blind σ": [], "vae_apps photo preset": []}
    scores = []
    for i, (name, spec, caption) in enumerate(COLUMNS):
        clean = photos[name]
        noisy = clean if spec is None else parse_noise(spec).apply(clean[None], seed=i)[0]
        sigma = float(estimate_sigma(noisy, channel_axis=-1, average_sigmas=True))
        nlm = np.clip(denoise_nl_means(noisy, h=0.8 * sigma, sigma=sigma, patch_size=5,
                                       patch_distance=6, fast_mode=True, channel_axis=-1), 0, 1)
        ours = denoise_full_resolution(preset, noisy)
        top, left = (clean.shape[0] - CROP) // 2, (clean.shape[1] - CROP) // 2
        for row, image in zip(rows, (noisy, nlm, ours)):
            rows[row].append(image[top:top + CROP, left:left + CROP])
        scores.append([psnr_ssim(clean, image)[0] for image in (noisy, nlm, ours)])
        print(f"{name} ({caption}): input {scores[-1][0]:.2f}, NL-means {scores[-1][1]:.2f}, "
              f"preset {scores[-1][2]:.2f} dB")
    title = "   |   ".join(f"{name}, {caption}" for name, _, caption in COLUMNS)
    rows_figure(args.out, rows, title=title, actual_size=True)
    print(f"wrote {args.out}")
    # psnr_ssim gives 100 dB for identical images
    dB = lambda value: "∞" if value >= 100 else f"{value:.2f}"  # noqa: E731
    write_results("denoise_photos_figure", texts={"scores": "PSNR of input / NL-means (blind) / "
                  "preset: " + ", ".join(f"{name} {caption} {' / '.join(dB(v) for v in score)} dB"
                                         for (name, _, caption), score in zip(COLUMNS, scores))})


if __name__ == "__main__":
    main()
