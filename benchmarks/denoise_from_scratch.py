"""Training a photo denoiser from scratch: vae_apps against a plain autoencoder and the classics.

    python benchmarks/denoise_from_scratch.py [--workdir runs/photos] [--sigmas 15,25,50]

Held-out photos (never used to train a shipped model): camera, astronaut, coffee and
coins from scikit-image, as grey; astronaut and coffee in colour. Gaussian noise of
sigma/255 (clipped to [0, 1], a fixed seed per photo). Methods, in one run:

* the noisy input; scikit-image non-local means (given the true sigma, h = 0.8 sigma,
  5 x 5 patches, 13 x 13 search, the scikit-image example's recipe), total variation
  (Chambolle, weight = sigma) and wavelet (BayesShrink) denoising; BM3D (``bm3d``);
* grey (and with --scratch-colour, colour): a plain convolutional denoising autoencoder of
  the same network as vae_apps' model (the same layers, z = its mean, no sampling, no KL,
  MSE loss), trained the same way on the same patches (``vae-apps train``'s defaults,
  12 bundled photos), and vae_apps trained from scratch with the defaults on them;
* the shipped presets ``photo-grey`` / ``photo-rgb``.

Trained models are kept in --workdir with their training seconds, so a rerun evaluates
the same models; delete the folder to train again. Also: impulse noise on colour crops
(a vae_apps model trained on salt_pepper:0.2 against a 3 x 3 median filter) and one
4000 x 3000 colour photo through ``vae-apps denoise`` (size, mode and peak memory).
Last lines: the preset's PSNR margin over NL-means and its speed ratio over BM3D.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import report_table, write_results  # noqa: E402

# A dozen of the bundled training photos, for the from-scratch rows ("about a dozen").
SCRATCH_PHOTOS = ("chelsea", "rocket", "immunohistochemistry", "brick", "grass", "gravel", "moon",
                  "page", "cell", "motorcycle_left", "china", "grace_hopper")


def noisy_copy(clean, sigma, seed):
    from vae_apps.denoising.noise import parse_noise

    return parse_noise(f"gaussian:{sigma / 255}").apply(clean[None], seed=seed)[0]


def classic_methods(colour):
    import bm3d
    import numpy as np
    from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet

    axis = -1 if colour else None

    def squeeze(f):
        def run(noisy, sigma):
            x = noisy if colour else noisy[..., 0]
            out = np.asarray(f(x, sigma), "float32")
            return out if colour else out[..., None]
        return run

    return {
        "non-local means (scikit-image)": squeeze(lambda x, s: denoise_nl_means(
            x, h=0.8 * s, sigma=s, patch_size=5, patch_distance=6, fast_mode=True, channel_axis=axis)),
        "total variation (scikit-image)": squeeze(lambda x, s: denoise_tv_chambolle(
            x, weight=s, channel_axis=axis)),
        "wavelet BayesShrink (scikit-image)": squeeze(lambda x, s: denoise_wavelet(
            x, sigma=s, method="BayesShrink", mode="soft", rescale_sigma=True,
            channel_axis=axis, convert2ycbcr=colour)),
        "BM3D (bm3d)": squeeze(lambda x, s: bm3d.bm3d_rgb(x, s) if colour else bm3d.bm3d(x, s)),
    }


def plain_autoencoder(channels, dtype):
    """vae_apps' denoising network without the VAE: z is the encoder's mean, MSE loss."""
    import keras

    from vae_apps.models.fully_conv import FullyConvVAE

    vae = FullyConvVAE(channels=channels, dtype=dtype)
    image = keras.Input((None, None, channels))
    z, _ = vae.encoder(image)
    out = keras.layers.Add(dtype="float32")([image, vae.decoder([z, image])])
    return keras.Model(image, out)


def train_plain(images, channels, workdir, epochs, seed=0):
    """Train the plain autoencoder with vae-apps' patch recipe; return (model, seconds)."""
    import keras

    from vae_apps.training.datasets import make_patch_dataset
    from vae_apps.hardware import dtype_policy
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.denoising.train import PATCH_DENOISER

    path, info = workdir / f"plain_{channels}.weights.h5", workdir / f"plain_{channels}.json"
    keras.utils.set_random_seed(seed)
    model = plain_autoencoder(channels, dtype_policy("auto"))
    if path.exists():
        model.load_weights(path)
        return model, json.loads(info.read_text())["seconds"]
    d = PATCH_DENOISER
    steps_per_epoch = len(images) * d.patches_per_image // d.batch_size
    steps = epochs * steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(d.learning_rate, steps, alpha=0.01)
    model.compile(keras.optimizers.Adam(schedule), "mse")
    ds = make_patch_dataset(images, d.patch_size, channels, d.patches_per_image,
                            d.batch_size, parse_noise("gaussian:0-0.2"), seed)
    start = time.perf_counter()
    # Endless patches with the epoch's length given, as train_patch_denoiser does (a finite
    # dataset ends each epoch with Keras' "ran out of data" warning).
    model.fit(ds.repeat(), epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=2)
    seconds = time.perf_counter() - start
    model.save_weights(path)
    info.write_text(json.dumps({"seconds": seconds}))
    return model, seconds


def train_vae_apps(name, images, channels, workdir, noise, epochs):
    """``train_patch_denoiser`` with its defaults; return (model, seconds)."""
    from vae_apps.loading import load_vae
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.denoising.train import train_patch_denoiser

    path, info = workdir / f"{name}.keras", workdir / f"{name}.json"
    if not path.exists():
        result = train_patch_denoiser(images, parse_noise(noise), channels=channels, epochs=epochs,
                                      out=path, verbose=2)
        info.write_text(json.dumps({"seconds": result.seconds}))
    return load_vae(path, compile=False, precision="auto"), json.loads(info.read_text())["seconds"]


def as_method(model):
    from vae_apps.denoising.full_resolution import denoise_full_resolution

    if hasattr(model, "denoise_padded"):
        return lambda noisy, sigma: denoise_full_resolution(model, noisy)

    def plain(noisy, sigma):  # the plain autoencoder: same padding, no tiling needed here
        import numpy as np

        h, w = noisy.shape[:2]
        x = np.pad(noisy, ((0, -h % 4), (0, -w % 4), (0, 0)), mode="symmetric")
        return np.clip(model.predict_on_batch(x[None])[0, :h, :w], 0, 1)
    return plain


def evaluate(methods, photos, sigmas, learned=()):
    """{(method, sigma): (mean PSNR, mean SSIM, megapixels per second)}.

    ``learned`` methods run once untimed first (TensorFlow traces its function then).
    """
    import numpy as np

    from vae_apps.denoising.quality import psnr_ssim

    first = next(iter(photos.values()))
    for method in learned:
        methods[method](first, 0.1)
    results = {}
    for sigma in sigmas:
        noisy = {n: noisy_copy(p, sigma, seed=i) for i, (n, p) in enumerate(photos.items())}
        for method, run in methods.items():
            scores, seconds, pixels = [], 0.0, 0
            for name, clean in photos.items():
                start = time.perf_counter()
                out = noisy[name] if run is None else run(noisy[name], sigma / 255)
                seconds += time.perf_counter() - start
                pixels += clean.shape[0] * clean.shape[1]
                scores.append(psnr_ssim(clean, np.clip(out, 0, 1)))
            psnr, ssim = np.mean(scores, axis=0)
            rate = pixels / 1e6 / seconds if run is not None else float("nan")
            results[method, sigma] = (psnr, ssim, rate)
            print(f"  sigma {sigma:>2}  {method:<40} PSNR {psnr:6.2f}  SSIM {ssim:.3f}  "
                  f"{rate:7.3f} MP/s", flush=True)
    return results


def impulse_rows(workdir, epochs):
    """Colour crops with salt_pepper:0.2: a trained vae_apps model vs a 3 x 3 median."""
    import numpy as np
    from scipy.ndimage import median_filter

    from vae_apps.denoising.quality import psnr_ssim
    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.io.photos import evaluation_photos, training_photos

    model, seconds = train_vae_apps("impulse_rgb", training_photos(), 3, workdir,
                                    "salt_pepper:0.2", epochs)
    crops = [p[:128, :128] for p in evaluation_photos().values() if p.shape[-1] == 3]
    crops += [p[-128:, -128:] for p in evaluation_photos().values() if p.shape[-1] == 3]
    noisy = [parse_noise("salt_pepper:0.2").apply(c[None], seed=i)[0] for i, c in enumerate(crops)]
    rows = []
    for method, run in [("noisy input", lambda x: x),
                        ("median 3x3", lambda x: median_filter(x, size=(3, 3, 1))),
                        (f"vae_apps, trained {seconds / 60:.0f} min", lambda x: denoise_full_resolution(model, x))]:
        scores = np.mean([psnr_ssim(c, run(n)) for c, n in zip(crops, noisy)], axis=0)
        rows.append([method, f"{scores[0]:.2f}", f"{scores[1]:.3f}"])
    return rows


def large_photo_check(workdir):
    """A 4000 x 3000 colour JPEG through the command: size, mode, peak memory."""
    import numpy as np
    from PIL import Image

    from vae_apps.io.photos import bundled_photo

    folder, out = workdir / "large_in", workdir / "large_out"
    folder.mkdir(parents=True, exist_ok=True)
    photo = Image.fromarray((bundled_photo("astronaut") * 255).astype("uint8")).resize((4000, 3000))
    noisy = np.asarray(photo, "float32") + np.random.default_rng(0).normal(0, 25, (3000, 4000, 3))
    Image.fromarray(np.clip(noisy, 0, 255).astype("uint8")).save(folder / "big.jpg", quality=90)
    # Measured by a small launcher: this (large) process's own children would count the
    # pages they share with it between fork and exec (2.2 GB seen that way, 1.8 GB really).
    launcher = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", launcher, sys.executable, "-m", "vae_apps_cli.cli",
                          "denoise", str(folder), str(out), "--overwrite"],
                         check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak = int(run.stdout.strip().splitlines()[-1]) / 1024
    with Image.open(out / "big.jpg") as result:
        return result.size, result.mode, peak, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="runs/photos")
    parser.add_argument("--sigmas", default="15,25,50")
    parser.add_argument("--epochs", type=int, default=30, help="from-scratch epochs (the default)")
    parser.add_argument("--impulse-epochs", type=int, default=30, help="the default settings")
    parser.add_argument("--scratch-colour", action="store_true",
                        help="also train the from-scratch models in colour (about 17 more minutes)")
    parser.add_argument("--skip", default="", help="comma list: grey, colour, bm3d, impulse, large")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sigmas = [int(s) for s in args.sigmas.split(",")]

    from vae_apps.io.images import to_shape
    from vae_apps.io.photos import bundled_photo, evaluation_photos
    from vae_apps.denoising.presets import load_preset

    held_out = evaluation_photos()
    grey = {n: to_shape(p, *p.shape[:2], 1) for n, p in held_out.items()}
    colour = {n: p for n, p in held_out.items() if p.shape[-1] == 3}
    scratch = [bundled_photo(n) for n in SCRATCH_PHOTOS]

    tables = {}
    for label, photos, channels in (("grey", grey, 1), ("colour", colour, 3)):
        if label in skip:
            continue
        methods = {"noisy input": None, **classic_methods(channels == 3)}
        if "bm3d" in skip:
            methods.pop("BM3D (bm3d)")
        preset = "photo-grey" if channels == 1 else "photo-rgb"
        learned = {}
        if channels == 1 or args.scratch_colour:
            print(f"== {label}: training (or reloading) the from-scratch models", flush=True)
            plain, plain_s = train_plain(scratch, channels, workdir, args.epochs)
            ours, ours_s = train_vae_apps(f"scratch_{channels}", scratch, channels, workdir,
                                          "gaussian:0-0.2", args.epochs)
            learned = {f"plain conv denoising AE, trained {plain_s / 60:.1f} min": as_method(plain),
                       f"vae_apps from scratch, trained {ours_s / 60:.1f} min": as_method(ours)}
        learned[f"vae_apps preset {preset}"] = as_method(load_preset(preset))
        methods.update(learned)
        print(f"== {label}: evaluating on {', '.join(photos)}", flush=True)
        tables[label] = (evaluate(methods, photos, sigmas, learned), list(methods))

    for label, (results, methods) in tables.items():
        print(f"\n### {label} held-out photos (mean over {len(grey) if label == 'grey' else len(colour)})\n")
        headers = ["method"] + [f"σ={s} PSNR / SSIM" for s in sigmas] + ["MP/s (σ=25)"]
        rows = [[m] + [f"{results[m, s][0]:.2f} / {results[m, s][1]:.3f}" for s in sigmas]
                + [f"{results[m, sigmas[len(sigmas) // 2]][2]:.3f}"] for m in methods]
        report_table("denoise_from_scratch", label, rows, headers)
    if "impulse" not in skip:
        print("\n### impulse noise (salt_pepper:0.2), colour crops 128 x 128 of the held-out photos\n")
        report_table("denoise_from_scratch", "impulse", impulse_rows(workdir, args.impulse_epochs),
                     ["method", "PSNR", "SSIM"])
    if "large" not in skip:
        size, mode, peak, seconds = large_photo_check(workdir)
        line = (f"a 4000×3000 colour JPEG is written back at {size[0]}×{size[1]} {mode} with a "
                f"peak memory of {peak / 1024:.2f} GB (command and worker), {seconds:.1f} s end to end")
        print("\n" + line)
        write_results("denoise_from_scratch", texts={"large": line})
    if "grey" not in tables:
        return
    results, methods = tables["grey"]
    s = 25 if 25 in sigmas else sigmas[0]
    nlm, preset = "non-local means (scikit-image)", "vae_apps preset photo-grey"
    print(f"\ngrey sigma={s}: preset PSNR margin over NL-means: "
          f"{results[preset, s][0] - results[nlm, s][0]:+.2f} dB "
          f"(speed {results[preset, s][2] / results[nlm, s][2]:.2f}x NL-means')")
    if ("BM3D (bm3d)", s) in results:
        print(f"grey sigma={s}: preset vs BM3D: {results[preset, s][0] - results['BM3D (bm3d)', s][0]:+.2f} dB, "
              f"speed ratio over BM3D: {results[preset, s][2] / results['BM3D (bm3d)', s][2]:.1f}x")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
