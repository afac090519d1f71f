"""vae_apps: one Variational Autoencoder, three jobs (denoise, label, generate)."""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
__all__ = ["VAE", "KLWarmup", "Sampling", "__version__"]

# Importing the model registers its classes with Keras, so `keras.saving.load_model`
# works after `import vae_apps`. The vae-apps command defers it (Keras and TensorFlow
# take seconds to import): it imports the model when a command needs it, and folder
# denoising starts its file workers first.
if "apps.cli" not in sys.modules:
    from vae_apps.model import KLWarmup, Sampling, VAE  # noqa: E402,F401


def __getattr__(name):
    if name in ("VAE", "KLWarmup", "Sampling"):
        from vae_apps import model

        return getattr(model, name)
    raise AttributeError(f"module 'vae_apps' has no attribute {name!r}")
