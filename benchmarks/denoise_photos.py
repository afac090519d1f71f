"""The photo presets on held-out photos, against what users would run instead.

    scripts/fetch_photos.sh PHOTOS            # once: the six held-out opencv-doc photos
    python benchmarks/denoise_photos.py --photos PHOTOS [--skip bm3d] [--cases ...]

Photos never used to train a shipped model: scikit-image's camera, astronaut, coffee
and coins and opencv-doc's baboon, building, fruits, leuvenA, smarties and
squirrel_cls, each at its own size. Grey: all ten as grey (luma); colour: the eight
colour ones. Cases (a fixed seed per photo): clean (no noise at all); Gaussian sigma
5, 10, 25 and 50 of 255; Poisson-Gaussian (variance 0.01 x + 0.02^2); Gaussian 25 then
saved as JPEG quality 75 and 90 (PIL, 4:2:0).

Rows, in one run: the noisy input; scikit-image non-local means (h = 0.8 sigma, 5 x 5
patches, 13 x 13 search, fast mode: the scikit-image example's recipe) given a blind
sigma (``skimage.restoration.estimate_sigma``, what a user who does not know sigma
runs) and given the true one (the standard deviation of noisy - clean); BM3D (``bm3d``)
with the blind sigma on the sigma 25 and JPEG cases; the presets (``vae-apps denoise``'s
default, blind). Columns: mean PSNR and SSIM, the worst photo's PSNR margin over
non-local means (blind), the largest per-channel mean colour shift (grey levels of
255; what a cast would show, on clean inputs), and megapixels per second.

Results go to benchmarks/results/denoise_photos.json (the README table is rendered
from it); the last lines check the figures the presets must reach.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402,F401  (quiet TensorFlow)

HELD_OUT_SKIMAGE = ("camera", "astronaut", "coffee", "coins")
HELD_OUT_OPENCV = ("baboon", "building", "fruits", "leuvenA", "smarties", "squirrel_cls")
CASES = {
    "clean": None,
    "gaussian 5": "gaussian:{}".format(5 / 255),
    "gaussian 10": "gaussian:{}".format(10 / 255),
    "gaussian 25": "gaussian:{}".format(25 / 255),
    "gaussian 50": "gaussian:{}".format(50 / 255),
    "poisson-gaussian": "poisson:0.01+gaussian:0.02",
    "gaussian 25 + jpeg 75": "gaussian:{}+jpeg420:75".format(25 / 255),
    "gaussian 25 + jpeg 90": "gaussian:{}+jpeg420:90".format(25 / 255),
}
BM3D_CASES = ("gaussian 25", "gaussian 25 + jpeg 75", "gaussian 25 + jpeg 90")
RESULTS = Path(__file__).resolve().parent / "results" / "denoise_photos.json"


def held_out_photos(photos_dir):
    """{name: H x W x C float32} for the grey and the colour set."""
    import numpy as np

    from vae_apps.io.images import read_image
    from vae_apps.io.photos import bundled_photo

    found = {}
    for name in HELD_OUT_SKIMAGE:
        found[name] = bundled_photo(name)
    for name in HELD_OUT_OPENCV:
        matches = sorted(Path(photos_dir, "heldout").glob(f"{name}.*"))
        if not matches:
            raise SystemExit(f"{photos_dir}/heldout/{name}.*: not found; run "
                             f"scripts/fetch_photos.sh {photos_dir} first")
        found[name] = read_image(matches[0])[0]
    luma = np.array([0.299, 0.587, 0.114], "float32")
    grey = {n: (p if p.shape[-1] == 1 else (p @ luma)[..., None]).astype("float32")
            for n, p in found.items()}
    colour = {n: p for n, p in found.items() if p.shape[-1] == 3}
    return {"grey": grey, "colour": colour}


def methods(colour, with_bm3d):
    import bm3d
    import numpy as np
    from skimage.restoration import denoise_nl_means, estimate_sigma

    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.denoising.presets import load_preset

    axis = -1 if colour else None

    def image(x):
        return x if colour else x[..., 0]

    def back(out):
        out = np.clip(np.asarray(out, "float32"), 0, 1)
        return out if colour else out[..., None]

    def blind(x):
        return float(estimate_sigma(image(x), channel_axis=axis, average_sigmas=True))

    def nlm(x, sigma):
        return back(denoise_nl_means(image(x), h=0.8 * sigma, sigma=sigma, patch_size=5,
                                     patch_distance=6, fast_mode=True, channel_axis=axis))

    preset = load_preset("photo")
    rows = {
        "noisy input": None,
        "non-local means, blind sigma": lambda noisy, true: nlm(noisy, blind(noisy)),
        "non-local means, true sigma": lambda noisy, true: nlm(noisy, true),
        "vae_apps photo preset (blind)": lambda noisy, true: denoise_full_resolution(preset, noisy),
    }
    if with_bm3d:
        rows["BM3D, blind sigma"] = lambda noisy, true: back(
            bm3d.bm3d_rgb(image(noisy), blind(noisy)) if colour
            else bm3d.bm3d(image(noisy), blind(noisy)))
    return rows


def run_case(rows, photos, case, spec):
    import numpy as np

    from vae_apps.denoising.noise import parse_noise
    from vae_apps.denoising.quality import psnr_ssim

    results = {}
    noisy = {n: (p if spec is None else parse_noise(spec).apply(p[None], seed=i)[0])
             for i, (n, p) in enumerate(photos.items())}
    for method, run in rows.items():
        if method.startswith("BM3D") and case not in BM3D_CASES:
            continue
        if case == "clean" and method.startswith("non-local means, true"):
            continue  # sigma 0: nothing to run
        per_photo, seconds, pixels = {}, 0.0, 0
        for name, clean in photos.items():
            true = float((noisy[name] - clean).std())
            start = time.perf_counter()
            out = noisy[name] if run is None else run(noisy[name], true)
            seconds += time.perf_counter() - start
            pixels += clean.shape[0] * clean.shape[1]
            psnr, ssim = (psnr_ssim(clean, out) if spec is not None or run is not None
                          else (float("inf"), 1.0))
            shift = float(np.abs((out - clean).mean(axis=(0, 1))).max() * 255)
            per_photo[name] = {"psnr": float(psnr), "ssim": float(ssim), "shift": shift}
        results[method] = {
            "psnr": float(np.mean([p["psnr"] for p in per_photo.values()])),
            "ssim": float(np.mean([p["ssim"] for p in per_photo.values()])),
            "worst_shift": max(p["shift"] for p in per_photo.values()),
            "mp_per_s": pixels / 1e6 / seconds if run is not None else None,
            "photos": per_photo,
        }
    reference = results.get("non-local means, blind sigma")
    for method, row in results.items():
        if reference and method != "non-local means, blind sigma":
            row["worst_margin_over_nlm_blind"] = min(
                row["photos"][n]["psnr"] - reference["photos"][n]["psnr"] for n in photos)
    return results


def print_case(kind, case, results):
    for method, row in results.items():
        margin = row.get("worst_margin_over_nlm_blind")
        rate = row["mp_per_s"]
        print(f"  {kind:<6} {case:<22} {method:<32} PSNR {row['psnr']:6.2f}  SSIM "
              f"{row['ssim']:.3f}  worst vs NLM {'' if margin is None else f'{margin:+6.2f}':>6}  "
              f"shift {row['worst_shift']:5.2f}  {'' if rate is None else f'{rate:6.3f} MP/s'}",
              flush=True)


def smoothest(photos):
    """The photo whose clean image has the smallest mean gradient (large smooth areas)."""
    import numpy as np

    return min(photos, key=lambda n: float(np.mean([np.abs(np.diff(photos[n], axis=a)).mean()
                                                      for a in (0, 1)])))


def checks(all_results, smooth=None):
    """The figures the presets must reach (printed, not asserted: a benchmark)."""
    preset = "vae_apps photo preset (blind)"
    lines = []
    colour = all_results.get("colour", {})
    grey = all_results.get("grey", {})
    for kind, cases in (("grey", grey), ("colour", colour)):
        clean = cases.get("clean", {}).get(preset)
        if clean:
            worst_psnr = min(p["psnr"] for p in clean["photos"].values())
            lines.append(f"{kind} clean: worst shift {clean['worst_shift']:.2f} grey levels "
                         f"(< 0.5), worst PSNR {worst_psnr:.1f} dB (>= 40)")
    for case in ("gaussian 10", "gaussian 25", "gaussian 50", "poisson-gaussian",
                 "gaussian 25 + jpeg 90"):
        rows = colour.get(case)
        if not rows:
            continue
        ours, nlm, noisy = rows[preset], rows["non-local means, blind sigma"], rows["noisy input"]
        above_noisy = all(ours["photos"][n]["psnr"] > noisy["photos"][n]["psnr"] for n in ours["photos"])
        lines.append(f"colour {case}: preset - NLM(blind) {ours['psnr'] - nlm['psnr']:+.2f} dB "
                     f"(>= +0.5), worst photo {ours['worst_margin_over_nlm_blind']:+.2f} (>= -0.5), "
                     f"every photo above its noisy input: {above_noisy}")
    rows = colour.get("gaussian 25", {})
    if "BM3D, blind sigma" in rows:
        ours, bm = rows[preset], rows["BM3D, blind sigma"]
        lines.append(f"colour gaussian 25: preset - BM3D(blind) {ours['psnr'] - bm['psnr']:+.2f} dB "
                     f"(>= -0.3); speed {ours['mp_per_s'] / bm['mp_per_s']:.0f}x BM3D (>= 20x), "
                     f"{ours['mp_per_s'] / rows['non-local means, blind sigma']['mp_per_s']:.1f}x "
                     f"NL-means (>= 1x)")
    if colour and smooth:
        behind = [case for case, rows in colour.items() if case != "clean"
                  and rows[preset]["photos"][smooth]["psnr"]
                  < rows["non-local means, blind sigma"]["photos"][smooth]["psnr"]]
        lines.append(f"colour, the smoothest photo ({smooth}): cases below NL-means (blind): "
                     f"{', '.join(behind) or 'none'}")
    g25 = grey.get("gaussian 25", {}).get(preset)
    if g25:
        four = [g25["photos"][n]["psnr"] for n in HELD_OUT_SKIMAGE]
        lines.append(f"grey gaussian 25 on camera, astronaut, coffee, coins: "
                     f"{sum(four) / 4:.2f} dB (>= 29.29)")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", required=True, help="scripts/fetch_photos.sh's folder")
    parser.add_argument("--cases", default=",".join(CASES), help="comma list of " + ", ".join(CASES))
    parser.add_argument("--kinds", default="grey,colour")
    parser.add_argument("--skip", default="", help="comma list: bm3d")
    parser.add_argument("--results", default=str(RESULTS))
    args = parser.parse_args()
    sets = held_out_photos(args.photos)
    results_file = Path(args.results)
    previous = json.loads(results_file.read_text()) if results_file.exists() else {}
    # Kinds not run now keep their results (grey and colour may run apart).
    all_results = {k: v for k, v in previous.get("results", {}).items()
                   if k not in args.kinds.split(",")}
    commands = {k: v for k, v in previous.get("commands", {}).items()
                if k not in args.kinds.split(",")}
    machines = {k: v for k, v in previous.get("machines", {}).items()
                if k not in args.kinds.split(",")}
    for kind in args.kinds.split(","):
        rows = methods(kind == "colour", "bm3d" not in args.skip.split(","))
        first = next(iter(sets[kind].values()))
        rows["vae_apps photo preset (blind)"](first, 0.1)  # traces once, untimed
        all_results[kind] = {}
        for case in args.cases.split(","):
            results = run_case(rows, sets[kind], case, CASES[case])
            print_case(kind, case, results)
            all_results[kind][case] = results
    lines = checks(all_results, smoothest(sets["colour"]))
    print("\n".join(lines))
    command = common.command_line()
    commands.update({kind: command for kind in args.kinds.split(",")})
    machines.update({kind: common.describe_machine() for kind in args.kinds.split(",")})
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps({
        "commands": commands, "machines": machines,
        "photos": {k: list(v) for k, v in sets.items()},
        "results": {k: all_results[k] for k in ("grey", "colour") if k in all_results},
        "checks": lines}, indent=1))
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
