"""The VAE family: one base class with the ELBO machinery, and its members.

``base`` holds ``BaseVAE`` (sampling, likelihoods, KL over any latent shape, K samples, beta,
warm-up, ``train_step``/``test_step``); ``vae`` the small-image VAE; ``fully_conv`` the fully
convolutional VAE for photos at any size; ``semi_supervised`` the M2 VAE for few labels;
``hierarchical`` the colour VAE with latents at several scales; ``networks`` the encoders and decoders built from plain arguments; ``samplers`` latent samplers.
"""

# Importing any member imports them all, so every class is registered with Keras before a
# ``.keras`` file naming it is loaded (a missing import fails as "Could not locate class").
from vae_apps.models.base import BaseVAE, KLWarmup, Sampling  # noqa: E402,F401
from vae_apps.models.fully_conv import FullyConvVAE  # noqa: E402,F401
from vae_apps.models.hierarchical import HierarchicalVAE  # noqa: E402,F401
from vae_apps.models.semi_supervised import SemiSupervisedVAE  # noqa: E402,F401
from vae_apps.models.vae import VAE  # noqa: E402,F401
