"""Label-recovery benchmark on MNIST (Kingma et al. 2014 protocol), all methods in one run.

    python benchmarks/label.py --model mnist.keras      # a VAE trained on MNIST's 60,000 images
    python benchmarks/label.py                          # trains one first (--epochs, default 10)

For 100 / 600 / 1000 / 3000 labelled training images (balanced across classes, three seeds
each), every LatentLabeler method is fitted on the 60,000 training codes and scored on the
10,000 test images, next to a raw-pixel 1-nearest-neighbour baseline and the published rows.
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_MNIST))
    parser.add_argument("--model", help="a trained VAE (.keras); default: train one")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()

    import numpy as np
    from sklearn.neighbors import KNeighborsClassifier

    from vae_apps.labeling import METHODS, LatentLabeler
    from vae_apps.training import load_vae, train_vae

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
