"""vae_apps: one Variational Autoencoder, three jobs (denoise, label, generate)."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from vae_apps.model import VAE, KLWarmup, Sampling  # noqa: E402

__version__ = "0.1.0"
__all__ = ["VAE", "KLWarmup", "Sampling", "__version__"]
