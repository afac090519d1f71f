"""The figure of docs: a noisy held-out photo, the preset's denoised image and its
uncertainty map, side by side at 1:1.

    python benchmarks/uncertainty_figure.py [--photo astronaut] [--noise poisson:0.01+gaussian:0.02]
        [--samples 16] [--out docs/uncertainty_map.png]

A 256 x 256 crop of a held-out scikit-image photo with the noise added (seed 0, saved as
8-bit values), denoised by the ``photo`` preset from 16 posterior draws (what
``vae-apps denoise --samples 16 --uncertainty DIR`` writes): the mean, and each pixel's
predicted error standard deviation, averaged over the colour channels and shown with
the ``magma`` colour map from 0 to its 99.5th percentile. It also prints the share of
the crop's pixels whose error lies within 2 predicted standard deviations.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402,F401  (quiet TensorFlow)

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", default="astronaut")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--left", type=int, default=150)
    parser.add_argument("--noise", default="poisson:0.01+gaussian:0.02")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--out", default=str(ROOT / "docs" / "uncertainty_map.png"))
    args = parser.parse_args()

    import numpy as np
    from matplotlib import colormaps
    from PIL import Image, ImageDraw

    from vae_apps.denoising.full_resolution import denoise_with_samples
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.denoising.presets import load_preset
    from vae_apps.denoising.quality import psnr_ssim
    from vae_apps.io.photos import bundled_photo

    side = 256
    clean = bundled_photo(args.photo)[args.top:args.top + side, args.left:args.left + side]
    noisy = np.round(np.clip(parse_noise(args.noise).apply(clean[None], seed=0)[0], 0, 1) * 255) / 255
    result = denoise_with_samples(load_preset("photo"), noisy.astype("float32"),
                                  samples=args.samples, seed=0)
    inside = float(np.mean(np.abs(result.mean - clean) <= 2 * result.std))
    std = result.std.mean(axis=-1)
    top = float(np.quantile(std, 0.995))
    heat = colormaps["magma"](np.clip(std / top, 0, 1))[..., :3]

    def panel(image):
        image = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
        return Image.fromarray(np.round(np.clip(image, 0, 1) * 255).astype("uint8"))

    captions = [f"noisy ({psnr_ssim(clean, noisy)[0]:.1f} dB)",
                f"denoised, mean of {args.samples} draws ({psnr_ssim(clean, result.mean)[0]:.1f} dB)",
                f"predicted error std, 0-{255 * top:.0f} grey levels"]
    gap, band = 8, 22
    figure = Image.new("RGB", (3 * side + 2 * gap, side + band), "white")
    draw = ImageDraw.Draw(figure)
    for k, (image, caption) in enumerate(zip((noisy, result.mean, heat), captions)):
        x = k * (side + gap)
        figure.paste(panel(image), (x, band))
        draw.text((x + 2, 5), caption, fill="black")
    out = Path(args.out)
    figure.save(out)
    print(f"{args.photo} crop, {args.noise}: within 2 predicted std {100 * inside:.1f} % of the "
          f"pixels; wrote {out}")


if __name__ == "__main__":
    main()
