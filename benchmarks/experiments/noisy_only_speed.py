"""Denoising speed of the noisy-only models against non-local means, alternating runs.

    python benchmarks/denoise_noisy_only.py --sets microscopy ... --work WORK   # first
    python benchmarks/experiments/noisy_only_speed.py --work WORK [--repeats 5]

For each microscopy case ``denoise_noisy_only.py`` trained in WORK: its noisy ``cell``
image denoised by the benchmark's non-local means (blind sigma, Anscombe-stabilised for
Poisson noise), by the noisy-only model loaded in float32 and by the same model loaded
as ``vae-apps denoise --model`` loads it (``load_for_inference``, the machine's fastest
precision), and by the latter with ``--samples 16`` (the mean of 16 posterior draws and
the uncertainty map) and with ``--self-ensemble`` (the mean over 8 turns and mirror
images), one after the other, ``--repeats`` times (this machine's speed drifts
between levels); prints the median megapixels per second of each, the ratio to
non-local means and the PSNR of each model.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/: common

import common  # noqa: E402,F401  (quiet TensorFlow)
from denoise_noisy_only import ANSCOMBE_GAINS, CASES, classical  # noqa: E402

SAMPLES = 16  # vae-apps denoise --samples: the mean of K posterior draws


def main():
    import numpy as np

    from vae_apps.denoising.full_resolution import denoise_full_resolution, denoise_with_samples
    from vae_apps.denoising.quality import psnr_ssim
    from vae_apps.io.images import read_image
    from vae_apps.io.photos import bundled_photo
    from vae_apps.loading import load_for_inference, load_vae

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", required=True, help="denoise_noisy_only.py's --work folder")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    clean = bundled_photo("cell")
    for case in CASES:
        folder = Path(args.work, "microscopy", case.replace(" ", "_"))
        noisy = read_image(folder / "noisy" / "cell.png")[0]
        megapixels = noisy.shape[0] * noisy.shape[1] / 1e6
        runs = {"non-local means": classical(False, ANSCOMBE_GAINS.get(case), False)[
            "non-local means, blind sigma"]}
        as_cli = load_for_inference(folder / "noisy_only.keras")
        for name, model in (("noisy-only, float32", load_vae(folder / "noisy_only.keras")),
                            ("noisy-only, as the CLI loads it", as_cli)):
            runs[name] = (lambda x, m=model: denoise_full_resolution(m, x))
            psnr = psnr_ssim(clean, runs[name](noisy))[0]  # traces once, untimed
            print(f"{case}: {name} ({model.dtype_policy.name}) PSNR {psnr:.2f} dB")
        for name, run in ((f"as the CLI loads it, --samples {SAMPLES}",
                           lambda x: denoise_with_samples(as_cli, x, samples=SAMPLES, seed=0).mean),
                          ("as the CLI loads it, --self-ensemble",
                           lambda x: denoise_full_resolution(as_cli, x, self_ensemble=True))):
            runs[name] = run
            psnr = psnr_ssim(clean, run(noisy))[0]
            print(f"{case}: {name} PSNR {psnr:.2f} dB")
        seconds = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, run in runs.items():
                start = time.perf_counter()
                run(noisy)
                seconds[name].append(time.perf_counter() - start)
        rate = {name: megapixels / float(np.median(s)) for name, s in seconds.items()}
        print(f"{case}: median MP/s over {args.repeats} alternating runs: "
              + ", ".join(f"{name} {r:.2f} ({r / rate['non-local means']:.2f}x NL-means)"
                          for name, r in rate.items()), flush=True)


if __name__ == "__main__":
    main()
