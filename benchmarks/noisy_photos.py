"""Write the held-out photos (camera, astronaut, coffee, coins) and noisy copies as PNGs.

    python benchmarks/noisy_photos.py DIR [--sigma 25]
    vae-apps denoise DIR/noisy DIR/out --reference DIR/clean --figure before_after.png

Gaussian noise of sigma/255, clipped, quantised to 8 bits as a real file would be;
a fixed seed per photo.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--sigma", type=float, default=25.0, help="noise level, of 255")
    args = parser.parse_args()

    from vae_apps.io.images import save_uint8
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.io.photos import evaluation_photos

    root = Path(args.folder)
    for i, (name, clean) in enumerate(evaluation_photos().items()):
        noisy = parse_noise(f"gaussian:{args.sigma / 255}").apply(clean[None], seed=i)[0]
        save_uint8(root / "clean" / f"{name}.png", clean)
        save_uint8(root / "noisy" / f"{name}.png", noisy)
    print(f"wrote {i + 1} clean and noisy photos under {root}")


if __name__ == "__main__":
    main()
