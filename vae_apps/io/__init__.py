"""Data and files: data specs, image files, safe atomic writes, latent codes, bundled photos."""
