"""Likelihood benchmark on dynamically binarised MNIST, next to Burda et al. (2016).

    python benchmarks/generate.py [--epochs 50] [--pixel-context M] [--iwae-samples 1000]
                                  [--limit N] [--out DIR]
    python benchmarks/generate.py --model MODEL.keras   # one trained by vae-apps train --binarize

Trains a VAE with dynamic binarisation (each pixel drawn as Bernoulli of its grey level,
afresh every epoch), or takes ``--model``, binarises the test set once with a fixed seed, and
prints the test negative ELBO and the IWAE bound on -log p(x) (nats per image) next to
Burda et al.'s figures, the wall times, and writes sample grids from the prior and from a GMM
fitted on the training codes.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_MNIST, Timer, load_mnist, report_table, write_results  # noqa: E402

PUBLISHED = [("VAE (Burda et al. 2016)", "86.76"), ("IWAE, k=50 (Burda et al. 2016)", "84.78"),
             ("IWAE, 2 stochastic layers (Burda et al. 2016)", "82.90")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_MNIST))
    parser.add_argument("--model", help="evaluate this trained model instead of training one")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--pixel-context", type=int, default=0, help="see vae-apps train")
    parser.add_argument("--warmup-epochs", type=int, default=0)
    parser.add_argument("--iwae-samples", type=int, default=1000)
    parser.add_argument("--limit", type=int, help="evaluate on the first N test images only")
    parser.add_argument("--out", default="benchmark-generate", help="folder for the sample grids")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from vae_apps.io.data import binarize_images
    from vae_apps.generation.likelihoods import elbo_terms, iwae_nll
    from vae_apps.generation.grids import generate
    from vae_apps.plots import save_grid
    from vae_apps.models.samplers import GMMSampler, PriorSampler
    from vae_apps.loading import load_vae
    from vae_apps.training.loop import split_validation, train_vae

    data = load_mnist(args.data)
    x_train, x_val = split_validation(data.train.x, 0.1, args.seed)
    x_test = binarize_images(data.test.x[:args.limit], 12345)
    if args.model:
        model, trained = load_vae(args.model), f"{args.model} (trained elsewhere)"
    else:
        with Timer() as t:
            model = train_vae(x_train, x_val, binarize=True, epochs=args.epochs, seed=args.seed,
                              verbose=2, pixel_context=args.pixel_context,
                              warmup_epochs=args.warmup_epochs).model
        trained = f"{args.epochs} epochs, training {t.seconds:.0f} s"
    name = (f"vae_apps, pixel context {model.pixel_context}" if model.pixel_context
            else "vae_apps, independent pixels")
    with Timer() as e:
        elbo = elbo_terms(model, x_test, seed=args.seed)["negative_elbo"]
        nll = iwae_nll(model, x_test, num_samples=args.iwae_samples, seed=args.seed,
                       progress=True)
    rows = [[name, f"{nll:.2f}", f"{elbo:.2f}"],
            *([published, value, "–"] for published, value in PUBLISHED)]
    line = (f"dynamically binarised MNIST, the first {len(x_test):,} test images (binarised once, "
            f"seed 12345); {trained}; evaluation {e.seconds:.0f} s")
    print(line)
    write_results("generation", texts={"likelihood_run": line})
    report_table("generation", "likelihood", rows,
                 ["model", f"test NLL, IWAE K={args.iwae_samples} (nats)", "test -ELBO (nats)"])
    codes, _ = model.encode(x_train)
    for name, sampler in (("prior", PriorSampler(model.latent_dim)), ("gmm", GMMSampler.fit(codes))):
        path = Path(args.out) / f"samples_{name}.png"
        save_grid(path, generate(model, sampler, 64, seed=args.seed))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
