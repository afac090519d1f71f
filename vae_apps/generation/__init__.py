"""Generation: sample grids, interpolations, latent maps, and likelihoods (ELBO, IWAE)."""
