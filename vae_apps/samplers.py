"""Latent samplers, separate from the model: the prior, and a Gaussian mixture fitted
on the training set's codes after training (often sharper samples than the prior).

A fitted sampler saves to a small ``.npz`` of plain arrays (never pickled), by
default beside its model: ``vae.keras`` -> ``vae.gmm.npz``.
"""

from pathlib import Path

import numpy as np

from vae_apps.errors import UserError
from vae_apps.files import atomic_path


class PriorSampler:
    """z ~ N(0, temperature^2 I), the VAE's prior."""

    name = "prior"

    def __init__(self, latent_dim):
        self.latent_dim = int(latent_dim)

    def sample(self, n, seed=None, temperature=1.0):
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32") * temperature


class GMMSampler:
    """A Gaussian mixture over latent codes; ``temperature`` scales each component's spread."""

    name = "gmm"

    def __init__(self, weights, means, covariances):
        self.weights = np.asarray(weights, "float64")
        self.means = np.asarray(means, "float64")
        self.covariances = np.asarray(covariances, "float64")
        self.latent_dim = self.means.shape[1]

    @classmethod
    def fit(cls, codes, n_components=10, seed=0):
        from sklearn.mixture import GaussianMixture

        n_components = min(n_components, len(codes))
        gmm = GaussianMixture(n_components=n_components, covariance_type="full", reg_covar=1e-4,
                              random_state=seed).fit(codes)
        return cls(gmm.weights_, gmm.means_, gmm.covariances_)

    def sample(self, n, seed=None, temperature=1.0):
        rng = np.random.default_rng(seed)
        component = rng.choice(len(self.weights), size=n, p=self.weights / self.weights.sum())
        chol = np.linalg.cholesky(self.covariances)
        eps = rng.standard_normal((n, self.latent_dim))
        z = self.means[component] + temperature * np.einsum("nij,nj->ni", chol[component], eps)
        return z.astype("float32")

    def save(self, path, overwrite=True):
        with atomic_path(path, overwrite) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, weights=self.weights, means=self.means, covariances=self.covariances)

    @classmethod
    def load(cls, path):
        try:
            with np.load(path, allow_pickle=False) as f:
                return cls(f["weights"], f["means"], f["covariances"])
        except (OSError, ValueError, KeyError) as exc:
            raise UserError(f"{path}: not a saved GMM sampler ({exc})") from None


def sampler_path(model_path):
    """Where a model's fitted GMM sampler lives: ``vae.keras`` -> ``vae.gmm.npz``."""
    path = Path(model_path)
    return path.with_name(path.stem + ".gmm.npz")
