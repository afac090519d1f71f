"""Label-recovery benchmark: vae_apps' default path against the baselines, in one run.

    python benchmarks/label.py --digits          # 8x8 digits, 36 labels (2 %), 5 label seeds
    python benchmarks/label.py --faces           # skimage's 200 grey faces / non-faces, 4 labels
    python benchmarks/label.py --suggest         # digits: two rounds of suggested labels vs random
    python benchmarks/label.py --mnist --sizes 100,600 --seeds 3   # Kingma et al.'s protocol
    python benchmarks/label.py --mnist --results benchmarks/results/label_mnist.json \
        --models MODELS_DIR    # the full table over several runs: finished cells and
                               # trained models are kept and reused by a rerun
    python benchmarks/label.py --digits --faces --mnist --results benchmarks/results/label_mnist.json \
        --models MODELS_DIR    # every dataset's table in one run (MNIST's cells kept: ~11 min)
    python benchmarks/label.py --mnist --baselines-only --results FILE.json --models DIR
                               # only the baseline cells (while trainings run elsewhere)
    python benchmarks/label.py --mnist-suggest --seed-list 0,1 --models DIR
                               # 2 x 50 suggested vs 100 random labels, per seed
    python benchmarks/label.py --photo-patches --photos PHOTOS --seeds 3
                               # colour: 4,800 crops of 12 real photos, the class is the photo
    python benchmarks/label.py --digits --random-labels
                               # labels as a user gives them: drawn at random, not stratified

Rows, all on the same labels: raw-pixel 1-NN, raw-pixel label spreading, PCA + label
spreading, label spreading on six numbers per image (each colour channel's mean and
standard deviation: what colour statistics alone can do), the latent-space methods on the codes of a VAE trained without labels
(``vae_apps.labelling.train.train_labeling_vae``), and the default ``vae-apps label`` path
(``vae_apps.labelling.pipeline.recover_dataset_labels``: the semi-supervised VAE, its q(y|x) smoothed over
the images' neighbours), and the same trained model's q(y|x) alone. Small sets score the
accuracy on the unlabelled images; MNIST trains transductively on its 70,000 images (the
test images' labels unseen) and scores the 10,000 test images, next to the published rows.
Each semi-supervised run also prints a reliability table of its confidence column.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_MNIST, Timer, load_mnist, table, write_results  # noqa: E402

PUBLISHED = {"M1+TSVM (Kingma et al. 2014)": {100: 11.82, 600: 5.72, 1000: 4.24, 3000: 3.49},
             "M2 (Kingma et al. 2014)": {100: 11.97, 600: 4.94, 1000: 3.60, 3000: 3.92},
             "M1+M2 (Kingma et al. 2014)": {100: 3.33, 600: 2.59, 1000: 2.40, 3000: 2.18},
             "ADGM (Maaløe et al. 2016)": {100: 0.96}}
BINS = (0.5, 0.7, 0.9, 0.95, 0.99)


def balanced_subset(y, n, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    return np.concatenate([rng.choice(np.flatnonzero(y == c), n // len(classes), replace=False)
                           for c in classes])


def stratified_rows(y, n, seed):
    import numpy as np
    from sklearn.model_selection import train_test_split

    rows, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
    return np.sort(rows)


def random_rows(y, n, seed):
    """``n`` rows drawn at random, not stratified: some classes may get one label or none,
    as when a user labels the files they happen to open."""
    import numpy as np

    return np.sort(np.random.default_rng(seed).choice(len(y), n, replace=False))


# Twelve distinct colour scenes among the photos scripts/fetch_photos.sh fetches
# (opencv-doc's examples/data and lomiri-wallpapers-20.04), for the colour labelling set.
PATCH_PHOTOS = ("aero1", "apple", "butterfly", "home", "messi5", "orange", "pca_test1", "stuff",
                "Fossa_by_Jasper_Roks", "Infinite-Sea_by_Aury88", "Kleiber_by_Lukas_Baubkus",
                "Painting-Colors_by__herobrine7gamer")


def photo_patches(photos_dir, size=32, per_photo=400, short_side=256, seed=0):
    """Colour crops of real photos, the class being the photo: each photo resized to a
    short side of ``short_side`` pixels, then ``per_photo`` random ``size`` x ``size``
    crops (seeded). Returns (x float32 N x size x size x 3, y int)."""
    import numpy as np
    from PIL import Image

    from vae_apps.io.images import read_image

    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for label, name in enumerate(PATCH_PHOTOS):
        matches = sorted(Path(photos_dir, "train").glob(f"{name}.*"))
        if not matches:
            raise SystemExit(f"{photos_dir}/train/{name}.*: not found; run "
                             f"scripts/fetch_photos.sh {photos_dir} first")
        pixels = read_image(matches[0])[0][..., :3]
        scale = short_side / min(pixels.shape[:2])
        shape = (round(pixels.shape[1] * scale), round(pixels.shape[0] * scale))
        image = Image.fromarray((pixels * 255).round().astype("uint8")).resize(shape, Image.LANCZOS)
        pixels = np.asarray(image, "float32") / 255
        tops = rng.integers(0, pixels.shape[0] - size + 1, per_photo)
        lefts = rng.integers(0, pixels.shape[1] - size + 1, per_photo)
        xs += [pixels[t:t + size, l:l + size] for t, l in zip(tops, lefts)]
        ys += [label] * per_photo
    return np.stack(xs), np.asarray(ys)


def given_labels(y, rows):
    import numpy as np

    from vae_apps.labelling.label_csv import GivenLabels

    return GivenLabels("index", np.asarray(rows), y[rows].astype(str).astype(object))


def baselines(x, y, rows, seed, unsupervised_codes):
    """name -> predicted labels (strings) of every image, from the labelled ``rows`` only."""
    import numpy as np
    from sklearn.decomposition import PCA
    from sklearn.neighbors import KNeighborsClassifier

    from vae_apps.labelling.estimator import LatentLabeler, METHODS

    pixels = x.reshape(len(x), -1)
    given = np.full(len(y), -1)
    given[rows] = y[rows]
    pca = PCA(n_components=min(50, len(x) - 1, pixels.shape[1]), random_state=seed).fit_transform(pixels)
    statistics = np.concatenate([x.mean(axis=(1, 2)), x.std(axis=(1, 2))], axis=1)
    statistics = (statistics - statistics.mean(axis=0)) / (statistics.std(axis=0) + 1e-8)
    out = {"raw pixels 1-NN": KNeighborsClassifier(1).fit(pixels[rows], y[rows]).predict(pixels),
           "raw pixels, label spreading": LatentLabeler(random_state=seed).fit(pixels, given).transduction_,
           "PCA (50) + label spreading": LatentLabeler(random_state=seed).fit(pca, given).transduction_,
           "colour statistics (channel mean, std) + label spreading":
               LatentLabeler(random_state=seed).fit(statistics, given).transduction_}
    for method in METHODS:
        labeler = LatentLabeler(method=method, random_state=seed).fit(unsupervised_codes, given)
        out[f"unsupervised VAE codes + {method}"] = labeler.transduction_
    return out


def clustering_accuracy(codes, y, seed=0):
    """Unsupervised clustering accuracy (%): a GMM with one component per class on the
    codes, its clusters matched to the classes one-to-one (Hungarian), as VaDE reports it."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import confusion_matrix
    from sklearn.mixture import GaussianMixture

    k = len(np.unique(y))
    clusters = GaussianMixture(k, covariance_type="full", n_init=3,
                               random_state=seed).fit_predict(codes)
    counts = confusion_matrix(y, clusters, labels=np.arange(k))
    rows, cols = linear_sum_assignment(-counts)
    return 100 * counts[rows, cols].sum() / len(y)


def reliability(confidence, correct):
    """Rows: confidence >= threshold -> share of predictions, accuracy among them."""
    import numpy as np

    return [[f">= {b}", f"{100 * np.mean(confidence >= b):.1f}",
             f"{100 * np.mean(correct[confidence >= b]):.2f}" if (confidence >= b).any() else "-"]
            for b in BINS]


def unsupervised_codes(name, x, model=None, models=None):
    """The codes of ``x`` by a VAE trained without labels (``train_labeling_vae``, seed 0),
    loaded from ``model`` or kept in ``models`` (a ``KeptModels``); prints how long that took."""
    from vae_apps.loading import load_vae

    with Timer() as t:  # KeptModels without a folder trains it
        vae = load_vae(model) if model else (models or KeptModels(None, name)).unsupervised(x)
    print(f"{name}: unsupervised VAE ready in {t.seconds:.0f} s", flush=True)
    return vae.encode(x)[0]


def mnist_transductive(path):
    """MNIST as one set of 70,000 images: (x, y, the test images' rows)."""
    import numpy as np

    data = load_mnist(path)
    x = np.concatenate([data.train.x, data.test.x])
    y = np.concatenate([data.train.y, data.test.y])
    return x, y, np.arange(len(data.train.x), len(x))


DEFAULT_ROW = "vae_apps label (default: semi-supervised VAE, smoothed over neighbours)"
Q_ALONE_ROW = "semi-supervised VAE, q(y|x) alone (smoothing 0)"


class KeptModels:
    """Semi-supervised VAEs kept in a folder (``--models``), one per data set, labelled rows,
    seed and epochs, so a rerun or another benchmark on the same labels loads them instead of
    training again (~22 min each on MNIST here). Delete the folder after changing the training.

    Args:
        folder: str or None. Where the ``.keras`` files go (None: keep nothing).
        data_name: str. Names the data set in the files' names and keys.
    """

    def __init__(self, folder, data_name):
        self.folder = Path(folder) if folder else None
        self.data_name = data_name

    def train(self, x, given, epochs, seed):
        """``train_labeller``'s model and its training seconds, loaded when kept."""
        import hashlib

        from vae_apps.loading import load_vae
        from vae_apps.labelling.train import train_labeller

        if self.folder is None:
            result = train_labeller(x, given, epochs=epochs, seed=seed)
            return result.model, result.seconds
        key = json.dumps([self.data_name, given.rows.tolist(), given.labels.tolist(), seed, epochs])
        path = self.folder / (f"{self.data_name}_{len(given.rows)}labels_seed{seed}_"
                              f"{hashlib.sha256(key.encode()).hexdigest()[:12]}.keras")
        info = path.with_suffix(".json")
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            result = train_labeller(x, given, epochs=epochs, seed=seed, out=path)
            info.write_text(json.dumps({"seconds": result.seconds}))
            return result.model, result.seconds
        print(f"{path.name}: kept model loaded", flush=True)
        return load_vae(path), json.loads(info.read_text())["seconds"]

    def unsupervised(self, x):
        """``train_labeling_vae(x, seed=0)``'s model, loaded when kept."""
        from vae_apps.loading import load_vae
        from vae_apps.labelling.train import train_labeling_vae

        if self.folder is None:
            return train_labeling_vae(x, seed=0)
        path = self.folder / f"{self.data_name}_unsupervised_seed0.keras"
        if path.exists():
            print(f"{path.name}: kept model loaded", flush=True)
            return load_vae(path)
        self.folder.mkdir(parents=True, exist_ok=True)
        vae = train_labeling_vae(x, seed=0)
        partial = path.with_name(path.stem + ".partial.keras")
        vae.save(partial)
        partial.replace(path)
        return vae


def semi_supervised_rows(x, given, epochs, seed, models=KeptModels(None, "")):
    """Train one semi-supervised VAE (or load it from ``models``); return ({row:
    RecoveredLabels}, seconds of the default path: training and recovery): the default and
    q(y|x) without the smoothing."""
    from vae_apps.labelling.pipeline import recover_dataset_labels

    model, train_seconds = models.train(x, given, epochs, seed)
    with Timer() as t:
        default = recover_dataset_labels(x, given, model=model, seed=seed)
    return {DEFAULT_ROW: default,
            Q_ALONE_ROW: recover_dataset_labels(x, given, model=model, seed=seed, smoothing=0)}, \
        train_seconds + t.seconds


def small_set_benchmark(name, x, y, n_labels, label_seeds, epochs=None, draw=stratified_rows):
    """``draw(y, n, seed)`` picks the labelled rows (stratified by default)."""
    import numpy as np

    codes = unsupervised_codes(name, x)
    accuracy, seconds, confidence, correct = {}, {}, [], []
    for seed in range(label_seeds):
        rows = draw(y, n_labels, seed)
        rest = np.setdiff1d(np.arange(len(y)), rows)
        for method, predicted in baselines(x, y, rows, seed, codes).items():
            accuracy.setdefault(method, []).append(100 * np.mean(predicted[rest] == y[rest]))
        results, train_seconds = semi_supervised_rows(x, given_labels(y, rows), epochs, seed)
        right = {row: result.labels[rest] == y[rest].astype(str) for row, result in results.items()}
        for row, ok in right.items():
            accuracy.setdefault(row, []).append(100 * ok.mean())
        seconds.setdefault(DEFAULT_ROW, []).append(train_seconds)
        confidence.append(results[DEFAULT_ROW].confidence[rest])
        correct.append(right[DEFAULT_ROW])
        print(f"{name}, label seed {seed}: default {accuracy[DEFAULT_ROW][-1]:.1f} %, q(y|x) alone "
              f"{accuracy[Q_ALONE_ROW][-1]:.1f} % ({train_seconds:.0f} s)", flush=True)
    print(f"\n{name}: {n_labels} labelled images ({n_labels / len(y):.1%}), accuracy (%) on the "
          f"other {len(y) - n_labels}, {label_seeds} label seeds")
    order = sorted(accuracy, key=lambda m: -np.mean(accuracy[m]))
    rows = [[f"**{m}**" if m == DEFAULT_ROW else m.replace("|", "\\|"),
             f"{np.mean(accuracy[m]):.1f} ± {np.std(accuracy[m]):.1f}", f"{np.min(accuracy[m]):.1f}",
             f"{np.mean(seconds[m]):.0f}" if m in seconds else "–"] for m in order]
    header = ["method", "accuracy % (mean ± std)", "worst seed %", "training s"]
    print(table(rows, header))
    best_baseline = max((m for m in accuracy if m not in (DEFAULT_ROW, Q_ALONE_ROW)),
                        key=lambda m: np.mean(accuracy[m]))
    default = np.mean(accuracy[DEFAULT_ROW])
    margin = (f"{name}: the default path {default:.1f} % against the best baseline ({best_baseline}) "
              f"{np.mean(accuracy[best_baseline]):.1f} %, a margin of "
              f"{default - np.mean(accuracy[best_baseline]):+.1f} points; per seed "
              + ", ".join(f"{a:.1f}" for a in accuracy[DEFAULT_ROW]) + ".")
    print(margin)
    print(f"\n{name}: reliability of the confidence column (unlabelled images, all seeds)")
    trust = reliability(np.concatenate(confidence), np.concatenate(correct))
    trust_header = ["confidence", "share of the images %", "of those right %"]
    print(table(trust, trust_header))
    write_results("label_small", tables={name: (header, rows), f"{name}_confidence": (trust_header, trust)},
                  texts={f"{name}_margin": margin})


def suggest_benchmark(name, x, y, codes, label_seeds, round_size, random_rows, epochs=None,
                      pool=None, scored=None, models=KeptModels(None, "")):
    """Two rounds of ``round_size`` suggested labels against 2 x round_size random ones
    (``random_rows(n, seed)``), accuracy on the ``scored`` rows (default: the unlabelled
    ones). Round 1 has no labels yet: it asks for the most representative images of the
    unsupervised ``codes`` (uniform class probabilities); round 2 asks by the
    semi-supervised model trained on round 1's labels. Only ``pool`` rows (default: all)
    may be asked for."""
    import numpy as np

    from vae_apps.labelling.recovery import suggest_labels

    # Rows outside the pool count as labelled already, so they are never suggested.
    outside = np.setdiff1d(np.arange(len(x)), np.arange(len(x)) if pool is None else pool)
    scores = {"random": [], "two suggested rounds": []}
    for seed in label_seeds:
        with Timer() as t:
            first = suggest_labels(codes, np.full((len(x), 1), 1.0), outside, round_size, seed)
            model_round = semi_supervised_rows(x, given_labels(y, first), epochs, seed,
                                               models)[0][DEFAULT_ROW]
            second = suggest_labels(model_round.features, model_round.proba,
                                    np.concatenate([outside, first]), round_size, seed)
        round_one_seconds = t.seconds
        rows_by = {"two suggested rounds": np.concatenate([first, second]),
                   "random": random_rows(2 * round_size, seed)}
        for method, rows in rows_by.items():
            rest = np.setdiff1d(np.arange(len(y)), rows) if scored is None else scored
            results, seconds = semi_supervised_rows(x, given_labels(y, rows), epochs, seed, models)
            result = results[DEFAULT_ROW]
            scores[method].append(100 * np.mean(result.labels[rest] == y[rest].astype(str)))
            print(f"{name} suggest, seed {seed}, {method}: {scores[method][-1]:.2f} % right "
                  f"({seconds:.0f} s; round 1, training and suggesting: {round_one_seconds:.0f} s)",
                  flush=True)
    print(f"\n{name}: {2 * round_size} labels, accuracy (%) on the "
          f"{'rest' if scored is None else f'{len(scored)} scored images'}, seeds {list(label_seeds)}")
    header = [f"{2 * round_size} labels chosen by", "accuracy % (mean ± std)", "worst seed %",
              "per seed %"]
    rows = [[f"**two rounds of --suggest {round_size}**" if k != "random" else "random",
             f"{np.mean(v):.2f} ± {np.std(v):.2f}", f"{np.min(v):.2f}", " / ".join(f"{a:.2f}" for a in v)]
            for k, v in reversed(list(scores.items()))]
    print(table(rows, header))
    write_results("label_small", tables={f"{name.lower()}_suggest": (header, rows)})


def code_fingerprint():
    """A hash of vae_apps' code: a kept cell counts only for the code that made it. Comments
    and docstrings are left out (the parsed syntax tree is hashed), so editing prose keeps
    the cells; any change to a statement starts them again."""
    import ast
    import hashlib

    import vae_apps

    digest = hashlib.sha256()
    for source in sorted(Path(vae_apps.__file__).parent.glob("*.py")):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                    and body and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
                node.body = body[1:] or [ast.Pass()]
        digest.update(source.name.encode() + ast.dump(tree).encode())
    return digest.hexdigest()[:12]


class KeptRows:
    """Table cells kept in a JSON file (``--results``) so one command builds a table whose
    trainings outlast one sitting (MNIST's 4 sizes x 3 seeds: 12 trainings of ~22 min here);
    a kept cell is reused only for the same vae_apps source and the same settings.

    Args:
        path: str or None. The JSON file (None: keep nothing).
        settings: str. What else the cells depend on (data file, epochs, model).
    """

    def __init__(self, path, settings):
        self.path = Path(path) if path else None
        self.prefix = f"{code_fingerprint()} {settings}"
        self.cells = (json.loads(self.path.read_text())
                      if self.path is not None and self.path.exists() else {})

    def get(self, name, compute):
        """The kept value of ``name``, or ``compute()``'s, then kept."""
        key = f"{self.prefix} {name}"
        if key in self.cells:
            print(f"{name}: kept in {self.path} since {self.cells[key]['date']}", flush=True)
            return self.cells[key]["value"]
        value = compute()
        if self.path is not None:
            self.cells[key] = {"value": value, "date": time.strftime("%Y-%m-%d %H:%M")}
            partial = self.path.with_name(self.path.name + ".partial")
            partial.write_text(json.dumps(self.cells, indent=1))
            partial.replace(self.path)
        return value


def mnist_benchmark(path, sizes, label_seeds, epochs=None, model=None, with_baselines=True,
                    results=None, models=KeptModels(None, ""), with_semi_supervised=True):
    import numpy as np

    x, y_all, test = mnist_transductive(path)
    y_train, y_test = y_all[:test[0]], y_all[test]
    kept = KeptRows(results, f"data={Path(path).name} epochs={epochs} model={model}")
    codes = []  # the unsupervised VAE is trained only when a baseline cell is not kept

    def unsupervised():
        if not codes:
            codes.append(unsupervised_codes("MNIST", x, model, models))
        return codes[0]

    if with_baselines:
        accuracy = kept.get("clustering", lambda: clustering_accuracy(unsupervised(), y_all))
        print(f"MNIST: clustering accuracy, no labels (GMM of 10 components on the unsupervised "
              f"VAE's codes of all {len(x):,} images, Hungarian-matched): "
              f"{accuracy:.2f} % (VaDE, Jiang et al. 2017: 94.46 %)", flush=True)
    errors, seconds = {}, {}
    for n in sizes:
        for seed in label_seeds:
            rows = balanced_subset(y_train, n, seed)
            if with_baselines:
                for method, error in kept.get(f"{n} labels, seed {seed}, baselines", lambda: {
                        m: 100 * float(np.mean(p[test] != y_test))
                        for m, p in baselines(x, y_all, rows, seed, unsupervised()).items()}).items():
                    errors.setdefault(method, {}).setdefault(n, []).append(error)

            def semi_supervised():
                results, train_seconds = semi_supervised_rows(x, given_labels(y_all, rows),
                                                              epochs, seed, models)
                wrong = {r: result.labels[test] != y_test.astype(str)
                         for r, result in results.items()}
                return {"errors": {r: 100 * float(w.mean()) for r, w in wrong.items()},
                        "seconds": train_seconds,
                        "reliability": reliability(results[DEFAULT_ROW].confidence[test],
                                                   ~wrong[DEFAULT_ROW])}

            if not with_semi_supervised:
                continue
            cell = kept.get(f"{n} labels, seed {seed}, semi-supervised", semi_supervised)
            for row, error in cell["errors"].items():
                errors.setdefault(row, {}).setdefault(n, []).append(error)
            seconds.setdefault(n, []).append(cell["seconds"])
            print(f"MNIST {n} labels, seed {seed}: default {cell['errors'][DEFAULT_ROW]:.2f} %, "
                  f"q(y|x) alone {cell['errors'][Q_ALONE_ROW]:.2f} % ({cell['seconds']:.0f} s)",
                  flush=True)
            print(table(cell["reliability"], ["confidence", "share %", "accuracy %"]), flush=True)
    rows = [[m, *(f"{np.mean(v[n]):.2f} ± {np.std(v[n]):.2f}" if n in v else "-" for n in sizes)]
            for m, v in errors.items()]
    rows += [[m, *(f"{v[n]:.2f}" if n in v else "-" for n in sizes)] for m, v in PUBLISHED.items()]
    print(f"\nMNIST test error (%), mean ± std over label seeds {label_seeds}; semi-supervised "
          "training s: " + ", ".join(f"{n}: {np.mean(s):.0f}" for n, s in seconds.items()))
    print(table(rows, ["method", *(f"{n} labels" for n in sizes)]))


def seed_list(args, default):
    """The label seeds: ``--seed-list``, else ``range(--seeds or default)``."""
    if args.seed_list:
        return [int(s) for s in args.seed_list.split(",")]
    return list(range(args.seeds or default))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", action="store_true", help="8x8 digits, 36 labels (2 %%)")
    parser.add_argument("--faces", action="store_true", help="skimage lfw_subset, 4 labels")
    parser.add_argument("--suggest", action="store_true",
                        help="digits: 2 rounds of 18 suggested labels vs 36 random, stratified")
    parser.add_argument("--mnist-suggest", action="store_true",
                        help="MNIST: 2 rounds of 50 suggested labels (from the training images) "
                             "vs 100 random, balanced; test error on the 10,000 test images")
    parser.add_argument("--mnist", action="store_true")
    parser.add_argument("--photo-patches", action="store_true",
                        help="colour: 4,800 32x32 crops of 12 real photos, 96 labels (2 %%)")
    parser.add_argument("--photos", help="--photo-patches: scripts/fetch_photos.sh's folder")
    parser.add_argument("--random-labels", action="store_true",
                        help="--digits, --photo-patches: labels drawn at random, not stratified")
    parser.add_argument("--data", default=str(DEFAULT_MNIST))
    parser.add_argument("--model", help="--mnist, --mnist-suggest: an unsupervised VAE (.keras) instead of training one")
    parser.add_argument("--sizes", default="100,600,1000,3000")
    parser.add_argument("--seeds", type=int, help="label seeds (default: 5 small sets, 3 MNIST)")
    parser.add_argument("--seed-list", help="--mnist, --mnist-suggest: these label seeds, e.g. 1,2 "
                        "(instead of --seeds)")
    parser.add_argument("--no-baselines", action="store_true",
                        help="--mnist: only the default path, no baselines (they need an unsupervised VAE too)")
    parser.add_argument("--baselines-only", action="store_true",
                        help="--mnist: only the baselines (with --results, to fill their cells "
                             "while the semi-supervised trainings run elsewhere)")
    parser.add_argument("--epochs", type=int, help="semi-supervised epochs (default: by data size)")
    parser.add_argument("--models", help="--mnist, --mnist-suggest: a folder that keeps each "
                        "trained semi-supervised VAE; a rerun on the same labels, seed and epochs "
                        "loads it instead of training")
    parser.add_argument("--results", help="--mnist: a JSON file that keeps each finished cell; a "
                        "rerun reuses the cells made by the same vae_apps source and settings")
    args = parser.parse_args()
    draw, suffix = (random_rows, "_random_labels") if args.random_labels else (stratified_rows, "")
    if args.digits:
        from vae_apps.io.data import load_data

        images = load_data("digits").all()
        small_set_benchmark("digits" + suffix, images.x, images.y, 36, args.seeds or 5,
                            args.epochs, draw)
    if args.photo_patches:
        if not args.photos:
            parser.error("--photo-patches needs --photos (scripts/fetch_photos.sh's folder)")
        x, y = photo_patches(args.photos)
        small_set_benchmark("photo_patches" + suffix, x, y, 96, args.seeds or 3, args.epochs, draw)
    if args.faces:
        import numpy as np
        from skimage.data import lfw_subset

        x = lfw_subset()[..., None].astype("float32")  # 100 faces, then 100 non-faces
        y = np.repeat([0, 1], 100)
        small_set_benchmark("faces", x, y, 4, args.seeds or 5, args.epochs)
    if args.suggest:
        from vae_apps.io.data import load_data

        images = load_data("digits").all()
        codes = unsupervised_codes("digits", images.x)
        suggest_benchmark("digits", images.x, images.y, codes, range(args.seeds or 3), 18,
                          lambda n, seed: stratified_rows(images.y, n, seed), args.epochs)
    if args.mnist_suggest:
        x, y, test = mnist_transductive(args.data)
        train = range(test[0])
        models = KeptModels(args.models, Path(args.data).stem)
        suggest_benchmark("MNIST", x, y, unsupervised_codes("MNIST", x, args.model, models),
                          seed_list(args, 1), 50, lambda n, seed: balanced_subset(y[train], n, seed),
                          args.epochs, pool=train, scored=test, models=models)
    if args.mnist:
        mnist_benchmark(args.data, [int(s) for s in args.sizes.split(",")], seed_list(args, 3), args.epochs,
                        args.model, with_baselines=not args.no_baselines, results=args.results,
                        models=KeptModels(args.models, Path(args.data).stem),
                        with_semi_supervised=not args.baselines_only)


if __name__ == "__main__":
    main()
