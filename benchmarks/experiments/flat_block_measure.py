"""What the DND check ("the noise left on the flattest 10 % of 16 x 16 blocks, as a share of
the input's") reads for a perfect denoiser: the clean image itself, in place of a result.

    python benchmarks/experiments/flat_block_measure.py --data ../shared/data/real_noise --photos PHOTOS

Two sets with clean references: SIDD's 12 phone crops (noisy / reference pairs), and the
most textured 256 x 256 crop (highest mean absolute Laplacian, on a 64-pixel grid) of each
held-out colour photo (scripts/fetch_photos.sh) with Gaussian noise of 4 and 8 grey levels,
the low levels of DND's low-ISO crops. Where a crop has no flat area the measure reads its
texture: a share near 1 for the clean image means no denoiser can pass without removing
the texture.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from denoise_photos import held_out_photos  # noqa: E402
from denoise_real import flat_blocks, left_noise, load_sets  # noqa: E402

CROP = 256


def clean_share(noisy, clean):
    """The measure's share for the clean image: its 'noise left' over the input's."""
    corners = flat_blocks(noisy)
    return left_noise(clean, corners) / left_noise(noisy, corners)


def most_textured(image, size=CROP, step=64):
    from scipy.ndimage import laplace

    h, w = image.shape[:2]
    corners = [(t, l) for t in range(0, h - size + 1, step) for l in range(0, w - size + 1, step)]
    t, l = max(corners, key=lambda c: np.mean(np.abs(laplace(
        image[c[0]:c[0] + size, c[1]:c[1] + size].mean(axis=-1)))))
    return image[t:t + size, l:l + size]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the real_noise folder (SIDD crops)")
    parser.add_argument("--photos", required=True, help="scripts/fetch_photos.sh's folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    sidd, _ = load_sets(args.data)
    shares = [clean_share(noisy, clean) for noisy, clean in sidd.values()]
    print(f"SIDD, the reference in place of a result: share {min(shares):.2f}-{max(shares):.2f} "
          f"(mean {np.mean(shares):.2f}) over {len(shares)} crops")
    rng = np.random.default_rng(args.seed)
    print("held-out colour photos, most textured crop, the clean crop in place of a result:")
    print(f"  {'photo':<14} {'4 grey levels':>14} {'8 grey levels':>14}")
    for name, image in held_out_photos(args.photos)["colour"].items():
        crop = most_textured(image)
        row = [clean_share(np.clip(crop + rng.normal(0, level / 255, crop.shape), 0, 1)
                           .astype("float32"), crop) for level in (4, 8)]
        print(f"  {name:<14} {row[0]:>14.2f} {row[1]:>14.2f}")


if __name__ == "__main__":
    main()
