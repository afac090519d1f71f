"""The demo's report: one self-contained HTML page, figures beside it, numbers from metrics."""

import html

from vae_apps.io.files import atomic_path

_STYLE = """body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:0}.sub{color:#666}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}figure{margin:1.2em 0}
img{max-width:100%;image-rendering:pixelated;border:1px solid #eee}figcaption{color:#555}"""

# (title, metrics key, one sentence saying what the section shows, figures). The photo
# section comes first: it is the job most users come for.
SECTIONS = (
    ("Photo denoising at full resolution", "photo_denoising",
     "A photo never used in training, with Gaussian noise of 25 grey levels, denoised at its own "
     "resolution by the shipped photo preset (no training), next to scikit-image's non-local means.",
     ("photo_denoising.png",)),
    ("Training the VAE", "vae",
     "The VAE trained on the data set: its held-out likelihood terms and its reconstructions.",
     ("training_curves.png", "reconstructions.png")),
    ("Denoising small images", "denoising",
     "A denoising VAE trained here on (noisy, clean) pairs of the data set, scored on test images.",
     ("denoising.png",)),
    ("Label recovery", "labeling",
     "Labels recovered for every image from a few given ones, by vae-apps label's default method.",
     ("confusion_matrix.png", "latent_map.png")),
    ("Generation", None,
     "New images decoded from random latent codes, and a walk between two test images.",
     ("samples_prior.png", "samples_gmm.png", "interpolation.png")),
    ("Colour generation", "colour_generation",
     "A colour VAE with latents at three scales (vae-apps train FOLDER --image-size N): new "
     "images from its sampler, a walk between two held-out images, reconstructions, and its "
     "held-out likelihood.",
     ("colour_samples.png", "colour_walk.gif", "colour_walk.png", "colour_reconstructions.png")),
    ("Why a VAE: random latent points, autoencoder vs VAE", "autoencoder",
     "Random points of a plain autoencoder's latent space decode to garbage; a VAE's to images.",
     ("random_codes_autoencoder.png", "random_codes_vae.png")),
)

# metrics.json key -> what a reader sees (units in the label).
LABELS = {
    "data": "data set", "images_train": "training images", "images_test": "test images",
    "image_shape": "image size (height × width × channels)", "seed": "random seed",
    "noise": "noise of the denoising task", "epochs": "epochs", "batch_size": "batch size",
    "negative_elbo": "test −ELBO (nats per image)", "reconstruction": "reconstruction term (nats)",
    "kl": "KL term (nats)", "train_seconds": "training time (s)",
    "noisy_psnr": "PSNR of the noisy input (dB)", "noisy_ssim": "SSIM of the noisy input",
    "denoised_psnr": "PSNR after denoising (dB)", "denoised_ssim": "SSIM after denoising",
    "nl_means_psnr": "PSNR of non-local means (dB)", "nl_means_ssim": "SSIM of non-local means",
    "given_labels": "labels given", "method": "method",
    "accuracy_on_unlabelled": "accuracy on the unlabelled images",
    "skipped": "skipped because",
    "test_reconstruction_bce": "plain autoencoder: test reconstruction loss (nats per image)",
    "colour_images": "colour images", "image_side": "working size (pixels a side)",
    "colour_training_images": "training images", "colour_epochs": "epochs",
    "colour_train_seconds": "training time (s)",
    "heldout_bits_per_dim": "held-out bits per dimension (IWAE bound, 16 draws)",
}


def format_value(key, value):
    """How the report shows a metric: accuracy as a percentage, shapes as 8 × 8 × 1.

    Examples:
    >>> format_value("accuracy_on_unlabelled", 0.975)
    '97.5 %'
    """
    if key == "accuracy_on_unlabelled":
        return f"{100 * value:.1f} %"
    if isinstance(value, (list, tuple)):
        return " × ".join(str(v) for v in value)
    return str(value)


def _table(values):
    rows = "".join(f"<tr><th>{html.escape(LABELS.get(k, k.replace('_', ' ')))}</th>"
                   f"<td>{html.escape(format_value(k, v))}</td></tr>" for k, v in values.items())
    return f"<table>{rows}</table>"


def write_report(path, metrics, figures):
    """Write ``index.html``: the demo's settings, metrics and figures in one page.

    Args:
        path: str or Path. The HTML file.
        metrics: dict. ``run_demo``'s metrics (``settings``, ``vae``, ``denoising`` ...).
        figures: dict. Image file names (beside ``path``) -> captions.

    Examples:
    >>> write_report("demo/report.html", metrics, {"samples.png": "Samples from the prior."})
    """
    s = metrics["settings"]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>vae_apps demo: "
             f"{html.escape(s['data'])}</title><style>{_STYLE}</style></head><body>",
             f"<h1>vae_apps demo</h1><p class='sub'>One VAE, three jobs, on <b>{html.escape(s['data'])}</b> "
             f"— finished in {metrics['seconds']} s.</p>",
             "<h2>Settings</h2>", _table(s)]
    for title, key, sentence, names in SECTIONS:
        parts.append(f"<h2>{html.escape(title)}</h2><p>{html.escape(sentence)}</p>")
        if key and key in metrics:
            parts.append(_table(metrics[key]))
        for name in names:
            if name in figures:
                parts.append(f"<figure><img src='{html.escape(name)}' alt='{html.escape(name)}'>"
                             f"<figcaption>{html.escape(figures[name])}</figcaption></figure>")
    parts.append("<p class='sub'>All numbers here are those of metrics.json beside this page.</p>"
                 "</body></html>")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(parts), encoding="utf-8")
