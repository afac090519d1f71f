"""The photo preset on real camera noise, against what users would run instead.

    python benchmarks/denoise_real.py [--data ../shared/data/real_noise] [--previous-rgb OLD.keras]

Data (validation only, never trained on): ``sidd_N_noisy.png`` / ``sidd_N_clean.png``,
12 smartphone crops with references (SIDD), and ``dnd_noisy/*.png``, 33 crops of four
consumer cameras without references (DND), from ``../shared/data/real_noise``.

SIDD rows, in one run: the noisy input; scikit-image non-local means (h = 0.8 sigma,
5 x 5 patches, 13 x 13 search, fast mode) and CBM3D (``bm3d.bm3d_rgb``), both given the
blind sigma of ``skimage.restoration.estimate_sigma``; CBM3D given the best sigma per
crop (an oracle: the sigma with the highest PSNR against the reference on the crop's
central 256 x 256 pixels, from a grid of 8 around the blind one, 0.7x to 11x, extended by
1.4x steps while its end is the best); the preset
as ``vae-apps denoise`` runs it (blind) and at ``--strength`` 0.5 and 2; with
``--previous-rgb``, the preset with that colour model in place of the shipped one.
Columns: mean PSNR / SSIM, the smallest margin of any crop over its noisy input, MP/s.

DND rows (no reference): the noise left on the flattest 10 % of 16 x 16 blocks: per
block and channel the standard deviation about a fitted plane (so a gentle gradient is
not counted; chroma blotches are), averaged over the blocks, as a share of the noisy
input's on the same blocks. The blocks are chosen once per crop, on the input smoothed
by a Gaussian of 3 pixels (its structure, not its fine grain).

Results go to benchmarks/results/denoise_real.json; figures (1:1 crops) to
docs/real_noise_dnd.png and docs/real_noise_sidd.png with ``--figures``. ``--only vae_apps``
reruns the vae_apps rows alone and puts them into the earlier run's results (the baselines,
CBM3D's oracle search above all, take most of the half hour a whole run takes on 2 cores).
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402  (quiet TensorFlow)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real_noise"
RESULTS = Path(__file__).resolve().parent / "results" / "denoise_real.json"
DOCS = Path(__file__).resolve().parents[1] / "docs"
ORACLE_FACTORS = (0.7, 1.0, 1.4, 2.0, 2.8, 4.0, 5.6, 11.0)
ORACLE_CROP = 256
ORACLE_EXTEND = 6
BLOCK = 16
FLAT_SHARE = 0.10
PRESET = "vae_apps photo preset (blind, default)"
STRENGTHS = (0.5, 2.0)


def read(path):
    import numpy as np
    from PIL import Image

    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), "float32") / 255.0


def load_sets(data):
    data = Path(data)
    sidd = {}
    for noisy in sorted(data.glob("sidd_*_noisy.png"), key=lambda p: int(p.stem.split("_")[1])):
        sidd[noisy.stem.replace("_noisy", "")] = (read(noisy), read(noisy.with_name(
            noisy.name.replace("_noisy", "_clean"))))
    dnd = {p.stem: read(p) for p in sorted((data / "dnd_noisy").glob("*.png"))}
    if not sidd or not dnd:
        raise SystemExit(f"{data}: no sidd_N_noisy.png / dnd_noisy/*.png found")
    return sidd, dnd


def blind_sigma(x):
    from skimage.restoration import estimate_sigma

    return float(estimate_sigma(x, channel_axis=-1, average_sigmas=True))


def nlm(x, sigma):
    import numpy as np
    from skimage.restoration import denoise_nl_means

    return np.clip(denoise_nl_means(x, h=0.8 * sigma, sigma=sigma, patch_size=5, patch_distance=6,
                                    fast_mode=True, channel_axis=-1), 0, 1).astype("float32")


def cbm3d(x, sigma):
    import bm3d
    import numpy as np

    return np.clip(bm3d.bm3d_rgb(x, max(sigma, 1e-3)), 0, 1).astype("float32")


def oracle_sigma(noisy, clean):
    """The CBM3D sigma of ``ORACLE_FACTORS`` x the blind one with the best PSNR on the
    crop's centre (against the reference)."""
    from vae_apps.denoising.quality import psnr_ssim

    h, w = noisy.shape[:2]
    top, left = max(0, (h - ORACLE_CROP) // 2), max(0, (w - ORACLE_CROP) // 2)
    part = (slice(top, top + ORACLE_CROP), slice(left, left + ORACLE_CROP))
    base = blind_sigma(noisy)
    scores = {f * base: psnr_ssim(clean[part], cbm3d(noisy[part], f * base))[0]
              for f in ORACLE_FACTORS}
    # Real noise is correlated: the best sigma may lie beyond the grid; go on by 1.4x
    # while the largest (or smallest) is the best.
    for _ in range(ORACLE_EXTEND):
        best = max(scores, key=scores.get)
        if best == max(scores):
            sigma = 1.4 * best
        elif best == min(scores):
            sigma = best / 1.4
        else:
            break
        scores[sigma] = psnr_ssim(clean[part], cbm3d(noisy[part], sigma))[0]
    return max(scores, key=scores.get)


def denoisers(previous_rgb):
    from vae_apps.denoising.full_resolution import PhotoDenoiser, denoise_full_resolution
    from vae_apps.denoising.presets import load_preset
    from vae_apps.loading import load_vae

    preset = load_preset("photo")
    rows = {PRESET: lambda x: denoise_full_resolution(preset, x)}
    for s in STRENGTHS:
        rows[f"vae_apps photo preset, --strength {s:g}"] = (
            lambda x, s=s: denoise_full_resolution(preset, x, strength=s))
    if previous_rgb:
        old = PhotoDenoiser(preset.models[1], load_vae(previous_rgb, compile=False, precision="auto"))
        rows["previous colour preset (blind)"] = lambda x: denoise_full_resolution(old, x)
    return rows


def run_sidd(sidd, ours, earlier=None):
    """Every row, or with ``earlier`` (a previous run's SIDD results) only ``ours``, put
    into those."""
    import numpy as np

    from vae_apps.denoising.quality import psnr_ssim

    oracle = {}
    rows = {} if earlier else {
        "noisy input": lambda x, name: x,
        "non-local means, blind sigma": lambda x, name: nlm(x, blind_sigma(x)),
        "CBM3D, blind sigma": lambda x, name: cbm3d(x, blind_sigma(x)),
        "CBM3D, best sigma per crop (oracle)": lambda x, name: cbm3d(x, oracle[name])}
    rows.update({k: (lambda x, name, f=f: f(x)) for k, f in ours.items()})
    if not earlier:
        started = time.perf_counter()
        for name, (noisy, clean) in sidd.items():
            oracle[name] = oracle_sigma(noisy, clean)
        print(f"oracle sigmas found in {time.perf_counter() - started:.0f} s: "
              + ", ".join(f"{n} {255 * s:.1f}" for n, s in oracle.items()), flush=True)
    results = dict(earlier or {})
    for method, run in rows.items():
        per, seconds, pixels = {}, 0.0, 0
        for name, (noisy, clean) in sidd.items():
            start = time.perf_counter()
            out = run(noisy, name)
            seconds += time.perf_counter() - start
            pixels += noisy.shape[0] * noisy.shape[1]
            psnr, ssim = psnr_ssim(clean, out)
            per[name] = {"psnr": float(psnr), "ssim": float(ssim)}
        results[method] = {"psnr": float(np.mean([p["psnr"] for p in per.values()])),
                           "ssim": float(np.mean([p["ssim"] for p in per.values()])),
                           "mp_per_s": None if method == "noisy input" else pixels / 1e6 / seconds,
                           "crops": per}
        print(f"  SIDD {method:<44} PSNR {results[method]['psnr']:6.2f}  SSIM "
              f"{results[method]['ssim']:.3f}", flush=True)
    noisy_row = results["noisy input"]["crops"]
    for method, row in results.items():
        row["worst_margin_over_noisy"] = min(row["crops"][n]["psnr"] - noisy_row[n]["psnr"]
                                             for n in row["crops"])
    if oracle:
        results["CBM3D, best sigma per crop (oracle)"]["sigmas"] = {n: 255 * s for n, s in oracle.items()}
    return results


def flat_blocks(noisy):
    """Top-left corners of the flattest ``FLAT_SHARE`` of the 16 x 16 blocks of a crop."""
    import numpy as np
    from scipy.ndimage import gaussian_filter

    smooth = gaussian_filter(noisy, (3, 3, 0))
    h, w = (s - s % BLOCK for s in noisy.shape[:2])
    blocks = smooth[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK, 3)
    spread = blocks.std(axis=(1, 3)).mean(axis=-1).ravel()
    chosen = np.argsort(spread)[:max(1, int(round(FLAT_SHARE * spread.size)))]
    return [(int(i // (w // BLOCK)) * BLOCK, int(i % (w // BLOCK)) * BLOCK) for i in chosen]


def left_noise(image, corners):
    """The mean over the blocks and channels of the standard deviation about a plane."""
    import numpy as np

    yy, xx = np.mgrid[0:BLOCK, 0:BLOCK]
    design = np.stack([np.ones(BLOCK * BLOCK), yy.ravel(), xx.ravel()], 1)
    levels = []
    for top, left in corners:
        block = image[top:top + BLOCK, left:left + BLOCK].reshape(-1, 3)
        fit, *_ = np.linalg.lstsq(design, block, rcond=None)
        levels.append((block - design @ fit).std(axis=0).mean())
    return float(np.mean(levels))


def run_dnd(dnd, ours, earlier=None):
    import numpy as np

    rows = {**({} if earlier else {"non-local means, blind sigma": lambda x: nlm(x, blind_sigma(x))}),
            **ours}
    results = dict(earlier or {})
    corners = {name: flat_blocks(x) for name, x in dnd.items()}
    inputs = {name: left_noise(x, corners[name]) for name, x in dnd.items()}
    for method, run in rows.items():
        per, seconds, pixels = {}, 0.0, 0
        for name, noisy in dnd.items():
            start = time.perf_counter()
            out = run(noisy)
            seconds += time.perf_counter() - start
            pixels += noisy.shape[0] * noisy.shape[1]
            left = left_noise(out, corners[name])
            per[name] = {"input_level": 255 * inputs[name], "left_level": 255 * left,
                         "share": left / inputs[name]}
        shares = [p["share"] for p in per.values()]
        results[method] = {"mean_share": float(np.mean(shares)), "worst_share": float(max(shares)),
                           "mp_per_s": pixels / 1e6 / seconds, "crops": per}
        print(f"  DND  {method:<44} noise left on flat blocks: mean {np.mean(shares):.2f} of "
              f"the input's, worst crop {max(shares):.2f}", flush=True)
    return results


def figures(sidd, dnd, ours, names_dnd=("05", "19", "27"), name_sidd="sidd_3", size=192):
    """1:1 crops: DND noisy / preset / NL-means; a SIDD crop with its reference."""
    import numpy as np
    from PIL import Image, ImageDraw

    preset = ours[PRESET]

    def crop(x, top, left):
        return x[top:top + size, left:left + size]

    def sheet(rows, labels, path):
        gap = 4
        height = len(rows) * (size + gap) + 18
        width = len(labels) * (size + gap)
        canvas = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(canvas)
        for c, label in enumerate(labels):
            draw.text((c * (size + gap) + 4, 3), label, fill="black")
        for r, images in enumerate(rows):
            for c, img in enumerate(images):
                canvas.paste(Image.fromarray(np.round(np.clip(img, 0, 1) * 255).astype("uint8")),
                             (c * (size + gap), 18 + r * (size + gap)))
        canvas.save(path)

    rows = []
    for name in names_dnd:
        key = next(k for k in dnd if k.startswith(name))
        x = dnd[key]
        top, left = (x.shape[0] - size) // 2, (x.shape[1] - size) // 2
        rows.append([crop(x, top, left), crop(preset(x), top, left),
                     crop(nlm(x, blind_sigma(x)), top, left)])
    sheet(rows, ["DND noisy", "vae_apps preset", "NL-means (blind)"], DOCS / "real_noise_dnd.png")
    noisy, clean = sidd[name_sidd]
    top, left = (noisy.shape[0] - size) // 2, (noisy.shape[1] - size) // 2
    sheet([[crop(noisy, top, left), crop(preset(noisy), top, left),
            crop(nlm(noisy, blind_sigma(noisy)), top, left), crop(clean, top, left)]],
          ["SIDD noisy", "vae_apps preset", "NL-means (blind)", "reference"],
          DOCS / "real_noise_sidd.png")
    print(f"wrote {DOCS / 'real_noise_dnd.png'} and {DOCS / 'real_noise_sidd.png'}")


def checks(sidd, dnd):
    lines = []
    ours, oracle = sidd[PRESET], sidd["CBM3D, best sigma per crop (oracle)"]
    lines.append(f"SIDD: preset {ours['psnr']:.2f} dB, CBM3D oracle {oracle['psnr']:.2f} dB: "
                 f"{ours['psnr'] - oracle['psnr']:+.2f} dB (>= +1.0); smallest margin over the "
                 f"noisy input {ours['worst_margin_over_noisy']:+.2f} dB (>= +3); "
                 f"mean {ours['psnr']:.2f} (>= 30.74)")
    d = dnd[PRESET]
    lines.append(f"DND: noise left on the flattest blocks, worst crop {d['worst_share']:.2f} of "
                 f"the input's (<= 0.5), mean {d['mean_share']:.2f}; NL-means (blind) worst "
                 f"{dnd['non-local means, blind sigma']['worst_share']:.2f}")
    from vae_apps.denoising.presets import PRESETS, preset_path

    sizes = ", ".join(f"{name} {preset_path(name).stat().st_size / 2**20:.1f} MB" for name in PRESETS)
    lines.append(f"speed: preset {ours['mp_per_s']:.2f} MP/s on SIDD, {d['mp_per_s']:.2f} on DND "
                 f"(>= 0.3); preset files: {sizes} (<= 20 MB each)")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--previous-rgb", help="a colour model to compare, e.g. the preset before")
    parser.add_argument("--figures", action="store_true", help="write the 1:1 figures to docs/")
    parser.add_argument("--results", default=str(RESULTS))
    parser.add_argument("--only", choices=("vae_apps",),
                        help="rerun only the vae_apps rows and put them into the earlier run's "
                             "results (the other rows do not depend on vae_apps)")
    args = parser.parse_args()
    sidd, dnd = load_sets(args.data)
    ours = denoisers(args.previous_rgb)
    ours[PRESET](sidd["sidd_11"][0])  # traces once, untimed
    earlier = json.loads(Path(args.results).read_text()) if args.only else {}
    sidd_results = run_sidd(sidd, ours, earlier.get("sidd"))
    dnd_results = run_dnd(dnd, ours, earlier.get("dnd"))
    lines = checks(sidd_results, dnd_results)
    print("\n".join(lines))
    if args.figures:
        figures(sidd, dnd, ours)
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    command = common.command_line()
    if args.only:
        command = f"{earlier['command']}, then {command}"
    Path(args.results).write_text(json.dumps({
        "command": command, "machine": common.describe_machine(),
        "sidd": sidd_results, "dnd": dnd_results, "checks": lines}, indent=1))
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
