"""The whole product on one data set: train, then denoise, label, generate, and report.

``run_demo`` is what ``vae-apps demo`` runs. It trains the shared VAE, a denoising
VAE and, for contrast, a plain autoencoder with the same network (no KL, a
deterministic code), then writes every figure, ``metrics.json`` and ``index.html``.
"""

import json
import logging
import time
from pathlib import Path

import numpy as np
from scipy.special import expit

from vae_apps.io.files import atomic_path, ensure_folder

log = logging.getLogger("vae_apps")


def _settings(n_images, epochs, batch_size):
    from vae_apps.training.small_images import SmallImageConfig

    config = SmallImageConfig()
    small = n_images < config.small_data
    return {"epochs": epochs or (40 if small else 3),
            "batch_size": batch_size or (config.small_batch_size if small else config.batch_size)}


def plain_autoencoder(model):
    """An autoencoder with the VAE's own network shapes: deterministic code, no KL.

    The demo's baseline: what the VAE's denoising and samples are compared with.

    Args:
        model: VAE. Gives the image shape, latent size and network widths.

    Returns:
        ``(autoencoder, encoder, decoder)``: the compiled autoencoder (binary
        cross-entropy) and its two halves.

    Examples:
    >>> autoencoder, encoder, decoder = plain_autoencoder(vae)
    >>> autoencoder.fit(x_train, x_train, epochs=3)  # doctest: +SKIP
    """
    import keras

    from vae_apps.models.networks import build_decoder, build_encoder

    args = dict(image_shape=model.image_shape, latent_dim=model.latent_dim,
                architecture=model.architecture, filters=model.filters,
                hidden_units=model.hidden_units)
    encoder, decoder = build_encoder(**args), build_decoder(**args)
    code = encoder.outputs[0]  # z_mean only
    autoencoder = keras.Model(encoder.inputs, decoder(code))
    autoencoder.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return autoencoder, keras.Model(encoder.inputs, code), decoder


def run_demo(data_spec="digits", out="demo", *, epochs=None, batch_size=None, seed=0,
             noise="gaussian:0.5", label_fraction=0.02, colour_images=None, progress=print):
    """Run every application on ``data_spec``; write the report into ``out``; return metrics.

    Trains a VAE, a denoiser and a plain autoencoder, labels the data from
    ``label_fraction`` of its labels through the same path as ``vae-apps label``,
    writes samples, interpolations and a latent map, and ``report.html``.

    Args:
        data_spec: str. Any ``load_data`` spec (``digits`` needs no network).
        out: str or Path. The folder for the report, figures, models and ``metrics.json``.
        epochs: int or None. Training epochs (default: 40 below 5,000 images, else 3).
        batch_size: int or None. Default: 32 below 5,000 images, else 128.
        seed: int. Seeds every random choice: same seed, same report.
        noise: str. The denoising task's noise (``vae_apps.denoising.noise.parse_noise`` spec).
        label_fraction: float. The share of labels kept for label recovery.
        colour_images: str or Path or None. A folder of colour images (faces, say) for the
            colour generation stage, trained at 64 px with ``vae-apps train``'s defaults
            (about 30 minutes for 10,000 images on 2 cores) unless ``epochs`` is given; None:
            1,200 crops of 32 x 32 pixels of the bundled colour photos, 20 epochs.
        progress: callable. Called with one line per stage.

    Examples:
    >>> metrics = run_demo("digits", "demo", seed=0)
    >>> metrics["labeling"]["accuracy_on_unlabelled"]  # doctest: +SKIP
    0.95
    """
    import keras

    from vae_apps import plots
    from vae_apps.generation import grids as generation
    from vae_apps.io.data import load_data
    from vae_apps.denoising.quality import image_quality
    from vae_apps.generation.likelihoods import elbo_terms
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.training.small_images import SmallImageConfig
    from vae_apps.models.samplers import GMMSampler, PriorSampler
    from vae_apps.training.loop import split_validation, train_vae

    start = time.perf_counter()
    out = Path(out)
    ensure_folder(out)
    data = load_data(data_spec)
    x_all = data.train.x
    x_test = data.test.x if data.test is not None else None
    if x_test is None:
        x_all, x_test = split_validation(x_all, 0.2, seed)
    settings = {"data": str(data_spec), "images_train": int(len(x_all)), "images_test": int(len(x_test)),
                "image_shape": list(x_all.shape[1:]), "seed": seed, "noise": noise,
                **_settings(len(x_all), epochs, batch_size)}
    fit = dict(epochs=settings["epochs"], batch_size=settings["batch_size"], seed=seed, verbose="auto")
    x_train, x_val = split_validation(x_all, 0.1, seed)
    metrics = {"settings": settings}
    figures = {}

    def stage(text):
        progress(f"[{time.perf_counter() - start:6.0f} s] {text}")

    stage(f"1/8 training the VAE on {len(x_train)} images ({settings['epochs']} epochs)")
    result = train_vae(x_train, x_val, out=out / "vae.keras", **fit)
    vae, history = result.model, result.history
    metrics["vae"] = {k: round(float(v), 4) for k, v in elbo_terms(vae, x_test, seed=seed).items()}
    metrics["vae"]["train_seconds"] = round(result.seconds, 1)
    plots.training_curves(out / "training_curves.png", history)
    figures["training_curves.png"] = "Training curves of the VAE: loss (−ELBO), reconstruction and KL per epoch."
    plots.rows_figure(out / "reconstructions.png",
                      {"input": list(x_test[:10]), "VAE": list(vae.reconstruct(x_test[:10]))})
    figures["reconstructions.png"] = "Test images and their VAE reconstructions (decoded posterior means)."

    stage("2/8 training the denoising VAE on (noisy, clean) pairs")
    corruption = parse_noise(noise)
    denoiser = train_vae(x_train, x_val, noise=corruption, beta=SmallImageConfig().denoiser_beta,
                         out=out / "denoiser.keras", **fit).model
    noisy = corruption.apply(x_test, seed=seed + 1)
    cleaned = denoiser.reconstruct(noisy)
    before, after = image_quality(x_test, noisy), image_quality(x_test, cleaned)
    metrics["denoising"] = {"noisy_psnr": round(before["psnr"], 2), "noisy_ssim": round(before["ssim"], 3),
                            "denoised_psnr": round(after["psnr"], 2), "denoised_ssim": round(after["ssim"], 3)}
    plots.rows_figure(out / "denoising.png", {"clean": list(x_test[:10]), "noisy": list(noisy[:10]),
                                              "denoised": list(cleaned[:10])},
                      title=f"{noise}: PSNR {before['psnr']:.2f} → {after['psnr']:.2f} dB, "
                            f"SSIM {before['ssim']:.3f} → {after['ssim']:.3f}")
    figures["denoising.png"] = "Denoising: clean / noisy / denoised rows on test images."

    stage("3/8 photos: denoising a held-out photo at full resolution with the shipped preset")
    metrics["photo_denoising"] = _photo_stage(out, figures, seed, plots)

    stage(f"4/8 recovering labels from {label_fraction:.0%} of them")
    labels_all = data.all().y
    if labels_all is not None:
        metrics["labeling"] = _label_stage(data.all(), label_fraction, seed, out, figures, plots,
                                           epochs)
    else:
        metrics["labeling"] = {"skipped": "the data has no labels to check against"}

    stage("5/8 generating samples (prior and GMM) and an interpolation")
    codes, _ = vae.encode(x_train)
    gmm = GMMSampler.load(out / "vae.gmm.npz")  # fitted on the training codes by train_vae
    for name, sampler in (("prior", PriorSampler(vae.latent_dim)), ("gmm", gmm)):
        plots.save_grid(out / f"samples_{name}.png", generation.generate(vae, sampler, 64, seed=seed))
        figures[f"samples_{name}.png"] = f"64 samples decoded from the {name} sampler (seed {seed})."
    walk = generation.interpolate(vae, x_test[0], x_test[1], steps=10)
    plots.save_grid(out / "interpolation.png", np.concatenate([x_test[:1], walk, x_test[1:2]]), columns=12)
    figures["interpolation.png"] = "A linear walk in latent space between two test images (inputs at both ends)."

    stage("6/8 training a plain autoencoder with the same network, for contrast")
    keras.utils.set_random_seed(seed)
    autoencoder, ae_encoder, ae_decoder = plain_autoencoder(vae)
    autoencoder.fit(x_train, x_train, epochs=settings["epochs"], batch_size=settings["batch_size"],
                    verbose=0, shuffle=True)
    with atomic_path(out / "autoencoder.keras") as tmp:
        autoencoder.save(tmp)
    ae_codes = ae_encoder.predict(x_train, verbose=0)
    rng = np.random.default_rng(seed)
    # The same recipe for both: points drawn at random inside each code cloud's bounding box.
    ae_points = rng.uniform(ae_codes.min(0), ae_codes.max(0), size=(64, vae.latent_dim))
    vae_points = rng.uniform(codes.min(0), codes.max(0), size=(64, vae.latent_dim))
    ae_images = expit(ae_decoder.predict(ae_points.astype("float32"), verbose=0))
    vae_images = vae.decode(vae_points)
    plots.save_grid(out / "random_codes_autoencoder.png", ae_images)
    plots.save_grid(out / "random_codes_vae.png", vae_images)
    figures["random_codes_autoencoder.png"] = ("Plain autoencoder: random points of its latent space decode "
                                               "to garbage where the codes leave gaps.")
    figures["random_codes_vae.png"] = "VAE: random points of its latent space decode to plausible images."
    metrics["autoencoder"] = {"test_reconstruction_bce": round(float(autoencoder.evaluate(
        x_test, x_test, verbose=0)) * float(np.prod(vae.image_shape)), 4)}

    stage("7/8 colour generation: " + (f"training the colour VAE on {colour_images}"
                                        if colour_images else "training the colour VAE on 32 x 32 "
                                        "crops of the bundled colour photos"))
    metrics["colour_generation"] = _colour_stage(out, figures, seed, plots, colour_images, epochs)

    stage("8/8 writing the report")
    metrics["seconds"] = round(time.perf_counter() - start, 1)
    with atomic_path(out / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=2))
    from vae_apps.report import write_report

    write_report(out / "index.html", metrics, figures)
    stage(f"done: open {out / 'index.html'}")
    return metrics


PHOTO_SIGMA = 25  # of 255: the standard benchmark level


def _photo_stage(out, figures, seed, plots, crop=160):
    """camera (never trained on), Gaussian noise sigma 25/255: NL-means vs the preset."""
    from skimage.restoration import denoise_nl_means

    from vae_apps.denoising.quality import psnr_ssim
    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.io.photos import bundled_photo
    from vae_apps.denoising.presets import load_preset

    clean = bundled_photo("camera")
    sigma = PHOTO_SIGMA / 255
    noisy = parse_noise(f"gaussian:{sigma}").apply(clean[None], seed=seed)[0]
    nl_means = denoise_nl_means(noisy[..., 0], h=0.8 * sigma, sigma=sigma, patch_size=5,
                                patch_distance=6, fast_mode=True)[..., None]
    ours = denoise_full_resolution(load_preset("photo"), noisy)
    scores = {name: psnr_ssim(clean, image) for name, image in
              (("noisy", noisy), ("nl_means", nl_means), ("vae_apps", ours))}
    # Two 1:1 crops with fine detail: the face and camera, and the grass.
    windows = [(60, 180), (352, 200)]
    labelled = {"clean": clean, f"noisy {scores['noisy'][0]:.2f} dB": noisy,
                f"NL-means {scores['nl_means'][0]:.2f} dB": nl_means,
                f"vae_apps {scores['vae_apps'][0]:.2f} dB": ours}
    rows = {name: [image[t:t + crop, l:l + crop] for t, l in windows]
            for name, image in labelled.items()}
    plots.rows_figure(out / "photo_denoising.png", rows, actual_size=True,
                      title=f"camera 512x512, sigma {PHOTO_SIGMA}/255, crops at 1:1")
    figures["photo_denoising.png"] = (
        "A held-out photo denoised at its own resolution by the shipped photo preset "
        "(no training), next to scikit-image's non-local means; crops shown at 1:1.")
    names = {"noisy": "noisy", "nl_means": "nl_means", "vae_apps": "denoised"}
    return {f"{names[key]}_{kind}": round(float(value), 2 if kind == "psnr" else 3)
            for key, (psnr, ssim) in scores.items() for kind, value in (("psnr", psnr), ("ssim", ssim))}


def _colour_stage(out, figures, seed, plots, folder=None, epochs=None, crops=1200, side=32):
    """``vae-apps train FOLDER --image-size N``'s colour VAE (HierarchicalVAE), then a sample
    grid from its GMM sampler, a walk (PNG strip and GIF), reconstructions and held-out
    bits/dim."""
    from vae_apps.generation.grids import generate, interpolate, save_gif
    from vae_apps.generation.likelihoods import multiscale_figures
    from vae_apps.generation.train import split_files, train_colour_vae
    from vae_apps.io.images import list_images
    from vae_apps.models.samplers import GMMSampler, sampler_path
    from vae_apps.training.datasets import read_image_files

    if folder is None:
        folder, epochs = _photo_crops(out / "colour_crops", crops, side, seed), epochs or 20
    else:
        side = 64
    model_path = out / "colour.keras"
    _, result = train_colour_vae(folder, model_path, image_size=side, epochs=epochs, seed=seed,
                                 overwrite=True, verbose=0)
    model = result.model
    files = list_images(folder)[0]
    held_files, train_files = split_files(files, seed=seed)  # the training's own split
    held = read_image_files(held_files[:64], side)
    scale = max(1, 128 // side)  # figures of 128-pixel tiles
    samples = generate(model, GMMSampler.load(sampler_path(model_path)), 64, seed=seed,
                       temperature=0.9)
    plots.save_grid(out / "colour_samples.png", samples, columns=8, scale=scale)
    walk = np.concatenate([held[:1], interpolate(model, held[0], held[1], steps=8), held[1:2]])
    plots.save_grid(out / "colour_walk.png", walk, columns=len(walk), scale=scale)
    save_gif(out / "colour_walk.gif", np.concatenate([walk, walk[-2:0:-1]]), scale=scale)
    plots.save_grid(out / "colour_reconstructions.png",
                    np.concatenate([held[:8], model.reconstruct(held[:8])]), columns=8,
                    scale=scale)
    figures["colour_samples.png"] = ("64 colour images drawn from the GMM sampler over every "
                                     "scale's codes (temperature 0.9).")
    figures["colour_walk.gif"] = "A walk between two held-out images (animated)."
    figures["colour_walk.png"] = "The same walk, the two images at the ends."
    figures["colour_reconstructions.png"] = "Held-out images (top) and their reconstructions."
    bits = multiscale_figures(model, held, num_samples=16, seed=seed)
    return {"colour_images": str(folder), "image_side": side,
            "colour_training_images": len(train_files),
            "colour_epochs": int(result.epochs_run),
            "colour_train_seconds": round(float(result.seconds), 1),
            "heldout_bits_per_dim": round(float(bits["iwae_bits_per_dim"]), 3)}


def _photo_crops(folder, n, side, seed):
    """``n`` random ``side`` x ``side`` crops of the bundled colour training photos, halved
    first (more of a scene in a crop), written as PNG files into ``folder``."""
    from PIL import Image

    from vae_apps.io.photos import training_photos

    photos = [p[::2, ::2] for p in training_photos() if p.shape[-1] == 3]
    ensure_folder(folder)
    rng = np.random.default_rng(seed)
    areas = np.array([p.shape[0] * p.shape[1] for p in photos], "float64")
    for i, k in enumerate(rng.choice(len(photos), n, p=areas / areas.sum())):
        photo = photos[k]
        top = rng.integers(0, photo.shape[0] - side + 1)
        left = rng.integers(0, photo.shape[1] - side + 1)
        crop = np.round(photo[top:top + side, left:left + side] * 255).astype("uint8")
        Image.fromarray(crop).save(folder / f"crop_{i:04d}.png")
    return folder


def _label_stage(images, fraction, seed, out, figures, plots, epochs=None):
    """``vae-apps label``'s own path (``recover_dataset_labels``) on a random ``fraction``."""
    from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score

    from vae_apps.labelling.label_csv import GivenLabels
    from vae_apps.labelling.pipeline import recover_dataset_labels

    y = images.y
    n_given = max(len(np.unique(y)), int(round(fraction * len(y))))
    rows = np.random.default_rng(seed).choice(len(y), n_given, replace=False)
    given = GivenLabels("index", rows, y[rows].astype(str).astype(object))
    result = recover_dataset_labels(images.x, given, epochs=epochs, seed=seed)
    recovered = result.labels
    rest = np.ones(len(y), bool)
    rest[rows] = False
    accuracy = accuracy_score(y[rest].astype(str), recovered[rest])
    import matplotlib.pyplot as plt

    display = ConfusionMatrixDisplay.from_predictions(y[rest].astype(str), recovered[rest], colorbar=False)
    display.ax_.set_title(f"recovered labels: accuracy {accuracy:.3f}")
    with atomic_path(out / "confusion_matrix.png") as tmp:
        display.figure_.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(display.figure_)
    plots.label_map_figure(out / "latent_map.png", result.features, recovered, rows, seed=seed)
    figures["confusion_matrix.png"] = "Confusion matrix of the recovered labels (unlabelled images only)."
    figures["latent_map.png"] = ("The images mapped by their class probabilities (PCA of log q(y|x)), "
                                 "coloured by recovered label; given labels circled.")
    return {"given_labels": int(n_given), "method": result.method,
            "accuracy_on_unlabelled": round(float(accuracy), 4)}
