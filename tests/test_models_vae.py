import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import SMALL_NET

from vae_apps import VAE
from vae_apps.models.base import kl_divergence
from vae_apps.models.networks import build_decoder, build_encoder


def _fit(x, y=None, epochs=3, seed=0, **kw):
    keras.utils.set_random_seed(seed)
    model = VAE(x.shape[1:], seed=seed, **{**SMALL_NET, **kw})
    model.compile(keras.optimizers.Adam(3e-3))
    history = model.fit(x, y, epochs=epochs, batch_size=64, verbose=0, shuffle=False)
    return model, history.history


def test_loss_goes_down_on_digits(digits):
    model, history = _fit(digits.train.x, epochs=8)
    assert history["loss"][-1] < 0.75 * history["loss"][0]
    assert set(history) == {"loss", "reconstruction_loss", "kl_loss"}
    val = model.evaluate(digits.test.x, verbose=0, return_dict=True)
    assert val["loss"] == pytest.approx(val["reconstruction_loss"] + val["kl_loss"], rel=1e-4)


def test_validation_metrics_are_prefixed(digits):
    model = VAE(digits.image_shape, **SMALL_NET)
    model.compile("adam")
    history = model.fit(digits.train.x, validation_data=(digits.test.x,), epochs=1, verbose=0)
    assert {"val_loss", "val_reconstruction_loss", "val_kl_loss"} <= set(history.history)


def test_closed_form_kl_matches_monte_carlo(rng):
    mu = rng.normal(size=(3, 5)).astype("float32")
    log_var = rng.normal(scale=0.5, size=(3, 5)).astype("float32")
    closed = keras.ops.convert_to_numpy(kl_divergence(mu, log_var))
    z = mu + np.exp(0.5 * log_var) * rng.standard_normal((200_000, 3, 5))
    log_q = -0.5 * (log_var + (z - mu) ** 2 / np.exp(log_var))
    log_p = -0.5 * z**2
    monte_carlo = (log_q - log_p).sum(-1).mean(0)
    np.testing.assert_allclose(closed, monte_carlo, rtol=0.03, atol=0.01)


def test_pairs_train_toward_the_target_not_the_input(digits):
    x = digits.train.x
    target = 1.0 - x  # a target far from the input
    model, _ = _fit(x, target, epochs=10)
    out = model.reconstruct(digits.test.x)
    to_target = np.abs(out - (1.0 - digits.test.x)).mean()
    to_input = np.abs(out - digits.test.x).mean()
    assert to_target < 0.5 * to_input


def test_same_seed_gives_same_weights_and_samples(digits):
    a, _ = _fit(digits.train.x[:256], epochs=1, seed=3)
    b, _ = _fit(digits.train.x[:256], epochs=1, seed=3)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.sample(5, seed=1), b.sample(5, seed=1))
    assert not np.array_equal(a.sample(5, seed=1), a.sample(5, seed=2))


def test_k_samples_average_the_reconstruction_term(digits):
    x = digits.test.x[:64]
    spreads = {}
    for k in (1, 16):
        model = VAE(digits.image_shape, num_samples=k, seed=0, **SMALL_NET)
        model.set_weights(VAE(digits.image_shape, seed=0, **SMALL_NET).get_weights()) if k > 1 else None
        nll = [keras.ops.convert_to_numpy(model.compute_losses(x, x, training=True)[0]) for _ in range(10)]
        assert nll[0].shape == (64,)
        spreads[k] = np.std(nll, axis=0).mean()
    assert spreads[16] < 0.5 * spreads[1]


def test_warmup_raises_the_kl_weight_linearly(digits):
    model, _ = _fit(digits.train.x[:128], epochs=2, warmup_epochs=4, beta=2.0)
    assert float(model.kl_weight.numpy()) == pytest.approx(2.0 * 2 / 4)


def test_gaussian_likelihood_learns_sigma(digits):
    model, history = _fit(digits.train.x, epochs=3, likelihood="gaussian", learn_sigma=True)
    assert float(model.log_sigma.numpy()) != pytest.approx(np.log(0.1))
    assert np.isfinite(history["loss"]).all()
    assert 0.0 <= model.decode(np.zeros((2, 4))).min() <= model.decode(np.zeros((2, 4))).max() <= 1.0


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (32, 32, 3), (64, 64, 3), (9, 13, 3)])
@pytest.mark.parametrize("architecture", ["conv", "dense"])
def test_networks_fit_any_image_shape(shape, architecture):
    encoder = build_encoder(shape, 6, architecture, filters=(8, 16, 16), hidden_units=(16,))
    decoder = build_decoder(shape, 6, architecture, filters=(8, 16, 16), hidden_units=(16,))
    z_mean, z_log_var = encoder(np.zeros((2, *shape), "float32"))
    assert z_mean.shape == z_log_var.shape == (2, 6)
    assert decoder(z_mean).shape == (2, *shape)


def test_methods_return_numpy_of_the_right_shapes(digits):
    model = VAE(digits.image_shape, **SMALL_NET)
    z_mean, z_log_var = model.encode(digits.test.x)
    assert z_mean.shape == z_log_var.shape == (len(digits.test.x), 4)
    images = model.decode(z_mean)
    assert images.shape == digits.test.x.shape and 0 <= images.min() and images.max() <= 1
    assert model.reconstruct(digits.test.x[:3]).shape == (3, 8, 8, 1)
    assert model.sample(7, seed=0).shape == (7, 8, 8, 1)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="likelihood"):
        VAE((8, 8, 1), likelihood="poisson")
    with pytest.raises(ValueError, match="num_samples"):
        VAE((8, 8, 1), num_samples=0)


def test_config_round_trip_lists_the_constructor_arguments():
    model = VAE((9, 13, 3), latent_dim=5, filters=(4, 8), hidden_units=(16,), beta=0.5,
                num_samples=2, likelihood="gaussian", seed=7)
    clone = VAE.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert clone.image_shape == (9, 13, 3) and clone.filters == (4, 8)


def test_save_then_load_in_a_fresh_process_gives_the_same_outputs(digits, tmp_path):
    model, _ = _fit(digits.train.x[:256], epochs=1)
    path = tmp_path / "m.keras"
    model.save(path)
    x = digits.test.x[:10]
    z = np.random.default_rng(0).normal(size=(4, 4)).astype("float32")
    np.savez(tmp_path / "in.npz", x=x, z=z)
    script = f"""
import numpy as np, keras, vae_apps
m = keras.saving.load_model({str(path)!r})
d = np.load({str(tmp_path / 'in.npz')!r})
mean, log_var = m.encode(d["x"])
np.savez({str(tmp_path / 'out.npz')!r}, mean=mean, log_var=log_var, images=m.decode(d["z"]),
         iterations=int(m.optimizer.iterations.numpy()), n_opt=len(m.optimizer.variables))
"""
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    out = np.load(tmp_path / "out.npz")
    mean, log_var = model.encode(x)
    np.testing.assert_allclose(out["mean"], mean, atol=1e-6)
    np.testing.assert_allclose(out["log_var"], log_var, atol=1e-6)
    np.testing.assert_allclose(out["images"], model.decode(z), atol=1e-6)
    assert int(out["iterations"]) == int(model.optimizer.iterations.numpy()) > 0
    assert int(out["n_opt"]) == len(model.optimizer.variables)
