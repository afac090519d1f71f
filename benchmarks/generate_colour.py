"""Colour generation: vae_apps' VAE with latents at several scales against keras.io's VAE recipe
and pythae's VAE, on a folder of colour images (one run; a benchmark, not a test).

    python benchmarks/generate_colour.py --train FACES/train --heldout FACES/heldout \\
        --tags tags.csv --work WORK --name anime --figures
    python benchmarks/generate_colour.py --train CIFAR/train --heldout CIFAR/test --work WORK \\
        --name cifar10 --image-size 32

Every model gets the same training images and the same wall time (``--minutes``). Columns:
held-out bits/dim (IWAE bound, K draws; for the models whose decoder gives a mean image only,
a discretised Gaussian around it with the one sigma that is best on the training images'
reconstructions), reconstruction PSNR of held-out images, the sharpness ratio (mean squared
Laplacian of 200 samples over that of 200 held-out images), a memorisation check (the median
distance of 200 samples to their nearest training image against the median distance of 200
held-out images to theirs) and training minutes. With ``--tags`` (``id,hair colour ...``, the
anime set's layout) it also measures hair-colour edits: a direction per colour from 50
labelled training faces with it and 50 without, applied to held-out faces without it, judged by
a classifier the benchmark trains on the tags. The vae_apps row reuses ``--vae-apps-model``
(and the minutes its training took) when given, else trains with ``vae-apps train``'s
defaults for ``--minutes``.
"""

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import table, write_results  # noqa: E402

HAIR = ("aqua", "black", "blonde", "blue", "brown", "gray", "green", "orange", "pink", "purple",
        "red", "white")


def load_folder(folder, size, limit=None, seed=0):
    from vae_apps.io.images import list_images
    from vae_apps.training.datasets import read_image_files

    files, _ = list_images(folder)
    if limit and len(files) > limit:
        files = [files[i] for i in sorted(np.random.default_rng(seed).choice(len(files), limit,
                                                                           replace=False))]
    return files, read_image_files(files, size)


def sharpness(images):
    from scipy.ndimage import laplace

    return float(np.mean([np.mean(np.square(laplace(img[..., c]))) for img in images
                          for c in range(img.shape[-1])]))


def nearest_distances(queries, reference, chunk=512):
    """Each query's Euclidean distance (pixels) to its nearest reference image."""
    q = queries.reshape(len(queries), -1).astype("float32")
    ref = reference.reshape(len(reference), -1).astype("float32")
    best = np.full(len(q), np.inf, "float32")
    q2 = np.sum(q * q, axis=1)
    for start in range(0, len(ref), chunk):
        r = ref[start:start + chunk]
        d = q2[:, None] - 2 * q @ r.T + np.sum(r * r, axis=1)[None]
        best = np.minimum(best, d.min(axis=1))
    return np.sqrt(np.maximum(best, 0))


def psnr(a, b):
    mse = np.mean(np.square(a.astype("float64") - b.astype("float64")), axis=(1, 2, 3))
    return float(np.mean(10 * np.log10(1.0 / np.maximum(mse, 1e-12))))


def gaussian_bin_log_prob(x, mean, sigma):
    """log P(x's 1/255 bin) under N(mean, sigma^2), the end bins open (per image, summed),
    computed from the tail the bin lies in (log(Phi(u) - Phi(l)) cancels for bins far above
    the mean)."""
    from scipy.special import log_ndtr

    upper = np.where(x > 254.5 / 255, np.inf, (x + 0.5 / 255 - mean) / sigma)
    lower = np.where(x < 0.5 / 255, -np.inf, (x - 0.5 / 255 - mean) / sigma)
    high = lower > 0  # both ends above the mean: P = Phi(-lower) - Phi(-upper)
    big = np.where(high, log_ndtr(-lower), log_ndtr(upper))
    small = np.where(high, log_ndtr(-upper), log_ndtr(lower))
    log_p = big + np.log(-np.expm1(np.minimum(small - big, -1e-12)))
    return log_p.reshape(len(x), -1).sum(axis=1)


def mean_decoder_bits_per_dim(encode, decode, x, x_fit, k=16, seed=0):
    """IWAE bits/dim of a model whose decoder gives a mean image: a discretised Gaussian
    around it, sigma chosen on ``x_fit``'s reconstructions (the best single sigma)."""
    mu, _ = encode(x_fit)
    recon = decode(mu)
    sigmas = np.exp(np.linspace(np.log(0.005), np.log(0.3), 30))
    sigma = max(sigmas, key=lambda s: gaussian_bin_log_prob(x_fit, recon, s).mean())
    rng = np.random.default_rng(seed)
    mu, log_var = encode(x)
    log_w = []
    for _ in range(k):
        z = mu + np.exp(0.5 * log_var) * rng.standard_normal(mu.shape)
        log_prior = -0.5 * np.sum(z ** 2 + math.log(2 * math.pi), axis=1)
        log_q = -0.5 * np.sum((z - mu) ** 2 / np.exp(log_var) + log_var + math.log(2 * math.pi),
                              axis=1)
        log_w.append(gaussian_bin_log_prob(x, decode(z.astype("float32")), sigma) + log_prior - log_q)
    log_w = np.stack(log_w)
    log_px = np.logaddexp.reduce(log_w, axis=0) - math.log(k)
    return float(-log_px.mean() / (np.prod(x.shape[1:]) * math.log(2))), float(sigma)


def train_keras_io(x_train, minutes, seed, latent_dim):
    """keras.io's VAE recipe (two stride-2 convolutions 32, 64, Dense 16, Bernoulli pixels,
    Adam 1e-3, batch 128) on these images, for ``minutes``."""
    import keras

    from vae_apps.models.vae import VAE

    keras.utils.set_random_seed(seed)
    model = VAE(image_shape=x_train.shape[1:], latent_dim=latent_dim, filters=(32, 64),
                hidden_units=(16,), decoder_hidden_units=(), likelihood="bernoulli", seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    start, epochs = time.perf_counter(), 0
    while time.perf_counter() - start < minutes * 60:
        model.fit(x_train, epochs=1, batch_size=128, shuffle=True, verbose=0)
        epochs += 1
    return model, (time.perf_counter() - start) / 60, epochs


def hair_of(tags_csv):
    rows = {}
    for line in Path(tags_csv).read_text().splitlines():
        ident, _, tags = line.partition(",")
        words = tags.split()
        if ident.strip().isdigit() and len(words) >= 2 and words[1] == "hair":
            rows[int(ident)] = words[0]
    return rows


def hair_classifier(x, labels, seed=0):
    """Logistic regression on 16 x 16 colour thumbnails, trained on the tags."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def features(images):
        n, h, w, c = images.shape
        return images.reshape(n, 16, h // 16, 16, w // 16, c).mean(axis=(2, 4)).reshape(n, -1)

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300, C=0.05,
                                                             random_state=seed))
    clf.fit(features(x), labels)
    return lambda images: clf.predict(features(images))


def hair_edits(model, x_train, train_hair, x_held, held_hair, classify, targets, amounts,
               per_colour=50, n_edit=200, seed=0):
    from vae_apps.generation.attributes import attribute_direction, edit_strips

    rng = np.random.default_rng(seed)
    rows, train_hair, held_hair = [], np.asarray(train_hair), np.asarray(held_hair)
    for target in targets:
        with_ = rng.choice(np.flatnonzero(train_hair == target), per_colour, replace=False)
        without = rng.choice(np.flatnonzero(train_hair != target), per_colour, replace=False)
        direction = attribute_direction(model, x_train[with_], x_train[without])
        pick = np.flatnonzero(held_hair != target)[:n_edit]
        before = float(np.mean(classify(x_held[pick]) == target))
        for amount in amounts:
            edited = edit_strips(model, x_held[pick], direction, amount, steps=2)[:, 2]
            after = float(np.mean(classify(edited) == target))
            # nearer its source than any other held-out face (pixel distance)
            flat_src = x_held[pick].reshape(len(pick), -1)
            d = np.linalg.norm(edited.reshape(len(pick), 1, -1) - flat_src[None], axis=2)
            nearest_is_source = float(np.mean(d.argmin(axis=1) == np.arange(len(pick))))
            rows.append((target, amount, before, after, nearest_is_source))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--heldout", required=True)
    parser.add_argument("--name", default="anime")
    parser.add_argument("--tags", help="id,tags CSV (the anime set's extra_data/tags.csv)")
    parser.add_argument("--work", required=True)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rows", default="vae_apps,keras.io,pythae")
    parser.add_argument("--vae-apps-model", help="a model trained by vae-apps train (reused)")
    parser.add_argument("--vae-apps-minutes", type=float, help="the minutes its training took")
    parser.add_argument("--pythae-python", help="a Python with pythae and torch installed")
    parser.add_argument("--iwae-samples", type=int, default=32)
    parser.add_argument("--heldout-images", type=int, default=500)
    parser.add_argument("--figures", action="store_true", help="write docs/generation_*.png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    size = args.image_size
    train_files, x_train = load_folder(args.train, size)
    held_files, x_held = load_folder(args.heldout, size, limit=args.heldout_images, seed=1)
    real = x_held[:200]
    held_nearest = np.median(nearest_distances(real, x_train))
    print(f"{args.name}: {len(x_train)} training and {len(x_held)} held-out images at {size} px; "
          f"held-out images' median distance to their nearest training image {held_nearest:.2f}")
    rows, results = [], {}
    wanted = args.rows.split(",")

    def report(name, bpd, recon_psnr, samples, minutes, extra=""):
        ratio = sharpness(samples[:200]) / sharpness(real)
        sample_nearest = np.median(nearest_distances(samples[:200], x_train))
        rows.append([name, f"{bpd:.3f}", f"{recon_psnr:.2f}", f"{ratio:.2f}",
                     f"{sample_nearest:.2f} / {held_nearest:.2f}", f"{minutes:.1f}"])
        results[name] = dict(bits_per_dim=bpd, psnr=recon_psnr, sharpness=ratio,
                             sample_nearest=float(sample_nearest),
                             heldout_nearest=float(held_nearest), minutes=minutes, note=extra)
        print(rows[-1], extra, flush=True)

    if "vae_apps" in wanted:
        from vae_apps.generation.grids import generate
        from vae_apps.generation.likelihoods import multiscale_figures
        from vae_apps.loading import load_vae
        from vae_apps.models.samplers import GMMSampler, sampler_path

        if args.vae_apps_model:
            path, minutes = Path(args.vae_apps_model), args.vae_apps_minutes
        else:
            path = work / "vae_apps.keras"
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "vae_apps_cli.cli", "train", args.train,
                            "--image-size", str(size), "--out", str(path), "--overwrite"],
                           check=True)
            minutes = (time.perf_counter() - start) / 60
        model = load_vae(path)
        figures = multiscale_figures(model, x_held, args.iwae_samples, seed=args.seed)
        samples = generate(model, GMMSampler.load(sampler_path(path)), 200, seed=args.seed)
        report("vae_apps (defaults)", figures["iwae_bits_per_dim"],
               psnr(x_held, model.reconstruct(x_held)), samples, minutes,
               f"ELBO {figures['elbo_bits_per_dim']:.3f} bits/dim")
        if args.tags:
            hair = hair_of(args.tags)
            train_hair = [hair.get(int(Path(f).stem), "?") for f in train_files]
            held_hair = [hair.get(int(Path(f).stem), "?") for f in held_files]
            classify = hair_classifier(x_train, train_hair, args.seed)
            accuracy = float(np.mean(classify(x_held) == np.asarray(held_hair)))
            edit_rows = hair_edits(model, x_train, train_hair, x_held, held_hair, classify,
                                   targets=("blue", "blonde", "red", "green", "white"),
                                   amounts=(1.0, 1.5, 2.0), seed=args.seed)
            results["hair_edits"] = dict(classifier_accuracy=accuracy, rows=edit_rows)
            edit_table = [[t, f"{a:g}", f"{b * 100:.0f} %", f"{c * 100:.0f} %", f"{d * 100:.0f} %"]
                          for t, a, b, c, d in edit_rows]
            print(f"hair classifier: {accuracy * 100:.1f} % on the held-out faces")
            print(table(edit_table, ["target", "amount", "named before", "named after",
                                     "nearest its source"]))
            if args.figures:  # four held-out faces without blue hair, from less to more blue
                from vae_apps.generation.attributes import attribute_direction, edit_strips
                from vae_apps.plots import save_grid

                rng = np.random.default_rng(args.seed)
                colours = np.asarray(train_hair)
                direction = attribute_direction(
                    model, x_train[rng.choice(np.flatnonzero(colours == "blue"), 50, replace=False)],
                    x_train[rng.choice(np.flatnonzero(colours != "blue"), 50, replace=False)])
                pick = np.flatnonzero(np.asarray(held_hair) != "blue")[:4]
                strips = edit_strips(model, x_held[pick], direction, amount=2.0, steps=5)
                save_grid(Path(__file__).resolve().parents[1] / "docs" / "generation_faces_edit.png",
                          strips.reshape(-1, *x_held.shape[1:]), columns=6, scale=2)
            write_results(f"generate_colour_{args.name}", tables={"hair_edits": (
                ["target hair", "amount", "classifier names it, before", "after the edit",
                 "edited image nearest its source"], edit_table)},
                texts={"hair_classifier": f"{accuracy * 100:.1f} %"})
        if args.figures:
            write_figures(model, path, x_held, args.seed)

    if "keras.io" in wanted:
        model, minutes, epochs = train_keras_io(x_train, args.minutes, args.seed, latent_dim=2)
        encode = lambda x: model.encode(x)  # noqa: E731
        decode = lambda z: model.decode(z)  # noqa: E731
        bpd, sigma = mean_decoder_bits_per_dim(encode, decode, x_held, x_train[:500],
                                               args.iwae_samples, args.seed)
        samples = model.sample(200, seed=args.seed)
        report("keras.io VAE recipe", bpd, psnr(x_held, model.reconstruct(x_held)), samples,
               minutes, f"{epochs} epochs; sigma {sigma:.3f}")

    if "pythae" in wanted and args.pythae_python:
        out = work / "pythae.npz"
        np.savez(work / "pythae_data.npz", train=x_train, held=x_held)
        subprocess.run([args.pythae_python, str(Path(__file__).with_name("pythae_vae.py")),
                        str(work / "pythae_data.npz"), str(out), str(args.minutes),
                        str(args.seed), str(args.iwae_samples)], check=True)
        got = np.load(out)
        report("pythae VAE + GMM sampler", float(got["bits_per_dim"]),
               psnr(x_held, got["reconstructions"]), got["samples"], float(got["minutes"]),
               f"sigma {float(got['sigma']):.3f}")

    header = ["model", "held-out bits/dim", "reconstruction PSNR dB", "sharpness ratio",
              "median nearest training image: samples / held-out", "training min"]
    rows, commands = with_earlier_rows(f"generate_colour_{args.name}", rows)
    print(table(rows, header))
    write_results(f"generate_colour_{args.name}", tables={"models": (header, rows)},
                  commands={"models": commands} if commands else None)
    (work / f"generate_colour_{args.name}.json").write_text(json.dumps(results, indent=2))


def with_earlier_rows(stem, rows):
    """This run's rows, then the earlier run's rows of the models not run now (``--rows``
    runs some of them), and both runs' command lines when there are earlier rows."""
    from common import RESULTS, command_line

    path = RESULTS / f"{stem}.json"
    earlier = json.loads(path.read_text())["tables"].get("models") if path.exists() else None
    if not earlier:
        return rows, None
    names = {r[0] for r in rows}
    kept = [r for r in earlier["rows"] if r[0] not in names]
    if not kept:
        return rows, None
    order = [r[0] for r in earlier["rows"]] + [n for n in (r[0] for r in rows)
                                               if n not in {r[0] for r in earlier["rows"]}]
    merged = sorted(rows + kept, key=lambda r: order.index(r[0]))
    return merged, f"{earlier['command']}; then {command_line()}"


def write_figures(model, path, x_held, seed):
    from vae_apps.generation.grids import generate, interpolate, save_gif
    from vae_apps.models.samplers import GMMSampler, sampler_path
    from vae_apps.plots import save_grid

    docs = Path(__file__).resolve().parents[1] / "docs"
    samples = generate(model, GMMSampler.load(sampler_path(path)), 64, seed=seed, temperature=0.9)
    save_grid(docs / "generation_faces.png", samples, columns=8, scale=2)
    walk = interpolate(model, x_held[0], x_held[1], steps=8)
    strip = np.concatenate([x_held[:1], walk, x_held[1:2]])
    save_grid(docs / "generation_faces_walk.png", strip, columns=len(strip), scale=2)
    save_gif(docs / "generation_faces_walk.gif", np.concatenate([strip, strip[-2:0:-1]]), scale=2)
    recon = np.concatenate([x_held[2:10], model.reconstruct(x_held[2:10])])
    save_grid(docs / "generation_faces_reconstructions.png", recon, columns=8, scale=2)


if __name__ == "__main__":
    main()
