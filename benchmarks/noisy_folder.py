"""Write a folder of noisy MNIST test PNGs (and their clean originals) to try `vae-apps denoise`.

    python benchmarks/noisy_folder.py OUT_DIR [--count 200] [--noise gaussian:0.5] [--seed 0]

Creates OUT_DIR/noisy/<digit>/<index>.png and OUT_DIR/clean/<digit>/<index>.png.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_MNIST, load_mnist  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--data", default=str(DEFAULT_MNIST))
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--noise", default="gaussian:0.5")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from vae_apps.io.images import save_uint8
    from vae_apps.denoising.noise import parse_noise

    test = load_mnist(args.data).test
    x, y = test.x[:args.count], test.y[:args.count]
    noisy = parse_noise(args.noise).apply(x, seed=args.seed)
    for i, (clean_img, noisy_img, label) in enumerate(zip(x, noisy, y)):
        for kind, img in (("clean", clean_img), ("noisy", noisy_img)):
            save_uint8(Path(args.out) / kind / str(label) / f"{i:05d}.png", img)
    print(f"wrote {len(x)} noisy ({args.noise}) and clean PNGs under {args.out}")


if __name__ == "__main__":
    main()
