"""How well the noisy-only models' uncertainty maps are calibrated without clean images.

    python benchmarks/denoise_noisy_only.py --sets microscopy,colour ... --work WORK   # first
    python benchmarks/noisy_only_uncertainty.py --work WORK [WORK2 ...] --photos PHOTOS

For each noisy-only model that ``denoise_noisy_only.py`` trained in the WORK folders (any
of its sets and cases), loaded as ``vae-apps denoise --model`` loads it, against the clean images:

* the share of pixels whose error lies within 2 predicted standard deviations (16
  posterior draws, as ``denoise_noisy_only.py`` measures it) with the weights the
  present library's calibration fits on the noisy images alone, as training ends
  (``denoising.calibration.calibrate_uncertainty`` through ``denoise_noisy_only.reused_model``), and
  with weights fitted on the true errors (the best these three terms allow);
* on a centre crop of every image, the mean squared error of the first of the
  calibration's half images that ``noisy_only.squared_error_estimate`` estimates from the
  noisy images alone, next to the true one, and the true one of the same pixels denoised
  at full resolution (what the maps are used for): the calibration fits the first and is
  applied to the last.

The table is kept in benchmarks/results/denoise_noisy_only.json (``uncertainty``).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402,F401  (quiet TensorFlow)


def coverage_data(model, images, noisy, samples):
    """(terms, absolute errors) over every pixel of ``images``, their noisy versions
    denoised with ``samples`` posterior draws."""
    import numpy as np

    from vae_apps.denoising.full_resolution import denoise_with_samples, uncertainty_terms

    terms, errors = [], []
    for name, clean in images.items():
        result = denoise_with_samples(model, noisy[name], samples=samples, seed=0)
        terms.append(np.stack([t.ravel() for t in uncertainty_terms(
            noisy[name], result.output, result.posterior_std)], axis=1))
        errors.append(np.abs(result.mean - clean).ravel())
    return np.concatenate(terms).astype("float64"), np.concatenate(errors)


def estimate_against_truth(model, images, noisy, crop=320, seed=0):
    """(estimated, true) mean squared error of the first half image of a centre crop of
    every image, denoised as the calibration denoises it, and the true one of the same
    pixels when the whole crop is denoised."""
    import numpy as np

    from vae_apps.denoising.full_resolution import denoise_with_samples
    from vae_apps.denoising.noisy_only import neighbour_triples, squared_error_estimate
    from vae_apps.loading import with_precision

    model = with_precision(model, "float32")
    estimated, true, full = [], [], []
    for index, (name, clean) in enumerate(images.items()):
        top, left = [max(0, (s - crop) // 2) for s in clean.shape[:2]]
        window = (slice(top, top + crop), slice(left, left + crop))
        first, second, third = neighbour_triples(noisy[name][window], seed=[seed, index])
        clean_first = neighbour_triples(clean[window], seed=[seed, index])[0]
        mean = denoise_with_samples(model, first, samples=8, seed=seed).mean
        estimated.append(squared_error_estimate(mean, second, third).ravel())
        true.append(np.square(mean - clean_first).ravel())
        whole = denoise_with_samples(model, noisy[name][window], samples=8, seed=seed).mean
        full.append(np.square(neighbour_triples(whole, seed=[seed, index])[0] - clean_first).ravel())
    return tuple(float(np.concatenate(x).mean()) for x in (estimated, true, full))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", required=True, nargs="+",
                        help="denoise_noisy_only.py's --work folders")
    parser.add_argument("--photos", required=True, help="scripts/fetch_photos.sh's folder")
    args = parser.parse_args()

    import numpy as np
    from common import report_table
    from denoise_noisy_only import CASES, SAMPLES, image_sets, reused_model

    from vae_apps.io.images import read_image
    from vae_apps.denoising.calibration import fit_uncertainty_weights

    found = sorted(path for work in args.work for path in Path(work).glob("*/*/noisy_only.keras"))
    if not found:
        sys.exit(f"{args.work}: no noisy-only model; run benchmarks/denoise_noisy_only.py first")
    sets = image_sets(args.photos, sorted({path.parent.parent.name for path in found}))
    cases = {case.replace(" ", "_"): case for case in CASES}
    rows = []
    for path in found:
        kind, case = path.parent.parent.name, cases.get(path.parent.name, path.parent.name)
        images = sets[kind]
        files = [path.parent / "noisy" / f"{name}.png" for name in images]
        noisy = {name: read_image(file)[0] for name, file in zip(images, files)}
        model = reused_model(path, path.parent / "noisy")
        terms, errors = coverage_data(model, images, noisy, SAMPLES)

        def within(weights):
            return 100 * float(np.mean(errors <= 2 * np.sqrt(terms @ np.asarray(weights))))

        best = fit_uncertainty_weights(terms, np.square(errors))
        estimated, true, full = estimate_against_truth(model, images, noisy)
        rows.append([kind, case, f"{within(model.fitted.uncertainty_weights):.1f}", f"{within(best):.1f}",
                     f"{estimated:.3g} / {true:.3g}", f"{full:.3g}"])
        print(rows[-1], flush=True)
    report_table("denoise_noisy_only", "uncertainty", rows, [
        "set", "noise", "within 2 std %: the model's weights", "weights fitted on the true errors",
        "half image MSE: estimated / true", "same pixels denoised at full resolution: MSE"])


if __name__ == "__main__":
    main()
