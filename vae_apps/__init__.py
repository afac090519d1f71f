"""vae_apps: one Variational Autoencoder, three jobs (denoise, label, generate)."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
__all__ = ["VAE", "KLWarmup", "Sampling", "__version__"]


def __getattr__(name):
    # The model (and with it Keras and TensorFlow, seconds to import) loads on first
    # use, so modules that only read or write files start at once, e.g. I/O workers.
    if name in ("VAE", "KLWarmup", "Sampling"):
        from vae_apps import model

        return getattr(model, name)
    raise AttributeError(f"module 'vae_apps' has no attribute {name!r}")
