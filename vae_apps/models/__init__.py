"""The VAE family: one base class with the ELBO machinery, and its members.

``base`` holds ``BaseVAE`` (sampling, likelihoods, KL over any latent shape, K samples, beta,
warm-up, ``train_step``/``test_step``); ``vae`` the small-image VAE; ``fully_conv`` the fully
convolutional VAE for photos at any size; ``semi_supervised`` the M2 VAE for few labels;
``networks`` the encoders and decoders built from plain arguments; ``samplers`` latent samplers.
"""
