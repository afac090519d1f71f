"""Latent samplers: the prior and the GMM fitted on training codes (vae_apps/models/samplers.py)."""

import numpy as np
import pytest

from vae_apps_cli.cli import main
from vae_apps.models.samplers import GMMSampler, PriorSampler


def test_gmm_sampler_follows_the_fitted_mixture(rng):
    codes = np.concatenate([rng.normal(-5, 0.5, (500, 2)), rng.normal(5, 1.0, (1500, 2))])
    sampler = GMMSampler.fit(codes, n_components=2, seed=0)
    z = sampler.sample(20000, seed=1)
    left = z[:, 0] < 0
    assert left.mean() == pytest.approx(0.25, abs=0.02)
    assert z[left].std(axis=0) == pytest.approx([0.5, 0.5], rel=0.1)
    assert z[~left].mean(axis=0) == pytest.approx([5, 5], abs=0.1)
    cooler = sampler.sample(20000, seed=1, temperature=0.5)
    assert cooler[cooler[:, 0] > 0].std(axis=0) == pytest.approx([0.5, 0.5], rel=0.1)
    np.testing.assert_array_equal(sampler.sample(5, seed=3), sampler.sample(5, seed=3))


def test_gmm_sampler_saves_plain_arrays(tmp_path, rng):
    sampler = GMMSampler.fit(rng.normal(size=(200, 3)), n_components=3)
    sampler.save(tmp_path / "s.gmm.npz")
    loaded = GMMSampler.load(tmp_path / "s.gmm.npz")
    np.testing.assert_array_equal(loaded.sample(4, seed=0), sampler.sample(4, seed=0))


def test_prior_sampler_temperature(rng):
    z = PriorSampler(4).sample(50000, seed=0, temperature=0.5)
    assert z.std() == pytest.approx(0.5, rel=0.02)


def test_train_writes_a_gmm_sampler_that_generate_uses(tmp_path):
    model = tmp_path / "m.keras"
    assert main(["train", "digits", "--epochs", "1", "--out", str(model), "--filters", "8",
                 "--hidden-units", "16"]) == 0
    assert (tmp_path / "m.gmm.npz").exists()
    assert main(["generate", "--model", str(model), "--sampler", "gmm", "--temperature", "0.8",
                 "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").exists()


def test_a_model_trained_from_python_can_use_the_gmm_sampler(digits, tmp_path, capsys):
    from vae_apps.training.loop import train_vae

    model = tmp_path / "py.keras"
    train_vae(digits.train.x[:300], epochs=1, batch_size=64, out=model, verbose=0,
              filters=(8, 16), hidden_units=(32,), latent_dim=4)
    assert (tmp_path / "py.gmm.npz").is_file()
    assert main(["generate", "--model", str(model), "--out", str(tmp_path / "g.png"),
                 "--sampler", "gmm", "-n", "4"]) == 0
    from vae_apps.errors import UserError

    with pytest.raises(UserError, match="already exists"):
        train_vae(digits.train.x[:300], epochs=1, out=model, verbose=0)  # never overwrites by default


def test_gmm_sampler_in_a_principal_subspace_saves_and_maps_back(tmp_path, rng):
    # codes on a 3-d plane inside 40 dimensions: the sampler's draws stay on it
    basis = np.linalg.qr(rng.normal(size=(40, 3)))[0].T
    codes = 5.0 + rng.normal(size=(400, 3)) @ basis
    sampler = GMMSampler.fit(codes, n_components=2, dims=3)
    assert sampler.latent_dim == 40 and sampler.means.shape == (2, 3)
    sampler.save(tmp_path / "s.gmm.npz")
    loaded = GMMSampler.load(tmp_path / "s.gmm.npz")
    draws = loaded.sample(200, seed=1)
    np.testing.assert_array_equal(draws, sampler.sample(200, seed=1))
    off_plane = (draws - 5.0) - ((draws - 5.0) @ basis.T) @ basis
    assert draws.shape == (200, 40) and np.abs(off_plane).max() < 1e-3
