"""Semi-supervised settings side by side: the same labels and seeds, one run.

    python benchmarks/experiments/label_ablation.py --set digits --seeds 0,1,2 \
        --configs '{"pseudo_labels": 0}' '{"pseudo_labels": 50}' \
        '{"pseudo_labels": 50, "likely_classes": 2}'
    python benchmarks/experiments/label_ablation.py --set photo-patches --photos PHOTOS --seeds 0 --configs '{}'
    python benchmarks/experiments/label_ablation.py --set mnist --data mnist.npz --seeds 1 --epochs 20 \
        --configs '{"consistency": 10}' '{"consistency": 0}'

Each config (``SemiSupervisedVAE`` arguments as JSON) trains one model per label seed
through ``vae_apps.labelling.train.train_labeller`` (digits: 36 stratified labels; photo
patches: benchmarks/label.py's colour set, 2 % of the labels; MNIST: all 70,000 images,
100 balanced labels from the training set, as benchmarks/label.py --mnist) and prints the
accuracy on the unlabelled images (MNIST: on the 10,000 test images) of q(y|x) alone and
of the default path (smoothed over the neighbours), the training seconds, and each
config's difference from the first.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/: common

from label import (balanced_subset, given_labels, mnist_transductive, photo_patches,  # noqa: E402
                   stratified_rows)


def main():
    import numpy as np

    from vae_apps.labelling.pipeline import recover_dataset_labels
    from vae_apps.labelling.train import train_labeller

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=("digits", "photo-patches", "mnist"), default="digits")
    parser.add_argument("--photos", help="--set photo-patches: scripts/fetch_photos.sh's folder")
    parser.add_argument("--data", help="--set mnist: mnist.npz in the keras.datasets layout")
    parser.add_argument("--labels", type=int, default=100, help="--set mnist: labelled images")
    parser.add_argument("--epochs", type=int, help="training epochs (default: by data size)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--configs", nargs="+", default=["{}"])
    args = parser.parse_args()
    if args.set == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        x, y, n_labels = (digits.images / 16).astype("float32")[..., None], digits.target, 36
    elif args.set == "mnist":
        x, y, test = mnist_transductive(args.data)
    else:
        x, y = photo_patches(args.photos)
        n_labels = round(0.02 * len(y))
    means = []
    for config in args.configs:
        rows_out = []
        for seed in (int(s) for s in args.seeds.split(",")):
            if args.set == "mnist":
                rows, rest = balanced_subset(y[:test[0]], args.labels, seed), test
            else:
                rows = stratified_rows(y, n_labels, seed)
                rest = np.setdiff1d(np.arange(len(y)), rows)
            start = time.perf_counter()
            model = train_labeller(x, given_labels(y, rows), seed=seed, epochs=args.epochs,
                                   **json.loads(config)).model
            seconds = time.perf_counter() - start
            q = 100 * np.mean(model.predict_proba(x)[rest].argmax(axis=1) == y[rest])
            default = 100 * np.mean(recover_dataset_labels(x, given_labels(y, rows), model=model,
                                                            seed=seed).labels[rest]
                                    == y[rest].astype(str))
            rows_out.append((q, default, seconds))
            print(f"{config} seed {seed}: q(y|x) {q:.1f} %, default {default:.1f} %, {seconds:.0f} s",
                  flush=True)
        means.append(np.mean(rows_out, axis=0))
        print(f"{config}: mean q(y|x) {means[-1][0]:.1f} %, default {means[-1][1]:.1f} %, "
              f"{means[-1][2]:.0f} s a training", flush=True)
    for config, mean in zip(args.configs[1:], means[1:]):
        print(f"{config} against {args.configs[0]}: default {mean[1] - means[0][1]:+.1f} points, "
              f"time x{mean[2] / means[0][2]:.2f}")


if __name__ == "__main__":
    main()
