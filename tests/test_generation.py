import numpy as np
import pytest
from PIL import Image

from vae_apps_cli.cli import main
from vae_apps.plots import image_grid
from vae_apps.samplers import GMMSampler, PriorSampler


@pytest.fixture(scope="module")
def model(trained_digits_model):
    from vae_apps.loading import load_vae

    return load_vae(trained_digits_model)


def test_iwae_bound_is_above_the_elbo_and_tightens_with_k(model, digits):
    from vae_apps.evaluation import elbo_terms, iwae_nll

    x = digits.test.x[:100]
    elbo = np.mean([elbo_terms(model, x, seed=s)["negative_elbo"] for s in range(5)])
    # The bound tightens in expectation: average a few seeds so Monte Carlo noise
    # (~0.02 nats here) does not decide the order.
    nll = {k: np.mean([iwae_nll(model, x, num_samples=k, seed=s, chunk=64) for s in range(4)])
           for k in (1, 10, 200)}
    assert nll[1] == pytest.approx(elbo, rel=0.02)  # K = 1 is the ELBO
    assert nll[200] <= nll[10] <= nll[1] + 0.05
    assert nll[200] < elbo


def test_elbo_terms_add_up(model, digits):
    from vae_apps.evaluation import elbo_terms

    terms = elbo_terms(model, digits.test.x)
    assert terms["negative_elbo"] == pytest.approx(terms["reconstruction"] + terms["kl"])
    assert terms["kl"] > 0


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


def test_grid_layout_is_near_square_with_borders():
    images = np.zeros((10, 5, 6, 1), "float32")
    grid = image_grid(images, border=1)
    assert grid.shape == (3 * 6 + 1, 4 * 7 + 1, 1)  # 4 columns x 3 rows
    assert grid[0].min() == 1.0 and grid[1, 1] == 0.0
    assert image_grid(images, columns=5).shape == (2 * 6 + 1, 5 * 7 + 1, 1)


def test_generate_writes_a_reproducible_grid(trained_digits_model, tmp_path, capsys):
    args = ["generate", "--model", str(trained_digits_model), "-n", "12", "--seed", "4"]
    assert main([*args, "--out", str(tmp_path / "a.png"), "--save-each", str(tmp_path / "each")]) == 0
    assert main([*args, "--out", str(tmp_path / "b.png")]) == 0
    a, b = np.asarray(Image.open(tmp_path / "a.png")), np.asarray(Image.open(tmp_path / "b.png"))
    np.testing.assert_array_equal(a, b)
    assert len(list((tmp_path / "each").glob("sample_*.png"))) == 12
    scale = 32 // 8
    assert a.shape == (3 * (8 + 1) * scale + scale, 4 * (8 + 1) * scale + scale)
    assert main([*args, "--seed", "5", "--out", str(tmp_path / "c.png")]) == 0
    assert not np.array_equal(a, np.asarray(Image.open(tmp_path / "c.png")))


def test_generate_from_the_gmm_sampler_needs_a_fitted_one(trained_digits_model, tmp_path, capsys):
    import shutil

    alone = tmp_path / "alone.keras"  # the model without the sampler file train_vae wrote
    shutil.copy(trained_digits_model, alone)
    assert main(["generate", "--model", str(alone), "--sampler", "gmm",
                 "--out", str(tmp_path / "g.png")]) == 2
    assert "no fitted GMM sampler" in capsys.readouterr().err


def test_train_writes_a_gmm_sampler_that_generate_uses(tmp_path):
    model = tmp_path / "m.keras"
    assert main(["train", "digits", "--epochs", "1", "--out", str(model), "--filters", "8",
                 "--hidden-units", "16"]) == 0
    assert (tmp_path / "m.gmm.npz").exists()
    assert main(["generate", "--model", str(model), "--sampler", "gmm", "--temperature", "0.8",
                 "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").exists()


def test_interpolation_and_latent_map(trained_digits_model, digits, tmp_path):
    for i, name in enumerate(("a.png", "b.png")):
        Image.fromarray(np.round(digits.test.x[i, ..., 0] * 255).astype("uint8")).save(tmp_path / name)
    base = ["generate", "--model", str(trained_digits_model)]
    assert main([*base, "--interpolate", str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                 "--steps", "6", "--out", str(tmp_path / "walk.png")]) == 0
    strip = np.asarray(Image.open(tmp_path / "walk.png"))
    assert strip.shape[1] > 7 * strip.shape[0]  # 8 tiles in one row
    assert main([*base, "--latent-map", "digits", "--out", str(tmp_path / "map.png")]) == 0
    assert Image.open(tmp_path / "map.png").size[0] > 300


def test_manifold_for_a_two_dimensional_latent_space(digits):
    from vae_apps import VAE
    from vae_apps.generation import interpolate, manifold

    model = VAE(digits.image_shape, latent_dim=2, filters=(8,), hidden_units=(16,))
    assert manifold(model, n=5).shape == (25, 8, 8, 1)
    assert interpolate(model, digits.test.x[0], digits.test.x[1], steps=4, mode="slerp").shape == (4, 8, 8, 1)


def test_evaluate_prints_and_writes_json(trained_digits_model, tmp_path, capsys):
    import json

    out = tmp_path / "m.json"
    assert main(["evaluate", "digits", "--model", str(trained_digits_model), "--iwae-samples", "50",
                 "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert set(figures) >= {"negative_elbo", "reconstruction", "kl", "iwae_nll_k50", "active_units"}
    assert figures["iwae_nll_k50"] <= figures["negative_elbo"] + 0.5
    assert "negative_elbo" in capsys.readouterr().out


def test_evaluate_binarize_scores_binary_images(trained_digits_model, tmp_path):
    import json

    figures = {}
    for flag in ([], ["--binarize"]):
        out = tmp_path / f"m{len(flag)}.json"
        assert main(["evaluate", "digits", "--model", str(trained_digits_model), "--iwae-samples",
                     "5", "--json", str(out), *flag]) == 0
        figures[bool(flag)] = json.loads(out.read_text())
    # Binary pixels cost other nats than grey levels: the flag changed what was scored.
    assert figures[True]["negative_elbo"] != pytest.approx(figures[False]["negative_elbo"], rel=1e-3)


def test_a_model_trained_from_python_can_use_the_gmm_sampler(digits, tmp_path, capsys):
    from vae_apps.training import train_vae

    model = tmp_path / "py.keras"
    train_vae(digits.train.x[:300], epochs=1, batch_size=64, out=model, verbose=0,
              filters=(8, 16), hidden_units=(32,), latent_dim=4)
    assert (tmp_path / "py.gmm.npz").is_file()
    assert main(["generate", "--model", str(model), "--out", str(tmp_path / "g.png"),
                 "--sampler", "gmm", "-n", "4"]) == 0
    from vae_apps.errors import UserError

    with pytest.raises(UserError, match="already exists"):
        train_vae(digits.train.x[:300], epochs=1, out=model, verbose=0)  # never overwrites by default
