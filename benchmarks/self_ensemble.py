"""What ``vae-apps denoise --self-ensemble`` buys: the photo presets on the held-out
photos, with and without it, in one run.

    scripts/fetch_photos.sh PHOTOS            # once: the six held-out opencv-doc photos
    python benchmarks/self_ensemble.py --photos PHOTOS [--cases "clean,gaussian 25,..."]

The sets and noise cases of benchmarks/denoise_photos.py (grey: the ten held-out photos
as grey; colour: the eight colour ones; one fixed seed per photo). Each noisy photo is
denoised by the ``photo`` preset as ``vae-apps denoise`` loads it, plainly and with
``self_ensemble`` (the mean of the outputs for its 8 turns and mirror images), the two
one after the other, photo by photo. Prints and keeps the mean PSNR and SSIM of each,
the difference, the worst photo's difference and the megapixels per second of each.

Results go to benchmarks/results/self_ensemble.json; docs/denoising.md renders them.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402  (quiet TensorFlow)
from denoise_photos import CASES, held_out_photos  # noqa: E402

DEFAULT_CASES = ("clean", "gaussian 10", "gaussian 25", "poisson-gaussian")


def compare(model, photos, spec):
    """{"plain" | "self-ensemble": {"psnr", "ssim", "seconds"}} over ``photos``, per photo."""
    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.denoising.quality import psnr_ssim

    rows = {"plain": {}, "self-ensemble": {}}
    for i, (name, clean) in enumerate(photos.items()):
        noisy = clean if spec is None else parse_noise(spec).apply(clean[None], seed=i)[0]
        for method, ensemble in (("plain", False), ("self-ensemble", True)):
            start = time.perf_counter()
            out = denoise_full_resolution(model, noisy, self_ensemble=ensemble)
            seconds = time.perf_counter() - start
            psnr, ssim = psnr_ssim(clean, out)
            rows[method][name] = {"psnr": float(psnr), "ssim": float(ssim), "seconds": seconds}
    return rows


def main():
    import numpy as np

    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.denoising.presets import resolve_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", required=True, help="scripts/fetch_photos.sh's folder")
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES))
    args = parser.parse_args()
    sets = held_out_photos(args.photos)
    model = resolve_model("photo")
    for photos in sets.values():  # traces each channel count once, untimed
        denoise_full_resolution(model, next(iter(photos.values()))[:64, :64])
    header = ["set", "noise", "PSNR dB plain", "PSNR dB self-ensemble", "difference dB",
              "worst photo's difference dB", "SSIM plain / self-ensemble", "MP/s plain",
              "MP/s self-ensemble"]
    table = []
    for kind, photos in sets.items():
        megapixels = sum(p.shape[0] * p.shape[1] for p in photos.values()) / 1e6
        for case in args.cases.split(","):
            rows = compare(model, photos, CASES[case])
            mean = {m: {k: float(np.mean([p[k] for p in r.values()])) for k in ("psnr", "ssim")}
                    for m, r in rows.items()}
            rate = {m: megapixels / sum(p["seconds"] for p in r.values()) for m, r in rows.items()}
            worst = min(rows["self-ensemble"][n]["psnr"] - rows["plain"][n]["psnr"] for n in photos)
            gain = mean["self-ensemble"]["psnr"] - mean["plain"]["psnr"]
            table.append([kind, case, f"{mean['plain']['psnr']:.2f}",
                          f"{mean['self-ensemble']['psnr']:.2f}", f"{gain:+.2f}", f"{worst:+.2f}",
                          f"{mean['plain']['ssim']:.3f} / {mean['self-ensemble']['ssim']:.3f}",
                          f"{rate['plain']:.3f}", f"{rate['self-ensemble']:.3f}"])
            print("  ".join(table[-1]), flush=True)
    common.write_results("self_ensemble", tables={"presets": (header, table)})


if __name__ == "__main__":
    main()
