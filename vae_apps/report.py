"""The demo's report: one self-contained HTML page, figures beside it, numbers from metrics."""

import html
import json

from vae_apps.io.files import atomic_path

_STYLE = """body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:0}.sub{color:#666}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}figure{margin:1.2em 0}
img{max-width:100%;image-rendering:pixelated;border:1px solid #eee}figcaption{color:#555}"""

SECTIONS = (
    ("Training", "vae", ("training_curves.png", "reconstructions.png")),
    ("Denoising", "denoising", ("denoising.png",)),
    ("Photo denoising at full resolution (shipped preset)", "photo_denoising", ("photo_denoising.png",)),
    ("Label recovery", "labeling", ("confusion_matrix.png", "latent_map.png")),
    ("Generation", None, ("samples_prior.png", "samples_gmm.png", "interpolation.png")),
    ("Why a VAE: random latent points, autoencoder vs VAE", "autoencoder",
     ("random_codes_autoencoder.png", "random_codes_vae.png")),
)


def _table(values):
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v), quote=False)}</td></tr>"
                   for k, v in values.items())
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
    for title, key, names in SECTIONS:
        parts.append(f"<h2>{html.escape(title)}</h2>")
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
