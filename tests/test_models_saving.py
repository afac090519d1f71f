"""Every model class of the family saves as .keras and loads back (safe_mode) with the same
config and the same outputs, through the one shared check (tests/saving.py)."""

import numpy as np
import pytest

from saving import assert_same_after_reload


def _images(shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype("float32")


@pytest.mark.parametrize("kwargs", [dict(architecture="conv", filters=(8, 16), hidden_units=(16,)),
                                    dict(architecture="dense", hidden_units=(32,)),
                                    dict(architecture="conv", filters=(8,), hidden_units=(16,),
                                         pixel_context=2, likelihood="bernoulli")])
def test_vae_saves_and_loads_with_the_same_codes_and_images(kwargs, tmp_path):
    from vae_apps.models.vae import VAE

    x = _images((6, 8, 8, 1))
    model = VAE(image_shape=(8, 8, 1), latent_dim=3, seed=0, **kwargs)
    z = np.random.default_rng(1).normal(size=(4, 3)).astype("float32")
    assert_same_after_reload(model, lambda m: (*m.encode(x), m.decode(z, seed=3)), tmp_path)


@pytest.mark.parametrize("noise_level_input", [False, True])
def test_fully_conv_vae_saves_its_fitted_calibration_and_denoises_the_same(noise_level_input,
                                                                           tmp_path):
    from vae_apps.models.fully_conv import FullyConvVAE

    model = FullyConvVAE(channels=3, filters=8, latent_channels=2, blocks=(1, 1), seed=0,
                         noise_level_input=noise_level_input, refine_filters=4)
    model.fitted.noise_level_scale, model.fitted.noise_level_offset = 0.9, 0.002
    model.fitted.uncertainty_weights = (1.5, 0.01, 0.2)
    model.fitted.clipped_noise = None if noise_level_input else (1 / 30, 1e-4)
    x = _images((2, 20, 28, 3))
    loaded = assert_same_after_reload(model, lambda m: m.reconstruct(x), tmp_path)
    assert loaded.fitted == model.fitted


def test_semi_supervised_vae_saves_and_loads_with_the_same_classes_and_codes(tmp_path):
    from vae_apps.models.semi_supervised import SemiSupervisedVAE

    x = _images((5, 8, 8, 3))
    model = SemiSupervisedVAE(image_shape=(8, 8, 3), n_classes=3, latent_dim=2, hidden_units=(16,),
                              classifier_units=(8,), pooling="statistics", seed=0,
                              class_names=["cat", "dog", "fox"])
    loaded = assert_same_after_reload(
        model, lambda m: (m.predict_proba(x), *m.encode(x, classes=[0, 1, 2, 0, 1])), tmp_path)
    assert loaded.class_names == ["cat", "dog", "fox"]
