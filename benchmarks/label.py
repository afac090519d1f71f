"""Label-recovery benchmark on MNIST (Kingma et al. 2014 protocol), all methods in one run.

    python benchmarks/label.py --model mnist.keras      # a VAE trained on MNIST's 60,000 images
    python benchmarks/label.py                          # trains one first (--epochs, default 10)
    python benchmarks/label.py --digits                 # 8x8 digits, 2 % labels (36 images)

For 100 / 600 / 1000 / 3000 labelled training images (balanced across classes, three seeds
each), every LatentLabeler method is fitted on the 60,000 training codes and scored on the
10,000 test images, next to a raw-pixel 1-nearest-neighbour baseline and the published rows.

``--digits``: scikit-learn's 1,797 8x8 digits, the labelling VAE
(``vae_apps.pipelines.train_labeling_vae``) trained on all of them without labels, 36
labelled images (2 %, stratified) drawn with five seeds; accuracy on the other 1,761,
mean ± std over seeds and over ``--train-seeds`` trained VAEs, next to raw pixels.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_MNIST, Timer, load_mnist, table  # noqa: E402

PUBLISHED = {"M1+TSVM (Kingma et al. 2014)": [11.82, 5.72, 4.24, 3.49],
             "M1+M2 (Kingma et al. 2014)": [3.33, 2.59, 2.40, 2.18]}
SIZES = (100, 600, 1000, 3000)


def balanced_subset(y, n, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    return np.concatenate([rng.choice(np.flatnonzero(y == c), n // len(classes), replace=False)
                           for c in classes])


def digits_benchmark(train_seeds, label_seeds=5, n_labels=36):
    import numpy as np
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier

    from vae_apps.data import load_data
    from vae_apps.labeling import METHODS, LatentLabeler
    from vae_apps.pipelines import train_labeling_vae

    images = load_data("digits").all()
    x, y = images.x, images.y
    pixels = x.reshape(len(x), -1)
    spaces = {}
    for seed in range(train_seeds):
        with Timer() as t:
            model = train_labeling_vae(x, seed=seed)
        spaces[f"VAE codes (training seed {seed})"] = model.encode(x)[0]
        print(f"trained the labelling VAE, seed {seed}, in {t.seconds:.0f} s", flush=True)
    accuracy = {}
    for seed in range(label_seeds):
        rows, _ = train_test_split(np.arange(len(y)), train_size=n_labels, stratify=y,
                                   random_state=seed)
        given = np.full(len(y), -1)
        given[rows] = y[rows]
        rest = given == -1

        def score(name, predicted):
            accuracy.setdefault(name, []).append(100 * np.mean(predicted[rest] == y[rest]))

        for space, codes in spaces.items():
            for method in METHODS:
                labeler = LatentLabeler(method=method, random_state=seed).fit(codes, given)
                score(f"vae_apps {method}", labeler.transduction_)
        score("raw pixels, label spreading", LatentLabeler(random_state=seed).fit(pixels, given)
              .transduction_)
        score("raw pixels 1-NN", KNeighborsClassifier(1).fit(pixels[rows], y[rows]).predict(pixels))
    rows = [[name, f"{np.mean(v):.1f} ± {np.std(v):.1f}", f"{np.min(v):.1f}", len(v)]
            for name, v in accuracy.items()]
    print(f"\ndigits: {n_labels} labelled images ({n_labels / len(y):.0%}), accuracy (%) on the "
          f"other {len(y) - n_labels}; {label_seeds} label seeds x {train_seeds} trained VAEs")
    print(table(rows, ["method", "accuracy %", "worst run %", "runs"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", action="store_true", help="the 8x8 digits, 2 %% labels")
    parser.add_argument("--train-seeds", type=int, default=2, help="--digits: VAEs to train")
    parser.add_argument("--data", default=str(DEFAULT_MNIST))
    parser.add_argument("--model", help="a trained VAE (.keras); default: train one")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    if args.digits:
        return digits_benchmark(args.train_seeds)

    import numpy as np
    from sklearn.neighbors import KNeighborsClassifier

    from vae_apps.labeling import METHODS, LatentLabeler
    from vae_apps.loading import load_vae
    from vae_apps.training import train_vae

    data = load_mnist(args.data)
    x_train, y_train, x_test, y_test = data.train.x, data.train.y, data.test.x, data.test.y
    if args.model:
        model = load_vae(args.model)
    else:
        model = train_vae(x_train, None, epochs=args.epochs, verbose=2).model
    z_train, z_test = model.encode(x_train)[0], model.encode(x_test)[0]
    flat_train, flat_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)

    errors = {name: {n: [] for n in SIZES} for name in [*METHODS, "raw pixels 1-NN"]}
    for n in SIZES:
        for seed in range(args.seeds):
            rows = balanced_subset(y_train, n, seed)
            y = np.full(len(y_train), -1)
            y[rows] = y_train[rows]
            for method in METHODS:
                with Timer() as t:
                    labeler = LatentLabeler(method=method, random_state=seed).fit(z_train, y)
                    error = 100 * np.mean(labeler.predict(z_test) != y_test)
                errors[method][n].append(error)
                print(f"{n} labels, seed {seed}, {method}: {error:.2f} % ({t.seconds:.0f} s)", flush=True)
            knn = KNeighborsClassifier(n_neighbors=1).fit(flat_train[rows], y_train[rows])
            errors["raw pixels 1-NN"][n].append(100 * np.mean(knn.predict(flat_test) != y_test))

    rows = [[f"vae_apps {name}" if name in METHODS else name,
             *(f"{np.mean(v[n]):.2f} ± {np.std(v[n]):.2f}" for n in SIZES)] for name, v in errors.items()]
    rows += [[name, *(f"{e:.2f}" for e in values)] for name, values in PUBLISHED.items()]
    print()
    print(f"MNIST test error (%), mean ± std over {args.seeds} seeds; latent size {model.latent_dim}")
    print(table(rows, ["method", *(f"{n} labels" for n in SIZES)]))
    best = min(METHODS, key=lambda m: np.mean(errors[m][100]))
    print(f"best method at 100 labels: {best}, {np.mean(errors[best][100]):.2f} % "
          f"(M1+TSVM: {PUBLISHED['M1+TSVM (Kingma et al. 2014)'][0]} %)")


if __name__ == "__main__":
    main()
