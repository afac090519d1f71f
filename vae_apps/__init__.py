"""vae_apps: one Variational Autoencoder, three jobs (denoise, label, generate)."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.2.0"
__all__ = ["VAE", "FullyConvVAE", "HierarchicalVAE", "SemiSupervisedVAE", "KLWarmup", "Sampling",
           "__version__"]

# Importing the models registers their classes with Keras, so `keras.saving.load_model`
# works after `import vae_apps`. The vae-apps command sets VAE_APPS_DEFER_KERAS=1 before
# importing vae_apps (Keras and TensorFlow take seconds to import): it imports a model
# when a command needs it, and folder denoising starts its file workers first.
if os.environ.get("VAE_APPS_DEFER_KERAS") != "1":
    from vae_apps.models.fully_conv import FullyConvVAE  # noqa: E402,F401
    from vae_apps.models.hierarchical import HierarchicalVAE  # noqa: E402,F401
    from vae_apps.models.base import KLWarmup, Sampling  # noqa: E402,F401
    from vae_apps.models.vae import VAE  # noqa: E402,F401
    from vae_apps.models.semi_supervised import SemiSupervisedVAE  # noqa: E402,F401


def __getattr__(name):
    if name in ("KLWarmup", "Sampling"):
        from vae_apps.models import base

        return getattr(base, name)
    if name == "VAE":
        from vae_apps.models.vae import VAE

        return VAE
    if name == "FullyConvVAE":
        from vae_apps.models.fully_conv import FullyConvVAE

        return FullyConvVAE
    if name == "HierarchicalVAE":
        from vae_apps.models.hierarchical import HierarchicalVAE

        return HierarchicalVAE
    if name == "SemiSupervisedVAE":
        from vae_apps.models.semi_supervised import SemiSupervisedVAE

        return SemiSupervisedVAE
    raise AttributeError(f"module 'vae_apps' has no attribute {name!r}")
