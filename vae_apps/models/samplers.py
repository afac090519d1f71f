"""Latent samplers, separate from the model: the prior, and a Gaussian mixture fitted
on the training set's codes after training (often sharper samples than the prior).

A fitted sampler saves to a small ``.npz`` of plain arrays (never pickled), by
default beside its model: ``vae.keras`` -> ``vae.gmm.npz``.
"""

from pathlib import Path

import numpy as np

from vae_apps.errors import UserError
from vae_apps.io.files import atomic_path


class PriorSampler:
    """z ~ N(0, temperature^2 I), the VAE's prior.

    Args:
        latent_dim: int. Size of z.

    Examples:
    >>> z = PriorSampler(32).sample(64, seed=0, temperature=0.8)
    >>> images = model.decode(z)
    """

    name = "prior"

    def __init__(self, latent_dim):
        self.latent_dim = int(latent_dim)

    def sample(self, n, seed=None, temperature=1.0):
        """``n`` codes (n, latent_dim) float32; same seed, same codes."""
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32") * temperature


class GMMSampler:
    """A Gaussian mixture over latent codes; ``temperature`` scales each component's spread.
    With ``basis``, the mixture lives in a linear subspace (the codes' first principal
    components): for codes too long for a full covariance, such as every scale of a
    ``HierarchicalVAE`` (3,328 numbers at 64 px).

    Args:
        weights: np.ndarray. (k,) mixture weights.
        means: np.ndarray. (k, d) component means.
        covariances: np.ndarray. (k, d, d) full covariances.
        basis: np.ndarray or None. (d, D): a code is ``offset + sample @ basis``.
        offset: np.ndarray or None. (D,) the codes' mean.

    Examples:
    >>> sampler = GMMSampler.fit(model.encode(x_train)[0], n_components=10)
    >>> sampler.save(sampler_path("vae.keras"))
    >>> z = GMMSampler.load("vae.gmm.npz").sample(64, seed=0)
    """

    name = "gmm"

    def __init__(self, weights, means, covariances, basis=None, offset=None):
        # Kept at float32 precision (computed in float64): the file of a mixture on 1,024
        # components of a colour VAE's codes is 55 MB so, 110 in float64; fitted and loaded
        # samplers draw the same codes.
        as_kept = lambda a: np.asarray(np.asarray(a, "float32"), "float64")  # noqa: E731
        self.weights = as_kept(weights)
        self.means = as_kept(means)
        self.covariances = as_kept(covariances)
        self.basis = None if basis is None else as_kept(basis)
        self.offset = None if offset is None else as_kept(offset)
        self.latent_dim = self.means.shape[1] if self.basis is None else self.basis.shape[1]

    @classmethod
    def fit(cls, codes, n_components=10, seed=0, dims=None):
        """Fit scikit-learn's ``GaussianMixture`` (full covariances) on ``codes`` (n, d),
        or with ``dims`` on their first ``dims`` principal components."""
        from sklearn.mixture import GaussianMixture

        codes = np.asarray(codes, "float64")
        basis = offset = None
        if dims is not None:  # a folder of few images: at most as many components as images
            dims = min(int(dims), len(codes) - 1)
        if dims is not None and 0 < dims < codes.shape[1]:
            from sklearn.decomposition import PCA

            pca = PCA(dims, random_state=seed).fit(codes)
            basis, offset = pca.components_, pca.mean_
            codes = pca.transform(codes)
        n_components = min(n_components, len(codes))
        gmm = GaussianMixture(n_components=n_components, covariance_type="full", reg_covar=1e-4,
                              random_state=seed).fit(codes)
        return cls(gmm.weights_, gmm.means_, gmm.covariances_, basis, offset)

    def sample(self, n, seed=None, temperature=1.0):
        """``n`` codes (n, D) float32; same seed, same codes."""
        rng = np.random.default_rng(seed)
        component = rng.choice(len(self.weights), size=n, p=self.weights / self.weights.sum())
        chol = np.linalg.cholesky(self.covariances)
        eps = rng.standard_normal((n, self.means.shape[1]))
        z = self.means[component] + temperature * np.einsum("nij,nj->ni", chol[component], eps)
        if self.basis is not None:
            z = self.offset + z @ self.basis
        return z.astype("float32")

    def save(self, path, overwrite=True):
        """Write the arrays to a ``.npz`` atomically (nothing pickled)."""
        extra = {} if self.basis is None else dict(basis=self.basis, offset=self.offset)
        with atomic_path(path, overwrite) as tmp, open(tmp, "wb") as fh:
            arrays = dict(weights=self.weights, means=self.means, covariances=self.covariances,
                          **extra)
            np.savez(fh, **{name: a.astype("float32") for name, a in arrays.items()})

    @classmethod
    def load(cls, path):
        """Read a saved sampler (``allow_pickle=False``); UserError if it is not one."""
        try:
            with np.load(path, allow_pickle=False) as f:
                extra = ({} if "basis" not in f.files
                         else dict(basis=f["basis"], offset=f["offset"]))
                return cls(f["weights"], f["means"], f["covariances"], **extra)
        except (OSError, ValueError, KeyError) as exc:
            raise UserError(f"{path}: not a saved GMM sampler ({exc})") from None


def sampler_path(model_path):
    """Where a model's fitted GMM sampler lives: ``vae.keras`` -> ``vae.gmm.npz``.

    Args:
        model_path: str or Path. The model's file.

    Examples:
    >>> sampler_path("runs/vae.keras")
    PosixPath('runs/vae.gmm.npz')
    """
    path = Path(model_path)
    return path.with_name(path.stem + ".gmm.npz")
