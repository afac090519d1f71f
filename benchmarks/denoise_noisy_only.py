"""Denoisers trained on the noisy images alone, against what users would run instead.

    scripts/fetch_photos.sh PHOTOS            # once: the held-out opencv-doc photos
    python benchmarks/denoise_noisy_only.py --photos PHOTOS [--sets colour,grey,microscopy]
        [--cases "poisson 30,poisson-gaussian"] [--epochs 30] [--skip upper-bound,bm3d]
        [--n2v-python N2V_VENV/bin/python] [--keep-earlier] [--only noise2void,upper-bound,noisy-only]

Sets: the held-out photos of benchmarks/denoise_photos.py (colour: the eight colour
ones; grey: all ten as grey), scikit-image's bundled microscopy image ``cell`` (grey)
and ``folder20``: 20 colour photos of PHOTOS/train at their own sizes (the presets'
training photos, so no upper-bound row there: it times noisy-only training on a
folder of about 20 photos). Cases, with noise the presets are not trained for:
strong Poisson (a peak of 30 photons, ``poisson:0.0333``) and Poisson-Gaussian
(``poisson:0.01+gaussian:0.02``); one fixed seed per image. The noisy images are
written as 8-bit PNGs to a folder, as a user would have them.

Rows, in one run: the noisy input; scikit-image non-local means and BM3D (``bm3d``)
with a blind sigma (``skimage.restoration.estimate_sigma``), on the Anscombe-
stabilised image where the noise is Poisson (the gain is given to them: their best
case) and on the image itself otherwise; both again with the clipping's mean shift
undone by the law the noisy-only model read off the folder (what that correction alone
brings them); Noise2Void through CAREamics with its defaults, trained on the same noisy
folder (``--n2v-python``: benchmarks/n2v_careamics.py in its own virtual environment);
``vae-apps train NOISY/ --patch-size 64
--noisy-only`` trained on that noisy folder alone, then denoising it; the same model
trained on clean photos (the bundled training photos and PHOTOS/train; ``cell``
left out) with the case's noise added (the upper bound), by default with as many
updates as the noisy-only model (``--bound-updates``): the two differ in their training
data alone. Columns: mean PSNR and SSIM,
training minutes, megapixels per second, and for K = 16 posterior samples of the
noisy-only model: the share of pixels whose error lies within 2 predicted standard
deviations. The trained models are loaded as ``vae-apps denoise --model`` loads them
(``load_for_inference``: the machine's fastest precision).

Results go to benchmarks/results/denoise_noisy_only.json, a table per set (entries of
sets not run keep their earlier values); docs/denoising.md renders them. ``--only`` runs
just the Noise2Void, upper-bound and/or noisy-only rows and puts them into the earlier table
of each set (the noisy images are the same: one fixed seed per image), replacing its rows of
those methods, earlier-run ones included; the other rows are not rerun. ``--only noisy-only``
trains nothing: it denoises with the model the earlier run left in WORK (trained with the
same settings and seed, so what training again gives), its uncertainty calibrated again by
the present library, and keeps the earlier row's training minutes: for a change in what
happens after training.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402  (quiet TensorFlow)

CASES = {
    "poisson 30": "poisson:0.0333",
    "poisson-gaussian": "poisson:0.01+gaussian:0.02",
}
# The Poisson gain given to NL-means and BM3D for the Anscombe transform, where the noise is
# Poisson alone (their best case); elsewhere they run on the image itself.
ANSCOMBE_GAINS = {"poisson 30": 0.0333}
MICROSCOPY = ("cell",)
# A folder of about 20 photos at their own sizes (0.07-1.4 MP): the colour training photos of
# scripts/fetch_photos.sh up to 1282 pixels wide (the four wallpapers of 8-24 MP left out).
# The noisy-only model sees only their noisy versions; it times training on such a folder.
FOLDER20 = ("aero1", "aero3", "aloeL", "aloeR", "apple", "blox", "butterfly", "chicky_512",
            "ela_modified", "ela_original", "home", "left", "leuvenB", "messi5", "orange",
            "pca_test1", "right", "rubberwhale1", "rubberwhale2", "stuff")
NOISY_ONLY = "vae_apps noisy-only (trained on the noisy folder)"
N2V = "Noise2Void (CAREamics defaults, trained on the noisy folder)"
UPPER_BOUND = "vae_apps trained on clean photos, same noise (upper bound)"
SAMPLES = 16
# NL-means' and BM3D's outputs with the clipping's mean shift undone by the law the
# noisy-only model read off the folder (vae_apps.denoising.clipped_noise), as it undoes
# its own: what that correction alone brings them.
UNDONE = ", clipping's shift undone with the noisy-only model's law"


def image_sets(photos_dir, names):
    from denoise_photos import held_out_photos

    from vae_apps.io.images import read_image
    from vae_apps.io.photos import bundled_photo

    sets = held_out_photos(photos_dir)
    sets["microscopy"] = {name: bundled_photo(name) for name in MICROSCOPY}
    if "folder20" in names:
        sets["folder20"] = {name: read_image(next(Path(photos_dir, "train").glob(name + ".*")))[0]
                            for name in FOLDER20}
    return {name: sets[name] for name in names}


def anscombe(x, gain):
    import numpy as np

    return 2.0 * np.sqrt(np.maximum(x / gain, 0.0) + 3.0 / 8.0)


def inverse_anscombe(d, gain):
    """Makitalo and Foi's closed-form approximation of the exact unbiased inverse."""
    import numpy as np

    d = np.maximum(d, 0.8)
    s = np.sqrt(1.5)
    return gain * (0.25 * d ** 2 + 0.25 * s / d - 1.375 / d ** 2 + 0.625 * s / d ** 3 - 0.125)


def classical(colour, gain, with_bm3d):
    """{row name: noisy -> denoised} for non-local means and BM3D, blind sigma."""
    import bm3d
    import numpy as np
    from skimage.restoration import denoise_nl_means, estimate_sigma

    axis = -1 if colour else None

    def run(method):
        def denoise(noisy):
            image = noisy if colour else noisy[..., 0]
            if gain is not None:  # variance-stabilised: unit variance, blind anyway
                image = anscombe(image, gain)
                scale = float(image.max())
                image = image / scale
            sigma = float(estimate_sigma(image, channel_axis=axis, average_sigmas=True))
            if method == "nlm":
                out = denoise_nl_means(image, h=0.8 * sigma, sigma=sigma, patch_size=5,
                                       patch_distance=6, fast_mode=True, channel_axis=axis)
            else:
                out = bm3d.bm3d_rgb(image, sigma) if colour else bm3d.bm3d(image, sigma)
            out = np.asarray(out, "float64")
            if gain is not None:
                out = inverse_anscombe(out * scale, gain)
            out = np.clip(out, 0, 1).astype("float32")
            return out if colour else out[..., None]
        return denoise

    rows = {"non-local means, blind sigma": run("nlm")}
    if with_bm3d:
        rows["BM3D, blind sigma"] = run("bm3d")
    return rows


def write_noisy_folder(images, spec, folder):
    """The noisy images as 8-bit PNGs (seed i for image i); {name: noisy as read back}."""
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.io.images import read_image, write_image

    noise = parse_noise(spec)
    folder.mkdir(parents=True)
    noisy = {}
    for i, (name, clean) in enumerate(images.items()):
        write_image(folder / f"{name}.png", noise.apply(clean[None], seed=i)[0])
        noisy[name] = read_image(folder / f"{name}.png")[0]
    return noisy


def score(images, outputs, seconds):
    import numpy as np

    from vae_apps.denoising.quality import psnr_ssim

    per_image = {}
    for name, clean in images.items():
        psnr, ssim = psnr_ssim(clean, outputs[name])
        per_image[name] = {"psnr": float(psnr), "ssim": float(ssim)}
    pixels = sum(c.shape[0] * c.shape[1] for c in images.values())
    return {"psnr": float(np.mean([p["psnr"] for p in per_image.values()])),
            "ssim": float(np.mean([p["ssim"] for p in per_image.values()])),
            "mp_per_s": pixels / 1e6 / seconds if seconds else None, "images": per_image}


def timed(denoise, noisy):
    start = time.perf_counter()
    outputs = {name: denoise(x) for name, x in noisy.items()}
    return outputs, time.perf_counter() - start


def train(spec, out, channels, args, noisy_only, noise=None, patches_per_image=None):
    from vae_apps.denoising.train import train_photo_denoiser
    from vae_apps.denoising.train import PATCH_DENOISER

    start = time.perf_counter()
    # The upper bound is the noisy-only model's network (blind, as wide) trained on clean
    # photos with the noise added: the two differ in their training data alone.
    train_photo_denoiser(spec, out, noise=noise, channels=channels, noisy_only=noisy_only,
                         patch_size=64, epochs=args.epochs,
                         patches_per_image=patches_per_image or args.patches_per_image, seed=0,
                         verbose="auto", **({} if noisy_only else PATCH_DENOISER.noisy_only_model))
    return (time.perf_counter() - start) / 60


def reused_model(model_file, folder):
    """The noisy-only model an earlier run trained on ``folder`` (the same settings and
    seed: what training it again gives), its uncertainty calibrated again as training
    ends, by the present library (the calibration runs the denoising it calibrates)."""
    from vae_apps.loading import load_for_inference
    from vae_apps.denoising.train import patch_training_images
    from vae_apps.denoising.calibration import calibrate_uncertainty

    if not Path(model_file).exists():
        raise SystemExit(f"{model_file}: no model to reuse (run without --only noisy-only first)")
    model = load_for_inference(model_file)
    calibrate_uncertainty(model, patch_training_images(str(folder)), None, seed=0)
    return model


def bound_patches_per_image(spec, channels, args):
    """Crops per clean photo that give the upper bound ``--bound-updates`` updates of 32
    in ``--epochs`` epochs (None: ``vae-apps train``'s default, 256 per photo)."""
    from vae_apps.denoising.train import patch_training_images

    if not args.bound_updates:
        return None
    count = len(patch_training_images(spec, channels))
    return -(-args.bound_updates * 32 // (args.epochs * count))


def within_two_std(model, images, noisy):
    """Share of pixels whose error lies within 2 predicted standard deviations, and the
    MP/s of K-sample denoising."""
    import numpy as np

    from vae_apps.denoising.full_resolution import denoise_with_samples

    inside, total, start = 0, 0, time.perf_counter()
    for name, clean in images.items():
        result = denoise_with_samples(model, noisy[name], samples=SAMPLES, seed=0)
        inside += int(np.sum(np.abs(result.mean - clean) <= 2 * result.std))
        total += clean.size
    pixels = sum(c.shape[0] * c.shape[1] for c in images.values())
    return inside / total, pixels / 1e6 / (time.perf_counter() - start)


def noise2void(python, folder, out, images):
    """Noise2Void trained and run by benchmarks/n2v_careamics.py under ``python``."""
    import subprocess

    import numpy as np

    subprocess.run([python, str(Path(__file__).with_name("n2v_careamics.py")), str(folder),
                    str(out)], check=True)
    timing = json.loads((out / "timing.json").read_text())
    outputs = {name: np.load(out / f"{name}.npy") for name in images}
    row = score(images, outputs, timing["predict_seconds"])
    row["train_minutes"] = timing["train_seconds"] / 60
    return row


def run_case(kind, images, case, args, work):
    from vae_apps.denoising.full_resolution import clipped_law
    from vae_apps.loading import load_for_inference

    spec = CASES[case]
    channels = next(iter(images.values())).shape[-1]
    folder = work / kind / case.replace(" ", "_") / "noisy"
    if "noisy-only" in args.only:  # the earlier run's folder, the one its model learnt from
        from vae_apps.io.images import read_image

        noisy = {name: read_image(folder / f"{name}.png")[0] for name in images}
    else:
        noisy = write_noisy_folder(images, spec, folder)
    if args.only:
        return added_rows(kind, images, case, args, folder, noisy)
    results, classical_outputs = {"noisy input": score(images, noisy, 0)}, {}
    for method, denoise in classical(channels == 3, ANSCOMBE_GAINS.get(case),
                                     "bm3d" not in args.skip).items():
        classical_outputs[method] = timed(denoise, noisy)
        results[method] = score(images, *classical_outputs[method])
    if args.n2v_python:
        results[N2V] = noise2void(args.n2v_python, folder, folder.parent / "n2v", images)
    print_rows(kind, case, results)
    model_file = folder.parent / "noisy_only.keras"
    minutes = train(str(folder), model_file, channels, args, noisy_only=True)
    # Loaded as `vae-apps denoise --model` loads it (the machine's fastest precision:
    # bfloat16 here): float32 ran 0.54-0.56 MP/s on cell, bfloat16 0.98, PSNR within
    # 0.03 dB (benchmarks/experiments/noisy_only_speed.py: 5 alternating runs, medians, 768-pixel tiles).
    model = load_for_inference(model_file)
    results[NOISY_ONLY] = noisy_only_scores(model, images, noisy)
    results[NOISY_ONLY]["train_minutes"] = minutes
    law = clipped_law(model)
    if law is not None:  # how much of the gain is the clipping's shift undone, not the network
        for method, (outputs, seconds) in classical_outputs.items():
            undone, more = timed(law.undo_shift, outputs)
            results[method + UNDONE] = score(images, undone, seconds + more)
    if "upper-bound" not in args.skip and kind != "folder20":  # folder20: training photos
        results[UPPER_BOUND] = upper_bound(images, spec, channels, args, folder, noisy)
    print_rows(kind, case, {k: v for k, v in results.items()
                            if k.startswith("vae_apps") or k.endswith(UNDONE)})
    return results


def upper_bound(images, spec, channels, args, folder, noisy):
    """The noisy-only model's network trained on clean photos with the noise ``spec``."""
    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.loading import load_for_inference

    bound_file = folder.parent / "clean_trained.keras"
    photos = "bundled-photos+" + str(Path(args.photos, "train"))
    minutes = train(photos, bound_file, channels, args, noisy_only=False, noise=spec,
                    patches_per_image=bound_patches_per_image(photos, channels, args))
    bound = load_for_inference(bound_file)
    denoise_full_resolution(bound, next(iter(noisy.values())))  # traces once, untimed
    row = score(images, *timed(lambda x: denoise_full_resolution(bound, x), noisy))
    row["train_minutes"] = minutes
    return row


def noisy_only_scores(model, images, noisy):
    """The noisy-only row of ``model``: the scores and MP/s of one timed pass (traced once
    before, untimed), and with ``SAMPLES`` draws the share within 2 predicted standard
    deviations and the MP/s."""
    from vae_apps.denoising.full_resolution import denoise_full_resolution

    denoise_full_resolution(model, next(iter(noisy.values())))  # traces once, untimed
    row = score(images, *timed(lambda x: denoise_full_resolution(model, x), noisy))
    row["within_2_std"], row[f"mp_per_s_{SAMPLES}_samples"] = within_two_std(model, images, noisy)
    return row


def added_rows(kind, images, case, args, folder, noisy):
    """``--only``: the noisy-only, Noise2Void and/or upper-bound rows of a case, nothing else."""
    results = {}
    if "noisy-only" in args.only:  # its training minutes: the earlier table's
        model = reused_model(folder.parent / "noisy_only.keras", folder)
        results[NOISY_ONLY] = noisy_only_scores(model, images, noisy)
    if "noise2void" in args.only:
        results[N2V] = noise2void(args.n2v_python, folder, folder.parent / "n2v", images)
    if "upper-bound" in args.only and kind != "folder20":
        channels = next(iter(images.values())).shape[-1]
        results[UPPER_BOUND] = upper_bound(images, CASES[case], channels, args, folder, noisy)
    print_rows(kind, case, results)
    return results


def print_rows(kind, case, results):
    for method, row in results.items():
        extra = "".join(f"  {key} {row[key]:.3g}" for key in
                        ("mp_per_s", "train_minutes", "within_2_std") if row.get(key) is not None)
        print(f"  {kind:<10} {case:<17} {method:<52} PSNR {row['psnr']:6.2f}  SSIM "
              f"{row['ssim']:.3f}{extra}", flush=True)


def checks(all_results):
    lines = []
    for kind, cases in all_results.items():
        for case, rows in cases.items():
            if NOISY_ONLY not in rows:
                continue
            ours, nlm = rows[NOISY_ONLY], rows["non-local means, blind sigma"]
            line = (f"{kind} {case}: noisy-only - NLM(blind) {ours['psnr'] - nlm['psnr']:+.2f} dB "
                    f"(>= +0.5)")
            if UPPER_BOUND in rows:
                line += f", upper bound - noisy-only {rows[UPPER_BOUND]['psnr'] - ours['psnr']:.2f} dB (<= 1.5)"
            if N2V in rows:
                line += f", vs Noise2Void {ours['psnr'] - rows[N2V]['psnr']:+.2f} dB (>= 0)"
            if "BM3D, blind sigma" in rows:
                line += f", vs BM3D {ours['psnr'] - rows['BM3D, blind sigma']['psnr']:+.2f} dB"
            for method, name in (("non-local means, blind sigma", "NLM"), ("BM3D, blind sigma", "BM3D")):
                if method + UNDONE in rows:
                    line += (f", vs {name} with the shift undone "
                             f"{ours['psnr'] - rows[method + UNDONE]['psnr']:+.2f} dB")
            line += (f"; trained in {ours['train_minutes']:.1f} min; within 2 std "
                     f"{100 * ours['within_2_std']:.1f} %")
            lines.append(line)
    return lines


EARLIER = " (earlier run, same noisy images)"


def earlier_tables():
    """The tables of benchmarks/results/denoise_noisy_only.json as they are before this run."""
    path = common.RESULTS / "denoise_noisy_only.json"
    return json.loads(path.read_text(encoding="utf-8")).get("tables", {}) if path.exists() else {}


def with_earlier_rows(rows, earlier_rows):
    """``rows`` of a set's table, with the Noise2Void and upper-bound rows of that set's
    ``earlier_rows`` for the cases that have none now, marked as an earlier run."""
    have = {(row[0], row[1]) for row in rows}
    merged, cases_now = list(rows), {row[0] for row in rows}
    for row in earlier_rows:
        case, method = row[0], row[1].replace(EARLIER, "")
        if method in (N2V, UPPER_BOUND) and case in cases_now and (case, method) not in have:
            insert_after_case(merged, [case, method + EARLIER, *row[2:]])
    return merged


def insert_after_case(rows, row):
    """Put ``row`` into ``rows`` after the last row of its case (noise)."""
    rows.insert(max(i for i, r in enumerate(rows) if r[0] == row[0]) + 1, row)


def with_new_rows(earlier_rows, new_rows):
    """``earlier_rows`` of a set's table with each of ``new_rows`` in place of the earlier
    row of its case and method (an earlier-run one too), else after the case's last row."""
    merged = list(earlier_rows)
    for row in new_rows:
        case, method = row[0], row[1]
        same = [i for i, r in enumerate(merged)
                if r[0] == case and r[1].replace(EARLIER, "") == method]
        if same:
            merged[same[0]] = list(row)
        else:
            insert_after_case(merged, list(row))
    return merged


def with_earlier_minutes(rows, earlier_rows):
    """``rows`` with the training minutes of the earlier row of the same case and method
    where they have none (a reused model's row: ``--only noisy-only``)."""
    minutes = {(r[0], r[1]): r[4] for r in earlier_rows}
    return [[*row[:4], minutes.get((row[0], row[1]), "–") if row[4] == "–" else row[4], *row[5:]]
            for row in rows]


def results_of_rows(rows):
    """{case: {method: row}} read back from a table's formatted rows, for ``checks``
    (rows of an earlier run keep their mark, so the checks leave them out)."""
    results = {}
    for case, method, psnr, _, minutes, _, within in rows:
        row = {"psnr": float(psnr)}
        if minutes != "–":
            row["train_minutes"] = float(minutes)
        if within != "–":
            row["within_2_std"] = float(within) / 100
        results.setdefault(case, {})[method] = row
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", required=True, help="scripts/fetch_photos.sh's folder")
    parser.add_argument("--sets", default="colour,grey,microscopy")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--epochs", type=int, default=30, help="vae-apps train's default")
    parser.add_argument("--patches-per-image", type=int,
                        help="default: vae-apps train's (256; more for a folder of 1-3 "
                        "images, fewer for more than 8)")
    parser.add_argument("--bound-updates", type=int,
                        help="updates of 32 crops for the upper bound (default: as many as "
                        "the noisy-only model's, PatchDenoiserConfig.noisy_only_steps_per_epoch an epoch); "
                        "0: vae-apps train's default "
                        "for the clean photos (256 crops each an epoch)")
    parser.add_argument("--skip", default="", help="comma list: bm3d, upper-bound")
    parser.add_argument("--work", help="keep the noisy folders and models here")
    parser.add_argument("--n2v-python", help="the python of a virtual environment with "
                        "CAREamics (benchmarks/n2v_careamics.py): adds the Noise2Void row")
    parser.add_argument("--only", default="", help="comma list: noise2void, upper-bound, "
                        "noisy-only: run only these rows and put them into each set's earlier "
                        "table (noisy-only: with the model the earlier run left in WORK)")
    parser.add_argument("--keep-earlier", action="store_true",
                        help="keep the earlier table's Noise2Void and upper-bound rows of a set "
                        "where this run has none, marked as an earlier run (the noisy images "
                        "are the same: one fixed seed per image)")
    args = parser.parse_args()
    args.only = [row for row in args.only.split(",") if row]
    if set(args.only) - {"noise2void", "upper-bound", "noisy-only"}:
        parser.error("--only takes noise2void, upper-bound and/or noisy-only")
    if "noise2void" in args.only and not args.n2v_python:
        parser.error("--only noise2void needs --n2v-python")
    if args.bound_updates is None:
        from vae_apps.denoising.train import PATCH_DENOISER

        args.bound_updates = PATCH_DENOISER.noisy_only_steps_per_epoch * args.epochs
    sets = image_sets(args.photos, args.sets.split(","))
    all_results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        for kind, images in sets.items():
            all_results[kind] = {case: run_case(kind, images, case, args, work)
                                 for case in args.cases.split(",")}
    header = ["noise", "method", "PSNR dB", "SSIM", "training min", "MP/s",
              "errors within 2 predicted std %"]

    def cell(row, key, form):
        return form.format(row[key]) if row.get(key) is not None else "–"

    tables = {kind: (header, [[case, method, f"{row['psnr']:.2f}", f"{row['ssim']:.3f}",
                               cell(row, "train_minutes", "{:.1f}"), cell(row, "mp_per_s", "{:.3f}"),
                               f"{100 * row['within_2_std']:.1f}" if "within_2_std" in row else "–"]
                              for case, rows in cases.items() for method, row in rows.items()])
              for kind, cases in all_results.items()}
    commands = {}
    if args.only:  # the new rows into the earlier tables; the checks read off the merged ones
        earlier, this_run = earlier_tables(), common.command_line()
        for kind in all_results:
            commands[kind] = commands[kind + "_checks"] = (
                f"{earlier[kind]['command']}`, its {' and '.join(args.only)} rows by `{this_run}")
        tables = {kind: (header, with_new_rows(earlier[kind]["rows"],
                                               with_earlier_minutes(rows, earlier[kind]["rows"])))
                  for kind, (header, rows) in tables.items()}
        all_results = {kind: results_of_rows(rows) for kind, (_, rows) in tables.items()}
    lines = checks(all_results)
    print("\n".join(lines))
    if args.keep_earlier:
        earlier = earlier_tables()
        tables = {kind: (header, with_earlier_rows(rows, earlier.get(kind, {}).get("rows", [])))
                  for kind, (header, rows) in tables.items()}
    common.write_results("denoise_noisy_only", tables=tables,
                         texts={f"{kind}_checks": "; ".join(line for line in lines
                                                           if line.startswith(kind + " "))
                                for kind in all_results}, commands=commands)


if __name__ == "__main__":
    main()
