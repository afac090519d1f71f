"""How real camera noise is correlated, against the camera-pipeline noise the colour
preset trains on (vae_apps/denoising/camera.py): one run prints both.

    python benchmarks/experiments/camera_noise_statistics.py --data ../shared/data/real_noise

Statistic: in YCbCr, on 16 x 16 blocks less a fitted plane (so gentle gradients do not
count), the standard deviation in grey levels and the autocorrelation at 1, 2 and 3
pixels along rows, for the luma and the two chroma channels. Real files: the flattest
10 % of the blocks of the noisy crops (no reference needed), SIDD's 12 phone crops and
DND's 33 camera crops; for SIDD also the true noise (noisy - reference) on every block,
which checks that the flat blocks read the noise. Synthetic: camera noise over crops of
three scikit-image photos (astronaut, coffee, chelsea), shot noise log-uniform over
1e-3 - 2e-2, the camera drawn as training draws it, then with its chroma blur set to the
earlier draw (none on half the images, 0.5-2.5 on the others) and to single values. These crops are
validation data: the statistics set one range of the pipeline (the chroma blur), never a
model's weights.

Then the mean shift: per SIDD crop, noisy - reference per channel (grey levels) against
the noise level; for the pipeline, flat patches of 0.12, 0.25 and 0.4 (a dark, a mid and
a light grey, slightly coloured) at shot noise 0.01, 16 cameras each, no JPEG.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from denoise_real import load_sets  # noqa: E402

TO_YCBCR = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5],
                     [0.5, -0.418688, -0.081312]], "float32")
BLOCK = 16


def block_statistics(image, flattest=None):
    """(3, 4): per YCbCr channel the standard deviation (grey levels) and the
    autocorrelation at 1, 2, 3 pixels, over blocks less their plane; ``flattest``: only
    that share of the blocks, those of least luma deviation."""
    ycc = image @ TO_YCBCR.T
    h, w = ycc.shape[0] // BLOCK * BLOCK, ycc.shape[1] // BLOCK * BLOCK
    blocks = (ycc[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK, 3)
              .transpose(0, 2, 1, 3, 4).reshape(-1, BLOCK * BLOCK, 3))
    rows, cols = np.mgrid[:BLOCK, :BLOCK]
    design = np.stack([np.ones(BLOCK * BLOCK), rows.ravel(), cols.ravel()], 1)
    residual = blocks - np.einsum("ij,njc->nic", design @ np.linalg.pinv(design), blocks)
    if flattest is not None:
        spread = residual[..., 0].std(axis=1)
        residual = residual[np.argsort(spread)[:max(4, int(flattest * len(spread)))]]
    residual = residual.reshape(-1, BLOCK, BLOCK, 3)
    out = []
    for c in range(3):
        z = residual[..., c]
        variance = np.mean(z * z)
        out.append([np.sqrt(variance) * 255]
                   + [np.mean(z[:, :, :-k] * z[:, :, k:]) / variance for k in (1, 2, 3)])
    return np.array(out)


def synthetic(photos, overrides, count=24, seed=0):
    import tensorflow as tf

    from vae_apps.denoising import camera

    rng = np.random.default_rng(seed)
    stats = []
    for i in range(count):
        clean = photos[i % len(photos)]
        shot = float(np.exp(rng.uniform(np.log(1e-3), np.log(2e-2))))
        cam = camera.random_camera(1, tf.constant([seed, i]))
        for key, value in overrides.items():
            value = value(i) if callable(value) else value
            cam[key] = tf.constant([value], cam[key].dtype)
        noisy = camera.camera_noise(tf.constant(clean[None]), shot, tf.constant([seed, i]), cam)
        stats.append(block_statistics(noisy.numpy()[0] - clean + 0.5))
    return np.mean(stats, axis=0)


def line(name, stats):
    return f"{name:<46}" + " | ".join(" ".join(f"{v:5.2f}" for v in row) for row in stats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data/real_noise")
    args = parser.parse_args()
    from skimage import data

    sidd, dnd = load_sets(args.data)
    print(f"{'':<46}luma: sd, r1, r2, r3 | Cb: sd, r1, r2, r3 | Cr: sd, r1, r2, r3")
    print(line("SIDD true noise, all blocks",
               np.mean([block_statistics(n - c + 0.5) for n, c in sidd.values()], 0)))
    print(line("SIDD noisy, flattest 10 %",
               np.mean([block_statistics(n, 0.1) for n, _ in sidd.values()], 0)))
    dnd_stats = np.array([block_statistics(n, 0.1) for n in dnd.values()])
    print(line("DND noisy, flattest 10 %", dnd_stats.mean(0)))
    print(line("DND, lowest chroma r1 of a crop", dnd_stats[np.argmin(dnd_stats[:, 1, 1])]))
    photos = [np.asarray(f(), "float32")[:256, :256] / 255
              for f in (data.astronaut, data.coffee, data.chelsea)]
    print(line("synthetic, as trained", synthetic(photos, {})))
    earlier = np.random.default_rng(1).uniform(0.5, 2.5, 24) * (np.arange(24) % 2)
    print(line("synthetic, earlier draw (none or 0.5-2.5)",
               synthetic(photos, {"chroma_blur": lambda i: float(earlier[i])})))
    for blur in (0.0, 0.3, 0.5, 0.8, 1.2, 1.5, 2.5):
        print(line(f"synthetic, chroma blur {blur}", synthetic(photos, {"chroma_blur": blur})))
    mean_shifts(sidd)


def mean_shifts(sidd):
    import tensorflow as tf

    from vae_apps.denoising import camera

    print("\nmean shift, noisy - clean (grey levels R G B)")
    for name, (noisy, clean) in sidd.items():
        shift = (noisy - clean).reshape(-1, 3).mean(axis=0) * 255
        print(f"  {name:<8} noise sd {np.std(noisy - clean) * 255:5.1f}:", np.round(shift, 1))
    cam = camera.random_camera(16, tf.constant([0, 9]))
    cam["jpeg"] = tf.zeros_like(cam["jpeg"])
    for value in (0.12, 0.25, 0.4):
        flat = np.full((16, 64, 64, 3), value, "float32") * np.array([1.0, 0.8, 0.9], "float32")
        out = camera.camera_noise(flat, 0.01, tf.constant([0, 3]), camera=cam).numpy()
        print(f"  pipeline, flat {value:.2f}, noise sd {(out - flat).std() * 255:5.1f}:",
              np.round((out - flat).mean(axis=(0, 1, 2)) * 255, 1))


if __name__ == "__main__":
    main()
