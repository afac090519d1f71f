"""Render the result tables of README.md and docs/ from the benchmarks' JSON files.

    python benchmarks/render_tables.py           # rewrite every table in place
    python benchmarks/render_tables.py --check   # exit 1 if a table and its JSON disagree

A table lives between ``<!-- table: NAME -->`` and ``<!-- end table -->``: NAME is one of
``RENDERERS`` (each reading one file of benchmarks/results/), or ``FILE.TABLE`` for a table a
benchmark wrote with ``common.write_results`` (rendered with the command and machine that made
it). A sentence with figures lives between ``<!-- text: FILE.NAME -->`` and ``<!-- end text
-->``. No figure in those blocks is typed by hand: change the JSON (rerun the benchmark) and
render again.
"""

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOCUMENTS = ("README.md", "docs/denoising.md", "docs/labelling.md", "docs/generation.md",
             "docs/performance.md", "docs/measurements/denoising.md",
             "docs/measurements/labelling.md")
BLOCK = re.compile(r"(<!-- table: ([\w.]+) -->\n)(.*?)(<!-- end table -->)", re.S)
TEXT = re.compile(r"(<!-- text: ([\w.]+) -->)(.*?)(<!-- end text -->)", re.S)


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# -- label_mnist.json: cells keyed "<code> <settings> <N> labels, seed <s>, <part>" ----------

LABEL_ORDER = ("raw pixels 1-NN", "raw pixels, label spreading", "PCA (50) + label spreading",
               "unsupervised VAE codes + knn", "unsupervised VAE codes + centroids",
               "unsupervised VAE codes + spread", "unsupervised VAE codes + gmm",
               "vae_apps label (default: semi-supervised VAE, smoothed over neighbours)",
               "semi-supervised VAE, q(y|x) alone (smoothing 0)")
LABEL_NAMES = {
    "vae_apps label (default: semi-supervised VAE, smoothed over neighbours)":
        "**vae_apps label (default: semi-supervised VAE, smoothed over neighbours where unsure)**",
    "semi-supervised VAE, q(y|x) alone (smoothing 0)": "semi-supervised VAE, q(y\\|x) alone (smoothing 0)",
}


def label_mnist(results, seed_counts=False):
    """Mean ± std over label seeds of each method's error at each number of labels (with
    ``seed_counts``, how many seeds each column holds, in its header)."""
    cells = {}  # (labels, method) -> [error per seed]
    for key, cell in results.items():
        match = re.search(r" (\d+) labels, seed (\d+), ", key)
        if not match:
            continue
        value = cell["value"]
        errors = value.get("errors", {}) if "errors" in value else value  # baselines: flat
        for method, error in errors.items():
            cells.setdefault((int(match[1]), method), {})[int(match[2])] = error
    sizes = sorted({size for size, _ in cells})
    rows = []
    for method in LABEL_ORDER:
        if not any((s, method) in cells for s in sizes):
            continue
        name = LABEL_NAMES.get(method, method)
        bold = name.startswith("**")
        row = [name]
        for size in sizes:
            errors = list(cells.get((size, method), {}).values())
            text = f"{np.mean(errors):.2f} ± {np.std(errors):.2f}" if errors else "–"
            row.append(f"**{text}**" if bold and errors else text)
        rows.append(row)
    counts = {s: max(len(v) for (size, _), v in cells.items() if size == s) for s in sizes}
    return _table(["method"] + [f"{s} labels" + (f" ({counts[s]} seeds)" if seed_counts else "")
                                for s in sizes], rows)


def label_mnist_seeds(results):
    """Per label seed: the default path's and q(y|x)'s errors, training minutes, and how
    much of the test set q(y|x) gives >= 0.9 and how often it is right there."""
    default, alone = LABEL_ORDER[-2], LABEL_ORDER[-1]
    by_size = {}
    for key, cell in results.items():
        match = re.search(r" (\d+) labels, seed (\d+), semi-supervised", key)
        if match:
            by_size.setdefault(int(match[1]), {})[int(match[2])] = cell["value"]
    rows = []
    for size in sorted(by_size):
        seeds = [by_size[size][seed] for seed in sorted(by_size[size])]
        confident = [next(r for r in v["reliability"] if r[0] == ">= 0.9") for v in seeds]
        rows.append([
            f"{size}", ", ".join(f"{v['errors'][default]:.2f}" for v in seeds),
            ", ".join(f"{v['errors'][alone]:.2f}" for v in seeds),
            ", ".join(f"{v['seconds'] / 60:.0f}" for v in seeds),
            ", ".join(f"{c[1]} % / {c[2]} %" for c in confident)])
    table = _table(["labels", "default path, error % per seed", "q(y\\|x) alone, error % per seed",
                    "training minutes per seed", "q(y\\|x) ≥ 0.9: share of test images / right"],
                   rows)
    clustering = next((c["value"] for k, c in results.items() if k.endswith(" clustering")), None)
    if clustering is not None:
        table += (f"\nWithout labels, a GMM of 10 components on the unsupervised VAE's codes of all "
                  f"70,000 images, Hungarian-matched to the classes, is right on {clustering:.2f} % "
                  f"of them.\n")
    return table


# -- denoise_photos.json ------------------------------------------------------------------

PRESET = "vae_apps photo preset (blind)"
PHOTO_METHODS = ("noisy input", "non-local means, blind sigma", "non-local means, true sigma",
                 "BM3D, blind sigma", PRESET)


def _photo_table(results, kind):
    cases = results["results"][kind]
    header = ["method"] + list(cases) + ["MP/s"]
    rows = []
    for method in PHOTO_METHODS:
        if not any(method in rows_ for rows_ in cases.values()):
            continue
        row = [f"**{method}**" if method == PRESET else method]
        for case, rows_ in cases.items():
            cell = rows_.get(method)
            if cell is None:
                row.append("–")
            elif case == "clean":
                row.append("∞" if method == "noisy input" else
                           f"{cell['psnr']:.2f}, shift {cell['worst_shift']:.2f}")
            else:
                row.append(f"{cell['psnr']:.2f} / {cell['ssim']:.3f}")
        rates = [r[method]["mp_per_s"] for r in cases.values()
                 if method in r and r[method]["mp_per_s"]]
        row.append(f"{np.median(rates):.3f}" if rates else "–")
        rows.append(row)
    return _table(header, rows)


def _photo_margins(results, kind):
    cases = results["results"][kind]
    rows = []
    for case, rows_ in cases.items():
        ours = rows_.get(PRESET)
        if ours is None or case == "clean":
            continue
        nlm = rows_["non-local means, blind sigma"]["psnr"]
        bm3d = rows_.get("BM3D, blind sigma")
        rows.append([case, f"{ours['psnr'] - nlm:+.2f}",
                     f"{ours['worst_margin_over_nlm_blind']:+.2f}",
                     "–" if bm3d is None else f"{ours['psnr'] - bm3d['psnr']:+.2f}"])
    return _table(["case", "preset − NL-means (blind), mean dB", "worst photo, dB",
                   "preset − BM3D (blind), dB"], rows)


def _photo_headline(results):
    colour = results["results"]["colour"]
    cases = [c for c in ("clean", "gaussian 10", "gaussian 25", "gaussian 50", "poisson-gaussian",
                         "gaussian 25 + jpeg 90") if c in colour]
    rows = []
    for method in ("non-local means, blind sigma", "BM3D, blind sigma", PRESET):
        row = [f"**{method}**" if method == PRESET else method]
        for case in cases:
            cell = colour[case].get(method)
            row.append("–" if cell is None else f"{cell['psnr']:.2f}")
        rows.append(row)
    return _table(["colour photos, mean PSNR dB"] + cases, rows)


# -- denoise_real.json -------------------------------------------------------------------

REAL_PRESET = "vae_apps photo preset (blind, default)"


def _real_sidd(results):
    rows = []
    for method, cell in results["sidd"].items():
        name = f"**{method}**" if method == REAL_PRESET else method
        margin = "–" if method == "noisy input" else f"{cell['worst_margin_over_noisy']:+.2f}"
        rate = "–" if cell["mp_per_s"] is None else f"{cell['mp_per_s']:.3f}"
        rows.append([name, f"{cell['psnr']:.2f} / {cell['ssim']:.3f}", margin, rate])
    return _table(["12 SIDD phone crops", "mean PSNR dB / SSIM", "worst crop − noisy, dB", "MP/s"],
                  rows)


def _real_dnd(results):
    rows = []
    for method, cell in results["dnd"].items():
        name = f"**{method}**" if method == REAL_PRESET else method
        rows.append([name, f"{cell['mean_share']:.2f}", f"{cell['worst_share']:.2f}",
                     f"{cell['mp_per_s']:.3f}"])
    return _table(["33 DND camera crops", "noise left on the flattest blocks, mean share",
                   "worst crop", "MP/s"], rows)


def _real_headline(results):
    sidd, dnd = results["sidd"], results["dnd"]
    methods = ["noisy input", "non-local means, blind sigma", "CBM3D, blind sigma",
               "CBM3D, best sigma per crop (oracle)", REAL_PRESET]
    rows = []
    for method in methods:
        cell = sidd.get(method)
        if cell is None:
            continue
        name = f"**{method}**" if method == REAL_PRESET else method
        left = dnd.get(method)
        rows.append([name, f"{cell['psnr']:.2f}",
                     "1.00" if method == "noisy input" else
                     ("–" if left is None else f"{left['mean_share']:.2f}")])
    return _table(["real camera noise", "12 phone crops (SIDD), mean PSNR dB",
                   "33 camera crops (DND), noise left on flat areas"], rows)


RENDERERS = {
    "denoise_real_sidd": ("denoise_real.json", _real_sidd),
    "denoise_real_dnd": ("denoise_real.json", _real_dnd),
    "denoise_real_headline": ("denoise_real.json", _real_headline),
    "label_mnist": ("label_mnist.json", label_mnist),
    "label_mnist_seeds": ("label_mnist.json", label_mnist_seeds),
    "label_mnist_current": ("label_mnist_current.json", lambda r: label_mnist(r, seed_counts=True)),
    "label_mnist_current_seeds": ("label_mnist_current.json", label_mnist_seeds),
    "denoise_photos_colour": ("denoise_photos.json", lambda r: _photo_table(r, "colour")),
    "denoise_photos_grey": ("denoise_photos.json", lambda r: _photo_table(r, "grey")),
    "denoise_photos_margins": ("denoise_photos.json", lambda r: _photo_margins(r, "colour")),
    "denoise_photos_headline": ("denoise_photos.json", _photo_headline),
}


def _written(kind, name, results_dir, loaded):
    """The entry ``FILE.NAME`` of a file ``common.write_results`` wrote."""
    file, _, entry = name.partition(".")
    data = _load(file + ".json", results_dir, loaded)
    if entry not in data.get(kind, {}):
        raise SystemExit(f"{file}.json has no {kind[:-1]} {entry!r}; rerun its benchmark")
    return data[kind][entry]


def _load(file, results_dir, loaded):
    if file not in loaded:
        loaded[file] = json.loads((Path(results_dir) / file).read_text(encoding="utf-8"))
    return loaded[file]


def render(text, results_dir=RESULTS):
    """``text`` with every table and text block rendered from ``results_dir``."""
    loaded = {}

    def table(match):
        name = match[2]
        if "." in name:
            entry = _written("tables", name, results_dir, loaded)
            return (match[1] + f"*`{entry['command']}` — {entry['machine']}*\n\n"
                    + _table(entry["header"], entry["rows"]) + match[4])
        if name not in RENDERERS:
            raise SystemExit(f"unknown table {name!r}; known: {', '.join(RENDERERS)}")
        file, renderer = RENDERERS[name]
        return match[1] + renderer(_load(file, results_dir, loaded)) + match[4]

    def sentence(match):
        return match[1] + _written("texts", match[2], results_dir, loaded)["text"] + match[4]

    return TEXT.sub(sentence, BLOCK.sub(table, text))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    args = parser.parse_args()
    stale = []
    for document in DOCUMENTS:
        path = ROOT / document
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        rendered = render(text)
        if rendered != text:
            stale.append(document)
            if not args.check:
                path.write_text(rendered, encoding="utf-8")
    if args.check and stale:
        print("tables out of date with benchmarks/results: " + ", ".join(stale) +
              " (run python benchmarks/render_tables.py)")
        sys.exit(1)
    print(("checked " if args.check else "rendered ") + ", ".join(DOCUMENTS))


if __name__ == "__main__":
    main()
