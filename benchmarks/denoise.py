"""Denoising benchmark on MNIST: vae_apps against classic filters and a plain denoising
autoencoder (the keras.io example's architecture), trained the same way, in one run.

    python benchmarks/denoise.py [--data ../shared/data/mnist.npz] [--epochs 3]

Prints mean PSNR (dB) and SSIM over the test images for each noise model.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (DEFAULT_MNIST, PREVIOUS_TRAINING, Timer, load_mnist, report_table,  # noqa: E402
                    write_results)


def plain_denoising_autoencoder(shape):
    """The keras.io convolutional denoising autoencoder (examples/vision/autoencoder.py)."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=shape)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(shape[-1], (3, 3), activation="sigmoid", padding="same")(x)
    model = keras.Model(inputs, x)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def classic_filters():
    import numpy as np
    from scipy.ndimage import median_filter
    from skimage.restoration import denoise_nl_means, denoise_tv_chambolle

    def median(x):
        return median_filter(x, size=(1, 3, 3, 1))

    def nl_means(x):
        out = np.empty_like(x)
        # The noise level each image shows against its own median-filtered version.
        sigmas = np.std(x - median(x), axis=(1, 2, 3))
        for i, img in enumerate(x):
            sigma = float(sigmas[i])
            out[i, ..., 0] = denoise_nl_means(img[..., 0], h=0.8 * sigma, sigma=sigma,
                                              patch_size=3, patch_distance=5, fast_mode=True)
        return out

    def total_variation(x):
        return np.stack([denoise_tv_chambolle(img, weight=0.15, channel_axis=-1) for img in x])

    return {"median 3x3": median, "non-local means (skimage)": nl_means,
            "total variation (skimage)": total_variation}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_MNIST))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--beta", type=float, default=0.1, help="vae_apps denoiser's KL weight")
    parser.add_argument("--noise", nargs="+", default=["gaussian:0.5", "salt_pepper:0.2"])
    parser.add_argument("--limit", type=int, help="use only the first N train/test images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--previous-defaults", action="store_true",
                        help="also train vae_apps' denoiser with the training settings before "
                             "benchmarks/experiments/time_to_quality.py (float32, Adam 1e-3 constant)")
    args = parser.parse_args()

    import keras

    from vae_apps.training.datasets import make_dataset
    from vae_apps.denoising.quality import image_quality
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.training.loop import train_vae
    from vae_apps.training.small_images import SmallImageConfig

    TRAINING_DEFAULTS = SmallImageConfig().for_images(10**9)  # a large set: the base recipe

    data = load_mnist(args.data)
    x_train, x_test = data.train.x[:args.limit], data.test.x[:args.limit]
    print(f"MNIST: {len(x_train)} train / {len(x_test)} test images; {args.epochs} epochs, "
          f"seed {args.seed}; noise drawn afresh per batch in training; the plain DAE: batch "
          f"{args.batch_size}; vae_apps: its training defaults {TRAINING_DEFAULTS}")
    rows = []
    for spec in args.noise:
        noise = parse_noise(spec)
        noisy = noise.apply(x_test, seed=args.seed + 1000)
        results = {"noisy input": (noisy, 0.0)}
        for name, fn in classic_filters().items():
            with Timer() as t:
                images = fn(noisy)
            results[name] = (images, t.seconds)

        keras.utils.set_random_seed(args.seed)
        dae = plain_denoising_autoencoder(x_train.shape[1:])
        pairs = make_dataset(x_train, args.batch_size, seed=args.seed, noise=noise)
        with Timer() as t:
            dae.fit(pairs, epochs=args.epochs, verbose=2)
        results["plain denoising AE (keras.io)"] = (dae.predict(noisy, batch_size=512, verbose=0), t.seconds)

        runs = [("defaults now", TRAINING_DEFAULTS)]
        if args.previous_defaults:
            runs.insert(0, ("previous defaults", PREVIOUS_TRAINING))
        for name, settings in runs:
            with Timer() as t:
                vae = train_vae(x_train, None, noise=noise, seed=args.seed, beta=args.beta,
                                verbose=2, **{**settings, "epochs": args.epochs}).model
            results[f"vae_apps denoiser, {name}"] = (vae.reconstruct(noisy, 512), t.seconds)

        for name, (images, seconds) in results.items():
            q = image_quality(x_test, images)
            rows.append([spec, name, f"{q['psnr']:.2f}", f"{q['ssim']:.3f}", f"{seconds:.0f}"])
            print(rows[-1], flush=True)
    print()
    report_table("denoise_mnist", "mnist", rows,
                 ["noise", "method", "PSNR (dB)", "SSIM", "train/run s"])
    by = {(r[0], r[1]): float(r[2]) for r in rows}
    margins = []
    for spec in args.noise:
        ours = by[(spec, "vae_apps denoiser, defaults now")]
        margins.append(f"{spec}: vae_apps − noisy input {ours - by[(spec, 'noisy input')]:+.2f} dB, "
                       f"vae_apps − plain denoising AE "
                       f"{ours - by[(spec, 'plain denoising AE (keras.io)')]:+.2f} dB")
    print("\n".join(margins))
    write_results("denoise_mnist", texts={"margins": "; ".join(margins)})


if __name__ == "__main__":
    main()
